// Profiles: list, upload (settings or raw SyncML, the server's validation
// error shown next to its line), assignments, per-profile status with the
// failing devices one click away.  Shown only when the backend has the
// profiles API (GET /api/v1/profiles is not 404).
import * as api from '../api.js';
import { h, replace, time } from '../dom.js';

const ORDER = ['pending', 'verifying', 'verified', 'failed'];
const EXAMPLE = JSON.stringify([{ target: './Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', data: '0' }], null, 2);

// The text with its lines numbered and line `bad` (1-based) marked.
export function linesView(text, bad) {
  return h('ol', { class: 'lines', id: 'upload-lines' }, text.split('\n').map((line, i) =>
    h('li', { class: i + 1 === bad ? 'bad' : null, 'aria-current': i + 1 === bad ? 'true' : null }, line || ' ')));
}

function uploadForm(ctx, reload, existing) {
  const name = h('input', { id: 'profile-name', name: 'name', required: true, autocomplete: 'off', value: existing ? existing.name : '' });
  const mode = h('select', { id: 'profile-mode', name: 'mode' },
    h('option', { value: 'settings' }, 'Settings (JSON)'), h('option', { value: 'syncml' }, 'Raw SyncML'));
  const body = h('textarea', { id: 'profile-body', name: 'body', rows: 10, spellcheck: 'false' });
  body.value = existing ? (existing.syncml || JSON.stringify(existing.settings.map((x) => {
    const o = { target: x.target, format: x.format, data: x.data };
    if (x.type) o.type = x.type;
    return o;
  }), null, 2)) : EXAMPLE;
  if (existing && existing.syncml) mode.value = 'syncml';
  const error = h('div', { class: 'error', role: 'alert', id: 'profile-error' });
  const form = h('form', { class: 'card form-grid write', id: 'profile-form' },
    h('h2', {}, existing ? `Change ${existing.name}` : 'Upload a profile'),
    h('label', { for: 'profile-name' }, 'Name'), name,
    h('label', { for: 'profile-mode' }, 'Format'), mode,
    h('label', { for: 'profile-body' }, 'Settings or SyncML'), body,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'profile-submit' }, existing ? 'Save' : 'Upload')), error);
  if (existing) name.readOnly = true;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    replace(error);
    const n = name.value.trim();
    if (!n) { error.textContent = 'Give the profile a name.'; return; }
    const payload = { name: n };
    if (mode.value === 'syncml') {
      payload.syncml = body.value;
    } else {
      try { payload.settings = JSON.parse(body.value); } catch (err) {
        error.textContent = `Settings are not JSON: ${err.message}`; return;
      }
      if (!Array.isArray(payload.settings)) { error.textContent = 'Settings: a JSON array of {target, format, type?, data}.'; return; }
    }
    try {
      if (existing) await api.put(`/profiles/${api.path(n)}`, payload);
      else await api.post('/profiles', payload);
      reload(n);
    } catch (err) {
      const line = err.body && Number.isInteger(err.body.line) ? err.body.line : null;
      replace(error, h('p', {}, `The server refused it (${err.status})${line ? ` at line ${line}` : ''}: ${err.message}`),
        line ? linesView(body.value, line) : null);
    }
  });
  return form;
}

export async function profiles(main, ctx) {
  const list = h('div', { id: 'profiles-list' });
  replace(main, h('h1', {}, 'Profiles'), list,
    ctx.canWrite ? uploadForm(ctx, (n) => ctx.go(`#/profile/${encodeURIComponent(n)}`)) : null);
  ctx.poll(async () => {
    const ps = await api.get('/profiles');
    const statuses = await Promise.all(ps.map((p) => api.get(`/profiles/${api.path(p.name)}/status`).catch(() => null)));
    if (!ctx.live()) return;
    replace(list, ps.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Name', 'Revision', 'Settings', 'Assigned to', 'Pending', 'Verifying', 'Verified', 'Failed', 'Updated']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ps.map((p, i) => {
        const c = (statuses[i] && statuses[i].counts) || {};
        const a = p.assignments || { groups: [], devices: [] };
        return h('tr', { 'data-profile': p.name },
          h('td', {}, h('a', { href: `#/profile/${encodeURIComponent(p.name)}` }, p.name)),
          h('td', {}, String(p.revision)), h('td', {}, String(p.setting_count ?? '—')),
          h('td', {}, [...a.groups.map((g) => `group ${g}`), ...a.devices].join(', ') || '—'),
          ['pending', 'verifying', 'verified', 'failed'].map((k) => h('td', { class: `count-${k}` }, String(c[k] ?? 0))),
          h('td', {}, time(p.updated_at)));
      }))))
      : h('p', { class: 'muted' }, 'No profiles yet.'));
  });
}

