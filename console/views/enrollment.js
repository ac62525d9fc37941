// Enrollment users (Windows enrollment's sign-in accounts): create, list,
// delete.  Shown only when GET /api/v1/enrollment-users is not 404.
import * as api from '../api.js';
import { h, replace, time } from '../dom.js';

export async function enrollmentUsers(main, ctx) {
  const list = h('div', { id: 'enrollment-users' });
  const error = h('p', { class: 'error', role: 'alert', id: 'eu-error' });
  async function load() {
    const us = await api.get('/enrollment-users');
    if (!ctx.live()) return;
    replace(list, us.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['User', 'Created', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, us.map((u) => {
        let del = '';
        if (ctx.canWrite) {
          del = h('button', { type: 'button', class: 'danger' }, 'Delete');
          del.addEventListener('click', async () => {
            if (!window.confirm(`Delete enrollment user ${u.username}?`)) return;
            try { await api.del(`/enrollment-users/${api.path(u.username)}`); load(); } catch (e) { error.textContent = e.message; }
          });
        }
        return h('tr', { 'data-user': u.username }, h('td', {}, u.username), h('td', {}, time(u.created_at)), h('td', {}, del));
      }))))
      : h('p', { class: 'muted' }, 'No enrollment users yet.'));
  }
  let form = null;
  if (ctx.canWrite) {
    form = h('form', { class: 'card form-grid write', id: 'eu-form' }, h('h2', {}, 'New enrollment user'),
      h('label', { for: 'eu-name' }, 'User name (e.g. user@example.com)'), h('input', { id: 'eu-name', name: 'username', required: true, autocomplete: 'off' }),
      h('label', { for: 'eu-pass' }, 'Password'), h('input', { id: 'eu-pass', name: 'password', type: 'password', required: true, autocomplete: 'new-password' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create')), error);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.textContent = '';
      try {
        await api.post('/enrollment-users', { username: form.elements.username.value, password: form.elements.password.value });
        form.reset();
        load();
      } catch (err) { error.textContent = err.message; }
    });
  }
  replace(main, h('h1', {}, 'Enrollment users'), list, form || error);
  ctx.poll(load);
}
