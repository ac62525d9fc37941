// The operator API, and nothing else: the console sees what a script sees.
// The token lives in this tab's sessionStorage and travels only in the
// Authorization header (no cookies, so no CSRF).

const KEY = 'omadm.console.token';
export const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export function token() { return sessionStorage.getItem(KEY); }
export function setToken(t) { sessionStorage.setItem(KEY, t); }
export function forget() { sessionStorage.removeItem(KEY); }

// Path segments, each percent-encoded as one segment (ids hold ':' and '/').
export function path(...segments) {
  return segments.map((x) => encodeURIComponent(x)).join('/');
}

let onUnauthorized = () => {};
export function whenUnauthorized(fn) { onUnauthorized = fn; }

// -> decoded JSON (null for 204); throws ApiError with the server's error.
export async function call(method, p, body, tok = token()) {
  const headers = { Authorization: `Bearer ${tok}` };
  const init = { method, headers, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(BASE + p, init);
  } catch (e) {
    throw new ApiError(0, `network error: ${e.message}`);
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) {
    const msg = data && typeof data === 'object' && data.error ? data.error
      : `HTTP ${res.status}`;
    const err = new ApiError(res.status, msg, data);
    if (res.status === 401 && tok === token()) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const get = (p) => call('GET', p);
export const post = (p, b) => call('POST', p, b);
export const put = (p, b) => call('PUT', p, b === undefined ? {} : b);
export const del = (p) => call('DELETE', p);

// Whether the backend has a route at all: 404 means the feature is absent
// (profiles and enrollment come from separate branches of the backend).
export async function has(p) {
  try {
    await get(p);
    return true;
  } catch (e) {
    return e.status !== 404;
  }
}
