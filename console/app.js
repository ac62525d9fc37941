// The console's shell: sign-in, navigation, a hash router and polling.
// Plain JavaScript modules, no build step, no third-party code.
import * as api from './api.js';
import { h, replace } from './dom.js';
import { overview } from './views/overview.js';
import { devices } from './views/devices.js';
import { device } from './views/device.js';
import { profiles, profile } from './views/profiles.js';
import { groups } from './views/groups.js';
import { enrollmentUsers } from './views/enrollment.js';

const POLL_MS = 3000;

// What this session may do and which optional parts the backend has.
const session = { role: null, features: { profiles: false, enrollment: false } };

const top = document.getElementById('top');
const main = document.getElementById('main');

let timers = [];
let generation = 0;

function stopPolling() {
  timers.forEach(clearInterval);
  timers = [];
}

// The context a view renders with.
function context(gen) {
  return {
    session,
    canWrite: session.role === 'operator',
    live: () => gen === generation,
    // run fn now and every POLL_MS while this view is shown
    poll(fn, ms = POLL_MS) {
      const tick = () => { if (gen === generation) fn(); };
      tick();
      timers.push(setInterval(tick, ms));
    },
    go(hash) { location.hash = hash; },
  };
}

function signIn(message) {
  stopPolling();
  generation++;
  replace(top, h('div', { class: 'brand' }, 'ngx_omadm console'));
  const input = h('input', {
    id: 'token', type: 'password', name: 'token', autocomplete: 'off',
    required: true, spellcheck: 'false', 'aria-describedby': 'signin-error',
  });
  const error = h('p', { id: 'signin-error', class: 'error', role: 'alert' }, message || '');
  const button = h('button', { type: 'submit', id: 'signin' }, 'Sign in');
  const form = h('form', { class: 'card signin', id: 'signin-form' },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'Paste an operator or viewer token (the backend\'s --token-file or --viewer-token-file).'),
    h('label', { for: 'token' }, 'Token'), input, button, error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const tok = input.value.trim();
    if (!tok) { error.textContent = 'Enter a token.'; return; }
    button.disabled = true;
    error.textContent = '';
    try {
      const who = await whoami(tok);
      api.setToken(tok);
      session.role = who.role;
      await start();
    } catch (e) {
      error.textContent = e.status === 401 ? 'Wrong token: the API refused it (401).'
        : `Cannot sign in: ${e.message}`;
    } finally {
      button.disabled = false;
    }
  });
  replace(main, form);
  input.focus();
}

async function whoami(tok) {
  try {
    return await api.call('GET', '/whoami', undefined, tok);
  } catch (e) {
    if (e.status !== 404) throw e;
    // an older backend without /whoami: its one token is the operator's
    await api.call('GET', '/devices?limit=1', undefined, tok);
    return { role: 'operator' };
  }
}

async function detectFeatures() {
  const [profilesOn, enrollmentOn] = await Promise.all([
    api.has('/profiles'), api.has('/enrollment-users')]);
  session.features.profiles = profilesOn;
  session.features.enrollment = enrollmentOn;
}

function nav() {
  const links = [['#/overview', 'Overview'], ['#/devices', 'Devices']];
  if (session.features.profiles) links.push(['#/profiles', 'Profiles'], ['#/groups', 'Groups']);
  if (session.features.enrollment) links.push(['#/enrollment-users', 'Enrollment users']);
  const current = location.hash.split('/')[1] || 'overview';
  const signOut = h('button', { type: 'button', class: 'link', id: 'signout' }, 'Sign out');
  signOut.addEventListener('click', () => { api.forget(); session.role = null; signIn('Signed out.'); });
  replace(top,
    h('div', { class: 'brand' }, h('a', { href: '#/overview' }, 'ngx_omadm')),
    h('nav', { 'aria-label': 'Main' }, h('ul', {}, links.map(([href, label]) =>
      h('li', {}, h('a', {
        href, 'aria-current': href.split('/')[1] === current.replace(/^device$/, 'devices')
          .replace(/^profile$/, 'profiles') ? 'page' : null,
      }, label))))),
    h('div', { class: 'who' },
      h('span', { class: `role role-${session.role}`, id: 'role' }, session.role), signOut));
}

const routes = {
  overview: (ctx) => overview(main, ctx),
  devices: (ctx) => devices(main, ctx),
  device: (ctx, rest) => device(main, ctx, rest),
  profiles: (ctx) => (session.features.profiles ? profiles(main, ctx) : missing('Profiles')),
  profile: (ctx, rest) => (session.features.profiles ? profile(main, ctx, rest) : missing('Profiles')),
  groups: (ctx) => (session.features.profiles ? groups(main, ctx) : missing('Groups')),
  'enrollment-users': (ctx) => (session.features.enrollment ? enrollmentUsers(main, ctx)
    : missing('Enrollment users')),
};

function missing(what) {
  replace(main, h('section', { class: 'card' }, h('h1', {}, what),
    h('p', {}, `This backend has no ${what.toLowerCase()} API (it answered 404).`)));
}

function route() {
  if (!session.role) return;
  stopPolling();
  const gen = ++generation;
  const [, name = 'overview', ...rest] = location.hash.split('/');
  const view = routes[name] || routes.overview;
  nav();
  const params = rest.map((x) => decodeURIComponent(x));
  Promise.resolve(view(context(gen), params)).catch((e) => {
    if (gen === generation) replace(main, h('p', { class: 'error', role: 'alert' }, e.message));
  });
  main.focus({ preventScroll: true });
}

async function start() {
  await detectFeatures();
  if (!location.hash || location.hash === '#' || location.hash === '#/') {
    location.hash = '#/overview';
  }
  route();
}

api.whenUnauthorized(() => { api.forget(); session.role = null; signIn('Your token was refused (401): sign in again.'); });
window.addEventListener('hashchange', route);

(async () => {
  const tok = api.token();
  if (!tok) { signIn(); return; }
  try {
    session.role = (await whoami(tok)).role;
    await start();
  } catch (e) {
    api.forget();
    signIn(e.status === 401 ? 'Your token was refused (401): sign in again.' : e.message);
  }
})();
