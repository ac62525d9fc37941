// One device: DevInfo, enrollment, profiles and groups (where those APIs
// exist), commands with their results, alerts, and queueing a command.
import * as api from '../api.js';
import { h, replace, time } from '../dom.js';
import { dataView } from '../format.js';
import { displayName, model } from './devices.js';

const VERBS = ['Get', 'Replace', 'Add', 'Delete', 'Exec', 'Copy', 'Alert', 'Atomic', 'Sequence'];
const WITH_TARGET = ['Get', 'Replace', 'Add', 'Delete', 'Exec', 'Copy'];
const WITH_ITEM = ['Get', 'Replace', 'Add', 'Delete', 'Exec'];
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

function dl(obj, id) {
  const entries = Object.entries(obj || {}).filter(([, v]) => v !== undefined);
  if (!entries.length) return h('p', { class: 'muted' }, 'Nothing reported yet.');
  return h('dl', { class: 'kv', id }, entries.flatMap(([k, v]) => [
    h('dt', {}, k),
    h('dd', {}, v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v ?? '—'))]));
}

function stateBadge(st) { return h('span', { class: `badge state-${st}` }, st); }

function commandRows(list, depth = 0) {
  return list.flatMap((c) => [
    h('tr', { 'data-command': c.id, class: depth ? 'nested' : null },
      h('td', {}, c.id),
      h('td', {}, depth ? `${'↳ '.repeat(depth)}${c.verb}` : c.verb),
      h('td', { class: 'target' }, c.target || c.source || (c.verb === 'Alert' ? `code ${c.data}` : '')),
      h('td', {}, c.verb === 'Alert' ? (c.text || '') : dataView(c.data, c.format)),
      h('td', {}, stateBadge(c.state)),
      h('td', { class: 'status' }, c.status === null || c.status === undefined ? '—' : String(c.status)),
      h('td', { class: 'results' }, (c.results || []).length
        ? h('ul', { class: 'plain' }, c.results.map((r) => h('li', {},
          r.source && r.source !== c.target ? h('div', { class: 'muted small' }, r.source) : null,
          dataView(r.data, r.format),
          r.format || r.type ? h('div', { class: 'muted small' }, [r.format, r.type].filter(Boolean).join(' · ')) : null)))
        : (c.reason ? h('span', { class: 'muted' }, c.reason) : '—'),
        (c.alerts || []).length ? h('div', { class: 'small' }, `alerts: ${c.alerts.map((a) => a.code).join(', ')}`) : null),
      h('td', {}, time(c.updated_at))),
    ...commandRows(c.commands || [], depth + 1)]);
}

function commandsTable(list) {
  if (!list.length) return h('p', { class: 'muted' }, 'No commands yet.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'commands' },
    h('thead', {}, h('tr', {}, ['Id', 'Verb', 'Target', 'Data', 'State', 'Status', 'Results', 'Updated']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, commandRows([...list].reverse()))));
}

function alertsTable(list) {
  if (!list.length) return h('p', { class: 'muted' }, 'No alerts.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'alerts' },
    h('thead', {}, h('tr', {}, ['Id', 'Code', 'Correlator', 'Items', 'Received']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, [...list].reverse().map((a) => h('tr', {},
      h('td', {}, a.id), h('td', {}, a.code), h('td', {}, a.correlator || '—'),
      h('td', {}, h('ul', { class: 'plain' }, (a.items || []).map((i) => h('li', {},
        h('div', { class: 'muted small' }, [i.source, i.type, i.mark].filter(Boolean).join(' · ')),
        dataView(i.data, i.format))))),
      h('td', {}, time(a.received_at)))))));
}

function profilesView(list) {
  if (!list.length) return h('p', { class: 'muted' }, 'No profile applies to this device.');
  return h('div', {}, list.map((p) => h('div', { class: 'profile-on-device', 'data-profile': p.name },
    h('h3', {}, h('a', { href: `#/profile/${encodeURIComponent(p.name)}` }, p.name), ' ',
      stateBadge(p.state), h('span', { class: 'muted small' }, ` revision ${p.revision}`),
      p.assigned ? h('span', { class: 'muted small' }, ` — ${[p.assigned.device ? 'assigned directly' : null,
        ...(p.assigned.groups || []).map((g) => `group ${g}`)].filter(Boolean).join(', ')}`) : null),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Setting', 'State', 'Status', 'Reason', 'Checked'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, (p.settings || []).map((st) => h('tr', {},
        h('td', { class: 'target' }, st.target), h('td', {}, stateBadge(st.state)),
        h('td', {}, st.status === null || st.status === undefined ? '—' : String(st.status)),
        h('td', {}, st.reason || '—'), h('td', {}, time(st.checked_at))))))))));
}

