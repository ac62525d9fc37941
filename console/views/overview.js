// Fleet overview: GET /api/v1/stats (and the profiles' status where that
// API exists), refreshed by polling; the chart is drawn here as SVG.
import * as api from '../api.js';
import { h, s, replace } from '../dom.js';

function tile(label, value, id) {
  return h('div', { class: 'tile' },
    h('div', { class: 'tile-value', id, 'data-count': String(value) }, String(value)),
    h('div', { class: 'tile-label' }, label));
}

// states in the order they happen, unknown ones after
const STATES = ['queued', 'sent', 'done', 'pending', 'verifying', 'verified', 'enrolled', 'unenrolled', 'none', 'failed'];
const rank = (k) => (STATES.includes(k) ? STATES.indexOf(k) : STATES.length);

function counts(title, obj, prefix) {
  if (!obj || typeof obj !== 'object') return null;
  return h('section', { class: 'card', id: `${prefix}-counts` }, h('h2', {}, title),
    h('div', { class: 'tiles' }, Object.entries(obj).sort(([a], [b]) => rank(a) - rank(b)).map(([k, v]) =>
      tile(k, v, `${prefix}-${k}`))));
}

export function chart(buckets) {
  const W = 720, H = 200, pad = { l: 36, r: 8, t: 10, b: 30 };
  const max = Math.max(1, ...buckets.map((b) => b.checkins));
  const bw = (W - pad.l - pad.r) / Math.max(1, buckets.length);
  const y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', id: 'checkins-chart',
    'aria-label': `Check-ins per hour over the last 24 hours, at most ${max} in an hour`,
  });
  for (const v of [0, Math.ceil(max / 2), max]) {
    svg.appendChild(s('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: 'grid' }));
    svg.appendChild(s('text', { x: pad.l - 4, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, String(v)));
  }
  buckets.forEach((b, i) => {
    const hour = new Date(b.hour);
    const label = `${String(hour.getUTCHours()).padStart(2, '0')}:00`;
    const bar = s('rect', {
      x: pad.l + i * bw + 1, width: Math.max(1, bw - 2), y: y(b.checkins),
      height: Math.max(0, H - pad.b - y(b.checkins)), class: 'bar',
      'data-checkins': String(b.checkins),
    }, s('title', {}, `${label} UTC: ${b.checkins} check-ins`));
    svg.appendChild(bar);
    if (i % 3 === 0 || i === buckets.length - 1) {
      svg.appendChild(s('text', { x: pad.l + i * bw + bw / 2, y: H - 10, class: 'axis', 'text-anchor': 'middle' }, label));
    }
  });
  return svg;
}

export async function overview(main, ctx) {
  const body = h('div', { id: 'overview-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const updated = h('p', { class: 'muted small', 'aria-live': 'polite' });
  replace(main, h('h1', {}, 'Fleet overview'), updated, body);

  ctx.poll(async () => {
    let st;
    try {
      st = await api.get('/stats');
    } catch (e) {
      if (ctx.live()) replace(body, h('p', { class: 'error', role: 'alert' }, e.message));
      return;
    }
    let profileCounts = st.profiles || null;
    if (!profileCounts && ctx.session.features.profiles) {
      profileCounts = await profileTotals().catch(() => null);
    }
    if (!ctx.live()) return;
    const total = st.checkins_per_hour.reduce((a, b) => a + b.checkins, 0);
    replace(body,
      h('section', { class: 'card' }, h('h2', {}, 'Devices'),
        h('div', { class: 'tiles' },
          tile('devices', st.devices, 'stat-devices'),
          tile('seen in the last hour', st.seen.hour, 'stat-seen-hour'),
          tile('seen in the last day', st.seen.day, 'stat-seen-day'),
          tile('seen in the last week', st.seen.week, 'stat-seen-week'),
          tile('never seen', st.never_seen, 'stat-never-seen'))),
      counts('Enrollment state', st.enrollment, 'enrollment'),
      counts('Profile state (devices × profiles)', profileCounts, 'profiles'),
      counts('Commands', st.commands, 'commands'),
      h('section', { class: 'card' },
        h('h2', {}, `Check-ins per hour, last 24 h (${total} in all)`),
        chart(st.checkins_per_hour)));
    updated.textContent = `Updated ${new Date().toLocaleTimeString()} — refreshes every few seconds.`;
  });
}

// Sum of GET /profiles/{name}/status counts over every profile.
async function profileTotals() {
  const list = await api.get('/profiles');
  const sum = { pending: 0, verifying: 0, verified: 0, failed: 0 };
  const all = await Promise.all(list.map((p) => api.get(`/profiles/${api.path(p.name)}/status`)));
  for (const st of all) {
    for (const [k, v] of Object.entries(st.counts || {})) sum[k] = (sum[k] || 0) + v;
  }
  return sum;
}
