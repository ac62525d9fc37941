// Groups of devices (part of the profiles API): list, create, delete,
// add and remove members.
import * as api from '../api.js';
import { h, replace } from '../dom.js';

export async function groups(main, ctx) {
  const list = h('div', { id: 'groups-list' });
  const error = h('p', { class: 'error', role: 'alert', id: 'group-error' });
  const name = h('input', { id: 'group-name', autocomplete: 'off' });
  const dev = h('input', { id: 'group-device', autocomplete: 'off' });
  const grp = h('input', { id: 'group-target', autocomplete: 'off' });
  const run = async (fn) => { error.textContent = ''; try { await fn(); await load(); } catch (e) { error.textContent = e.message; } };
  const btn = (label, id, fn) => { const b = h('button', { type: 'button', id }, label); b.addEventListener('click', () => run(fn)); return b; };
  async function load() {
    const gs = await api.get('/groups');
    if (!ctx.live()) return;
    replace(list, gs.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Group', 'Devices', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, gs.map((g) => h('tr', { 'data-group': g.name }, h('td', {}, g.name),
        h('td', {}, Array.isArray(g.devices) ? g.devices.map((d, i) => [i ? ', ' : '',
          h('a', { href: `#/device/${encodeURIComponent(d)}` }, d)]) : String(g.device_count ?? '—')),
        h('td', {}, ctx.canWrite ? btn('Delete', null, () => api.del(`/groups/${api.path(g.name)}`)) : ''))))))
      : h('p', { class: 'muted' }, 'No groups yet.'));
  }
  replace(main, h('h1', {}, 'Groups'), list, ctx.canWrite ? h('div', { class: 'grid2 write' },
    h('div', { class: 'card form-grid' }, h('h2', {}, 'New group'), h('label', { for: 'group-name' }, 'Name'), name,
      h('div', { class: 'actions' }, btn('Create', 'group-create', () => api.post('/groups', { name: name.value.trim() })))),
    h('div', { class: 'card form-grid' }, h('h2', {}, 'Members'), h('label', { for: 'group-target' }, 'Group'), grp,
      h('label', { for: 'group-device' }, 'Device ID'), dev,
      h('div', { class: 'actions' },
        btn('Add', 'member-add', () => api.put(`/groups/${api.path(grp.value.trim())}/devices/${api.path(dev.value.trim())}`)),
        btn('Remove', 'member-remove', () => api.del(`/groups/${api.path(grp.value.trim())}/devices/${api.path(dev.value.trim())}`))))) : null,
  error);
  ctx.poll(load);
}
