// The one way the dashboard talks to gitpulse: the public JSON API with a bearer token,
// as any other front end would.
//
// The token lives in sessionStorage: it is a login token that expires within the hour,
// so keeping it past the tab (localStorage) would only widen who can find it on a shared
// computer; each tab signs in on its own and closing the tab signs out. Scripts of other
// origins cannot read it, and the Content-Security-Policy allows no script but ours.

const TOKEN_KEY = "gitpulse.token";

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Listeners for "the token was refused" (expired, account deleted). */
const unauthorizedListeners = [];
export function onUnauthorized(listener) {
  unauthorizedListeners.push(listener);
}

function url(path, query) {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, v);
  }
  return u.pathname + u.search;
}

/**
 * Calls the API. Answers the parsed JSON (or null for an empty body); throws ApiError
 * with the API's own `message` for any error status.
 */
export async function call(method, path, { body, query, accept = "application/json", raw = false } = {}) {
  const headers = { Accept: accept };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url(path, query), init);
  } catch (e) {
    throw new ApiError(0, "The server could not be reached; check your connection and try again.");
  }
  if (!response.ok) {
    let parsed = null;
    let message = `${response.status} ${response.statusText}`.trim();
    try {
      parsed = await response.json();
      if (parsed && typeof parsed.message === "string") message = parsed.message;
    } catch (_) {
      // Not JSON: keep the status line.
    }
    if (response.status === 401 && t) unauthorizedListeners.forEach((l) => l(message));
    throw new ApiError(response.status, message, parsed);
  }
  if (raw) return response;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, query) => call("GET", path, { query });
export const post = (path, body, query) => call("POST", path, { body, query });
export const put = (path, body) => call("PUT", path, { body });
export const del = (path, body) => call("DELETE", path, { body });

/** An image (SVG chart or badge) fetched with the token, as a blob: URL. */
export async function imageUrl(path, query) {
  const response = await call("GET", path, { query, accept: "image/svg+xml", raw: true });
  return URL.createObjectURL(await response.blob());
}

/** A file download fetched with the token (archives); answers the blob and its name. */
export async function download(path) {
  const response = await call("GET", path, { accept: "*/*", raw: true });
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : path.split("/").pop();
  return { blob: await response.blob(), name };
}
