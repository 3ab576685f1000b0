// The page's side of the Nest API, and where the session is kept (per tab: two tabs can be two people).

const SESSION_KEY = 'nestjs-mesa-sample:session';

/** An API answer that was not 2xx; `status` is the HTTP status, `message` what the API said. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The stored session ({ user, token, mesa, expiresAt }), or null. */
export function loadSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY));
  } catch {
    return null;
  }
}

/** Keeps the session for this tab (a reload reconnects without signing in again). */
export function saveSession(session) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

/** Forgets the session of this tab. */
export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

/** Calls the API with the session token. Resolves to the JSON answer (undefined for 204). */
export async function api(method, path, token, body) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined;
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = Array.isArray(payload.message) ? payload.message.join(' ') : payload.message;
    throw new ApiError(response.status, message || `${method} ${path} failed (${response.status})`);
  }
  return payload;
}
