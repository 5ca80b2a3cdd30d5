// The console's only way to the node: the JSON API under /api/v1, with the signed-in credential as a
// Bearer token. The credential lives in sessionStorage: this tab only, gone when it closes, never in
// a URL or in local storage; and since the API reads no cookies, no other site can act with it.

const CREDENTIAL = 'keel.console.credential';

export const session = {
  token() {
    return sessionStorage.getItem(CREDENTIAL);
  },
  signIn(token) {
    sessionStorage.setItem(CREDENTIAL, token);
  },
  signOut() {
    sessionStorage.removeItem(CREDENTIAL);
  },
};

/** A refused or failed call; {@code problem} is the node's problem document when it sent one. */
export class ApiError extends Error {
  constructor(status, problem, message) {
    super(message || (problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Called when the node no longer accepts the credential (rotated key, suspended tenant). */
let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/**
 * Sends {@code method path} ({@code path} below /api/v1, query included) with {@code body} as
 * JSON; answers the parsed JSON body, or throws an {@link ApiError}.
 */
export async function call(method, path, body) {
  const headers = {Accept: 'application/json'};
  const token = session.token();
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch('/api/v1' + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError(0, null, 'the node did not answer: ' + e.message);
  }
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      parsed = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401) onUnauthorized();
    throw new ApiError(response.status, parsed && typeof parsed === 'object' ? parsed : null);
  }
  return parsed;
}

/** A query string from {@code params}, leaving out empty values; '' when none is left. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value)) value.filter(v => v).forEach(v => search.append(key, v));
    else if (value !== null && value !== undefined && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? '?' + text : '';
}

/** A path segment: ids may hold ':', '@' and '+'. */
export function seg(value) {
  return encodeURIComponent(value);
}

/** What a role may do in the console, as AccessPolicy grants it: read, operate (act on executions), manage. */
const RANKS = {viewer: 0, operator: 1, admin: 2};
const NEEDS = {read: 0, operate: 1, manage: 2};

/** Whether {@code caller} (GET /caller's answer) may do what {@code level} names. */
export function allows(caller, level) {
  const rank = RANKS[caller && caller.role];
  return rank !== undefined && rank >= NEEDS[level];
}