function assignForm(ctx, name, reload) {
  const kind = h('select', { id: 'assign-kind' }, h('option', { value: 'groups' }, 'Group'), h('option', { value: 'devices' }, 'Device'));
  const who = h('input', { id: 'assign-to', autocomplete: 'off', required: true });
  const error = h('p', { class: 'error', role: 'alert', id: 'assign-error' });
  const act = (method) => async () => {
    error.textContent = '';
    if (!who.value.trim()) { error.textContent = 'Name a group or a device.'; return; }
    try {
      await api.call(method, `/profiles/${api.path(name)}/assignments/${kind.value}/${api.path(who.value.trim())}`, method === 'PUT' ? {} : undefined);
      reload();
    } catch (e) { error.textContent = e.message; }
  };
  const assign = h('button', { type: 'button', id: 'assign-put' }, 'Assign');
  const unassign = h('button', { type: 'button', id: 'assign-delete' }, 'Unassign');
  assign.addEventListener('click', act('PUT'));
  unassign.addEventListener('click', act('DELETE'));
  return h('div', { class: 'card form-grid write' }, h('h2', {}, 'Assignments'),
    h('label', { for: 'assign-kind' }, 'To'), kind, h('label', { for: 'assign-to' }, 'Name or device ID'), who,
    h('div', { class: 'actions' }, assign, unassign), error);
}

export async function profile(main, ctx, [name]) {
  const enc = api.path(name);
  const status = h('section', { class: 'card', id: 'profile-status' });
  const detail = h('section', { class: 'card', id: 'profile-detail' });
  let p = await api.get(`/profiles/${enc}`);
  const del = ctx.canWrite ? h('button', { type: 'button', class: 'danger', id: 'profile-delete' }, 'Delete profile') : null;
  if (del) del.addEventListener('click', async () => {
    if (!window.confirm(`Delete profile ${name}?`)) return;
    try { await api.del(`/profiles/${enc}`); ctx.go('#/profiles'); } catch (e) { window.alert(e.message); }
  });
  replace(main, h('p', {}, h('a', { href: '#/profiles' }, '← Profiles')), h('h1', {}, name), status, detail,
    ctx.canWrite ? assignForm(ctx, name, () => {}) : null,
    ctx.canWrite ? uploadForm(ctx, () => {}, p) : null, del);
  ctx.poll(async () => {
    const [st, fresh] = await Promise.all([api.get(`/profiles/${enc}/status`), api.get(`/profiles/${enc}`)]);
    if (!ctx.live()) return;
    p = fresh;
    replace(status, h('h2', {}, `Status (revision ${st.revision}, ${st.devices} device(s))`),
      h('div', { class: 'tiles' }, ORDER.map((k) => [k, st.counts[k] ?? 0]).map(([k, v]) => h('div', { class: 'tile' },
        h('div', { class: 'tile-value', id: `status-${k}`, 'data-count': String(v) }, String(v)), h('div', { class: 'tile-label' }, k)))),
      st.failing.length ? h('div', {}, h('h3', {}, 'Failing devices'), h('ul', { id: 'failing' }, st.failing.map((f) => h('li', {},
        h('a', { href: `#/device/${encodeURIComponent(f.device_id)}` }, f.device_id), ': ',
        f.settings.map((x) => `${x.target} → ${x.status ?? '—'} ${x.reason || ''}`).join('; '))))) : null);
    const a = p.assignments || { groups: [], devices: [] };
    replace(detail, h('h2', {}, 'Settings'),
      h('p', {}, `Assigned to groups: ${a.groups.join(', ') || '—'}; devices: ${a.devices.join(', ') || '—'}`),
      h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, ['Verb', 'Target', 'Format', 'Type', 'Data'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, (p.settings || []).map((x) => h('tr', {}, h('td', {}, x.verb || 'Replace'), h('td', { class: 'target' }, x.target),
          h('td', {}, x.format || '—'), h('td', {}, x.type || '—'), h('td', {}, x.data ?? '—')))))));
  });
}
