// GraphQL calls for the console. The editor key lives in sessionStorage (gone when the tab
// closes); with no keys configured on the server, calls work without one.

const KEY_STORAGE = 'vidsearch.editorKey';

/** A GraphQL error with its `extensions.code` (UNAUTHENTICATED, BAD_USER_INPUT, …). */
export class ApiError extends Error {
  /** @param {string} message @param {string} code @param {Record<string, unknown>} extensions */
  constructor(message, code, extensions = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.extensions = extensions;
  }
}

/** @type {Set<() => void>} */
const keyListeners = new Set();

export function getKey() {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

/** @param {string} key */
export function setKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** Called when the server says the key is missing or wrong (the page then asks for one). */
export function onKeyNeeded(listener) {
  keyListeners.add(listener);
}

function authHeaders() {
  const key = getKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** @param {Response} res */
async function unwrap(res) {
  /** @type {{ data?: Record<string, any>, errors?: { message: string, extensions?: Record<string, any> }[] }} */
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`the server answered HTTP ${res.status}`, res.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INTERNAL_SERVER_ERROR');
  }
  const first = body.errors?.[0];
  if (first) {
    const code = first.extensions?.code ?? 'INTERNAL_SERVER_ERROR';
    if (code === 'UNAUTHENTICATED') for (const listener of keyListeners) listener();
    throw new ApiError(first.message, code, first.extensions ?? {});
  }
  return body.data ?? {};
}

/**
 * @param {string} query
 * @param {Record<string, unknown>} [variables]
 */
export async function gql(query, variables = {}) {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders() },
    body: JSON.stringify({ query, variables }),
  });
  return unwrap(res);
}

/**
 * A GraphQL multipart request (files as Upload variables). The preflight header tells Apollo's
 * CSRF prevention that a script, not a cross-site form, sent it.
 * @param {string} query
 * @param {Record<string, unknown>} variables
 * @param {Record<string, File>} files variable name → file
 */
export async function gqlUpload(query, variables, files) {
  const form = new FormData();
  const names = Object.keys(files);
  const map = Object.fromEntries(names.map((name, i) => [String(i), [`variables.${name}`]]));
  form.append('operations', JSON.stringify({ query, variables: { ...variables, ...Object.fromEntries(names.map((n) => [n, null])) } }));
  form.append('map', JSON.stringify(map));
  names.forEach((name, i) => form.append(String(i), files[name], files[name].name || 'upload'));
  const res = await fetch('/graphql', { method: 'POST', headers: { 'apollo-require-preflight': '1', ...authHeaders() }, body: form });
  return unwrap(res);
}

/** A readable one-liner for an error shown to the editor. */
export function describeError(err) {
  if (err instanceof ApiError) {
    const retry = err.code === 'RATE_LIMITED' && err.extensions.retryAfter ? ` (retry in ${err.extensions.retryAfter} s)` : '';
    return `${err.code}: ${err.message}${retry}`;
  }
  return err instanceof Error ? err.message : String(err);
}
