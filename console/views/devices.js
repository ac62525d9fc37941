// Devices: GET /api/v1/devices?limit=&cursor=&q=&sort= (server-side search,
// sort and keyset paging), refreshed by polling; registering a device.
import * as api from '../api.js';
import { h, replace, time } from '../dom.js';

const PAGE = 25;
// kept across visits in this tab, so "back" returns to the same page
const state = { q: '', sort: '-last_seen', cursors: [null] };

const SORTS = [['device_id', 'Device ID'], ['created_at', 'Registered'], ['last_seen', 'Last seen']];

export function model(d) {
  const di = d.devinfo || {};
  const man = di['./DevInfo/Man'] || '';
  const mod = di['./DevInfo/Mod'] || '';
  return [man, mod].filter(Boolean).join(' / ') || '—';
}

export function osVersion(d) {
  const di = d.devinfo || {};
  return (d.enrollment && d.enrollment.os_version) || di['./DevDetail/SwV']
    || di['./DevInfo/SwV'] || di['./DevInfo/FwV'] || '—';
}

export function displayName(d) {
  return (d.enrollment && d.enrollment.device_name) || d.username || '—';
}

// The row's "profiles" (GET /devices?limit=), "—" from a backend without it.
function profileSummary(d) {
  const p = d.profiles;
  if (!p) return '—';
  if (typeof p === 'string') return p;
  // {"verified": 2, "failed": 1} -> "2 verified, 1 failed"; {} -> "none"
  return Object.entries(p).filter(([, v]) => v).map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
}

export async function devices(main, ctx) {
  const search = h('input', {
    type: 'search', id: 'device-search', value: state.q, placeholder: 'id, user, manufacturer or model',
    'aria-label': 'Search devices',
  });
  const sortSel = h('select', { id: 'device-sort', 'aria-label': 'Sort by' },
    SORTS.flatMap(([k, label]) => [
      h('option', { value: k, selected: state.sort === k }, `${label} ↑`),
      h('option', { value: `-${k}`, selected: state.sort === `-${k}` }, `${label} ↓`)]));
  const tableBox = h('div', { class: 'table-wrap', id: 'devices-table' });
  const pager = h('div', { class: 'pager' });
  const status = h('p', { class: 'muted small', 'aria-live': 'polite', id: 'devices-status' });

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.q = search.value.trim(); state.cursors = [null]; load(); }, 250);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { clearTimeout(timer); state.q = search.value.trim(); state.cursors = [null]; load(); }
  });
  sortSel.addEventListener('change', () => { state.sort = sortSel.value; state.cursors = [null]; load(); });

  const header = (key, label) => {
    const active = state.sort.replace(/^-/, '') === key;
    const desc = state.sort.startsWith('-');
    const b = h('button', { type: 'button', class: 'th-sort', 'data-sort': key },
      label, active ? (desc ? ' ↓' : ' ↑') : '');
    b.addEventListener('click', () => {
      state.sort = active && !desc ? `-${key}` : key;
      sortSel.value = state.sort;
      state.cursors = [null];
      load();
    });
    return h('th', { scope: 'col', 'aria-sort': active ? (desc ? 'descending' : 'ascending') : null }, b);
  };

  let lastKey = null;
  async function load() {
    const cursor = state.cursors[state.cursors.length - 1];
    const qs = new URLSearchParams({ limit: String(PAGE), sort: state.sort });
    if (state.q) qs.set('q', state.q);
    if (cursor) qs.set('cursor', cursor);
    let page;
    try {
      page = await api.get(`/devices?${qs}`);
    } catch (e) {
      if (ctx.live()) replace(status, h('span', { class: 'error', role: 'alert' }, e.message));
      return;
    }
    if (!ctx.live()) return;
    // a poll that brings nothing new leaves the table (and the focus) alone
    const key = JSON.stringify([state, page, Math.floor(Date.now() / 30000)]);
    if (key === lastKey) return;
    lastKey = key;
    const rows = page.devices.map((d) => h('tr', { 'data-device': d.device_id },
      h('td', {}, h('a', { href: `#/device/${encodeURIComponent(d.device_id)}` }, d.device_id)),
      h('td', {}, displayName(d)),
      h('td', { class: 'model' }, model(d)),
      h('td', {}, osVersion(d)),
      h('td', {}, time(d.last_seen)),
      h('td', {}, (d.enrollment && d.enrollment.state) || (d.enrollment === null ? 'registered' : '—')),
      h('td', {}, profileSummary(d))));
    replace(tableBox, h('table', { class: 'devices' },
      h('caption', { class: 'sr-only' }, 'Devices'),
      h('thead', {}, h('tr', {},
        header('device_id', 'Device ID'), h('th', { scope: 'col' }, 'Name'),
        h('th', { scope: 'col' }, 'Manufacturer / model'), h('th', { scope: 'col' }, 'OS version'),
        header('last_seen', 'Last seen'), h('th', { scope: 'col' }, 'Enrollment'),
        h('th', { scope: 'col' }, 'Profiles'))),
      h('tbody', {}, rows.length ? rows
        : h('tr', {}, h('td', { colspan: '7', class: 'muted' }, state.q ? 'No device matches.' : 'No devices yet.')))));
    const n = state.cursors.length;
    const prev = h('button', { type: 'button', id: 'page-prev', disabled: n === 1 }, '← Previous');
    const next = h('button', { type: 'button', id: 'page-next', disabled: !page.next_cursor }, 'Next →');
    prev.addEventListener('click', () => { state.cursors.pop(); load(); });
    next.addEventListener('click', () => { state.cursors.push(page.next_cursor); load(); });
    replace(pager, prev, h('span', {}, ` page ${n} `), next);
    status.textContent = `${page.devices.length} device(s) on this page${state.q ? ` matching “${state.q}”` : ''}.`;
  }

  replace(main, h('h1', {}, 'Devices'),
    h('div', { class: 'toolbar' }, h('label', { for: 'device-search' }, 'Search'), search,
      h('label', { for: 'device-sort' }, 'Sort'), sortSel),
    status, tableBox, pager, ctx.canWrite ? registerForm(ctx, load) : null);
  ctx.poll(load);
}

function registerForm(ctx, reload) {
  const f = (id, label, type = 'text') => [h('label', { for: id }, label),
    h('input', { id, name: id, type, required: true, autocomplete: 'off' })];
  const error = h('p', { class: 'error', role: 'alert', id: 'register-error' });
  const form = h('form', { class: 'card form-grid write', id: 'register-form' },
    h('h2', {}, 'Register a device'),
    f('reg-id', 'Device ID'), f('reg-user', 'Username'), f('reg-pass', 'Password', 'password'),
    h('button', { type: 'submit' }, 'Register'), error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    try {
      await api.post('/devices', {
        device_id: form.elements['reg-id'].value, username: form.elements['reg-user'].value,
        password: form.elements['reg-pass'].value,
      });
      form.reset();
      reload();
    } catch (err) {
      error.textContent = err.message;
    }
  });
  return h('details', { class: 'write' }, h('summary', {}, 'Register a device'), form);
}