// The body POST /commands takes, from the form; throws Error on bad input.
export function commandFromForm(f) {
  const verb = f.verb;
  if (!VERBS.includes(verb)) throw new Error('Choose a verb.');
  const cmd = { verb };
  const target = f.target.trim();
  if (WITH_TARGET.includes(verb)) {
    if (!target) throw new Error(`${verb} needs a target (a node URI such as ./DevDetail/SwV).`);
    if (target.startsWith('/')) throw new Error('The target must not start with "/": use ./…');
    cmd.target = target;
  }
  if (verb === 'Copy') {
    if (!f.source.trim()) throw new Error('Copy needs a source node.');
    cmd.source = f.source.trim();
  }
  if (WITH_ITEM.includes(verb)) {
    for (const k of ['format', 'type']) if (f[k].trim()) cmd[k] = f[k].trim();
    if (f.data !== '') cmd.data = f.data;
    if (verb === 'Exec' && f.correlator.trim()) cmd.correlator = f.correlator.trim();
  }
  if (verb === 'Alert') {
    const code = f.data.trim();
    if (!/^\d{4}$/.test(code)) throw new Error('An Alert needs its code as data (1100–1104, or 1223 to end the session).');
    cmd.data = code;
    if (code !== '1223') {
      if (!f.text.trim()) throw new Error('A user-interaction Alert needs the text to show.');
      cmd.text = f.text;
      const choices = f.choices.split('\n').map((x) => x.trim()).filter(Boolean);
      if (code === '1103' || code === '1104') {
        if (!choices.length) throw new Error('Alerts 1103 and 1104 need choices, one a line.');
        cmd.choices = choices;
      }
      if (f.options.trim()) cmd.options = f.options.trim();
    }
  }
  if (verb === 'Atomic' || verb === 'Sequence') {
    let nested;
    try { nested = JSON.parse(f.commands || ''); } catch (e) { throw new Error(`Nested commands: not JSON (${e.message}).`); }
    if (!Array.isArray(nested) || !nested.length) throw new Error('Nested commands: a non-empty JSON array of commands.');
    cmd.commands = nested;
  }
  for (const k of ['data', 'format', 'type', 'text']) {
    if (typeof cmd[k] === 'string' && CONTROL.test(cmd[k])) {
      throw new Error(`"${k}" holds control characters: send binary data base64-encoded with format b64.`);
    }
  }
  return cmd;
}

function queueForm(id, onQueued) {
  const field = (name, label, attrs = {}) => h('div', { class: `field field-${name}` },
    h('label', { for: `cmd-${name}` }, label),
    attrs.textarea ? h('textarea', { id: `cmd-${name}`, name, rows: attrs.rows || 3, spellcheck: 'false' })
      : h('input', { id: `cmd-${name}`, name, type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: attrs.placeholder || '' }));
  const verb = h('select', { id: 'cmd-verb', name: 'verb' }, VERBS.map((v) => h('option', { value: v }, v)));
  const error = h('p', { class: 'error', role: 'alert', id: 'cmd-error' });
  const ok = h('p', { class: 'ok', 'aria-live': 'polite', id: 'cmd-ok' });
  const form = h('form', { class: 'card form-grid write', id: 'queue-form', novalidate: true },
    h('h2', {}, 'Queue a command'),
    h('div', { class: 'field' }, h('label', { for: 'cmd-verb' }, 'Verb'), verb),
    field('target', 'Target', { placeholder: './DevDetail/SwV' }),
    field('source', 'Source (Copy)'),
    field('format', 'Format', { placeholder: 'chr, int, b64, node, xml…' }),
    field('type', 'Type', { placeholder: 'text/plain' }),
    field('data', 'Data (Alert: its code)', { textarea: true }),
    field('correlator', 'Correlator (Exec)'),
    field('text', 'Text (Alert)'),
    field('choices', 'Choices (Alert 1103/1104, one a line)', { textarea: true }),
    field('options', 'Options (Alert, e.g. MINDT=10&DR=1)'),
    field('commands', 'Nested commands (Atomic/Sequence, JSON array)', { textarea: true, rows: 5 }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'cmd-submit' }, 'Queue')), error, ok);
  const show = () => {
    const v = verb.value;
    const on = {
      target: WITH_TARGET.includes(v), source: v === 'Copy', format: WITH_ITEM.includes(v),
      type: WITH_ITEM.includes(v), data: WITH_ITEM.includes(v) || v === 'Alert', correlator: v === 'Exec',
      text: v === 'Alert', choices: v === 'Alert', options: v === 'Alert', commands: v === 'Atomic' || v === 'Sequence',
    };
    for (const [k, shown] of Object.entries(on)) form.querySelector(`.field-${k}`).hidden = !shown;
  };
  verb.addEventListener('change', show);
  show();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    ok.textContent = '';
    const values = {};
    for (const k of ['verb', 'target', 'source', 'format', 'type', 'data', 'correlator', 'text', 'choices', 'options', 'commands']) {
      values[k] = form.elements[k].value;
    }
    let cmd;
    try { cmd = commandFromForm(values); } catch (err) { error.textContent = err.message; return; }
    try {
      const c = await api.post(`/devices/${api.path(id)}/commands`, cmd);
      ok.textContent = `Queued command ${c.id} (${c.verb}); it goes out at the device's next session.`;
      onQueued();
    } catch (err) {
      error.textContent = `The server refused it (${err.status}): ${err.message}`;
    }
  });
  return form;
}

export async function device(main, ctx, [id]) {
  if (!id) { ctx.go('#/devices'); return; }
  const enc = api.path(id);
  const head = h('div', { id: 'device-head' });
  const info = h('section', { class: 'card' }, h('h2', {}, 'DevInfo'), h('div', { id: 'devinfo' }));
  const enrollment = h('section', { class: 'card', id: 'enrollment' });
  const profilesBox = h('section', { class: 'card', id: 'device-profiles', hidden: !ctx.session.features.profiles },
    h('h2', {}, 'Profiles and groups'), h('div', {}));
  const cmds = h('section', { class: 'card' }, h('h2', {}, 'Commands'), h('div', { id: 'commands' }));
  const alerts = h('section', { class: 'card' }, h('h2', {}, 'Alerts'), h('div', { id: 'alerts' }));
  const seen = {};
  // re-render a part only when its data changed (keeps <details> as opened)
  const update = (key, box, data, render) => {
    const text = JSON.stringify([data === undefined ? '(undefined)' : data]);
    if (seen[key] === text) return;
    seen[key] = text;
    replace(box, render(data));
  };

  let refresh = async () => {};
  const del = ctx.canWrite ? h('button', { type: 'button', class: 'danger write', id: 'device-delete' }, 'Delete device') : null;
  if (del) {
    del.addEventListener('click', async () => {
      if (!window.confirm(`Delete ${id}, its commands and alerts?`)) return;
      try { await api.del(`/devices/${enc}`); ctx.go('#/devices'); } catch (e) { window.alert(e.message); }
    });
  }
  replace(main, h('p', {}, h('a', { href: '#/devices' }, '← Devices')), head,
    h('div', { class: 'grid2' }, info, enrollment), profilesBox,
    ctx.canWrite ? queueForm(id, () => refresh()) : null, cmds, alerts, del);

  refresh = async () => {
    let d;
    try {
      d = await api.get(`/devices/${enc}`);
    } catch (e) {
      if (ctx.live()) replace(head, h('h1', {}, id), h('p', { class: 'error', role: 'alert' }, e.message));
      return;
    }
    const [commands, alertList, profs] = await Promise.all([
      api.get(`/devices/${enc}/commands`), api.get(`/devices/${enc}/alerts`),
      ctx.session.features.profiles ? api.get(`/devices/${enc}/profiles`).catch(() => null) : null]);
    if (!ctx.live()) return;
    update('head', head, d, () => [h('h1', { id: 'device-title' }, d.device_id),
      h('p', { class: 'muted' }, `${displayName(d)} · ${model(d)} · last seen `, time(d.last_seen),
        ` · registered ${d.created_at}`)]);
    update('info', info.lastChild, d.devinfo, (x) => dl(x, 'devinfo-list'));
    update('enr', enrollment, d.enrollment, (x) => [h('h2', {}, 'Enrollment'),
      x ? dl({ ...x, certificate: undefined, ...(x.certificate ? { 'certificate serial': x.certificate.serial,
        'certificate thumbprint': x.certificate.thumbprint, 'certificate not after': x.certificate.not_after } : {}) })
        : h('p', { class: 'muted' }, x === null ? 'Registered by an operator (no enrollment).'
          : 'This backend reports no enrollment data.')]);
    if (profs) update('profiles', profilesBox.lastChild, profs, profilesView);
    update('commands', cmds.lastChild, commands, commandsTable);
    update('alerts', alerts.lastChild, alertList, alertsTable);
  };
  ctx.poll(refresh);
}
