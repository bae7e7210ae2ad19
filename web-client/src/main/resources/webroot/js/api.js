// The one place that talks HTTP to the backend: base URLs, headers, credentials, problem parsing.
// Authentication is the HttpOnly session cookie only: the page never sees or keeps a token, so a
// script injected into it could not steal one. Every request sends the cookie; a 401 anywhere is
// reported once to the handler registered with onUnauthorized.

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content?.trim() ?? '';

// Same origin by default. In the split deployment the page names both sides' base URLs
// (e.g. <meta name="orders-command-base" content="https://cmd.example">); both default to ''.
const COMMAND_BASE = meta('orders-command-base').replace(/\/$/, '');
const QUERY_BASE = meta('orders-query-base').replace(/\/$/, '');

let unauthorizedHandler = () => {};

/** Registers what happens when the server answers 401 (the session expired or was ended elsewhere). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/** An error the UI can show: either an RFC 9457 problem from the server, or a network failure. */
export class ApiError extends Error {
  constructor({ status, title, detail, type, problem, retryAfter = null }) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = 'ApiError';
    this.status = status; // 0 for a network failure
    this.title = title;
    this.detail = detail;
    this.type = type;
    this.problem = problem; // the whole problem document, extensions included
    this.retryAfter = retryAfter; // seconds, from Retry-After (429, 503), else null
  }

  get isNetwork() {
    return this.status === 0;
  }
}

/** A fresh UUID; crypto.randomUUID exists only in secure contexts, so fall back to getRandomValues. */
export function newIdempotencyKey() {
  if (globalThis.crypto?.randomUUID) {
    try {
      return crypto.randomUUID();
    } catch {
      // not a secure context: fall through
    }
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const STATUS_TITLES = {
  400: 'Bad request', 401: 'Not signed in', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict',
  413: 'Request too large', 415: 'Unsupported media type', 422: 'Unprocessable request',
  429: 'Too many requests', 500: 'Server error', 502: 'Bad gateway', 503: 'Service unavailable',
  504: 'Gateway timeout',
};

/** Retry-After as whole seconds (it may be seconds or an HTTP date), or null. */
function retryAfterSeconds(response) {
  const raw = response.headers.get('Retry-After')?.trim();
  if (!raw) return null;
  if (/^\d+$/.test(raw)) return Number(raw);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

async function toProblem(response) {
  let body = null;
  const type = response.headers.get('Content-Type') ?? '';
  if (type.includes('json')) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  const status = response.status;
  return new ApiError({
    status,
    title: body?.title || STATUS_TITLES[status] || `HTTP ${status}`,
    detail: body?.detail || '',
    type: body?.type,
    problem: body ?? { status },
    retryAfter: retryAfterSeconds(response),
  });
}

/**
 * Performs one request. Resolves to { status, body, headers } for 2xx answers; rejects with an
 * ApiError for anything else (problem+json parsed) and for network failures (status 0).
 */
async function request(base, method, path, { body, idempotencyKey, signal, probe = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;

  let response;
  try {
    response = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: base ? 'include' : 'same-origin',
      signal,
    });
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    throw new ApiError({
      status: 0,
      title: 'Network error',
      detail: 'The server could not be reached. Check your connection and try again.',
    });
  }
  if (!response.ok) {
    const problem = await toProblem(response);
    // A probe (asking whether there is a session at all) expects 401; anything else lost its session.
    if (problem.status === 401 && !probe) unauthorizedHandler(problem);
    throw problem;
  }
  let parsed = null;
  if (response.status !== 204) {
    const text = await response.text();
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ApiError({ status: response.status, title: 'Unreadable answer', detail: 'The server sent something that is not JSON.' });
      }
    }
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

const q = (s) => encodeURIComponent(s);

// ---- the session (the cookie is set and cleared by the server; the page only asks) ----

/** Who is signed in: { role: 'operator' | 'customer', customerId, expiresAt, development }; 401 when nobody. */
export function getSession() {
  return request(COMMAND_BASE, 'GET', '/api/session', { probe: true });
}

/**
 * Development mode only: signs in as an operator ({ role: 'operator' }) or as a customer
 * ({ customerId }). The server sets the session cookie; the token in the answer is not kept.
 */
export async function signInForDevelopment(who) {
  const { body } = await request(COMMAND_BASE, 'POST', '/api/dev/token', { body: who, probe: true });
  return { role: body?.role, customerId: body?.customerId ?? null, expiresAt: body?.expiresAt };
}

/** Ends the session: the server clears the cookie (204). */
export function signOut() {
  return request(COMMAND_BASE, 'DELETE', '/api/session', { probe: true });
}

// ---- commands (command side) ----

export function createCustomer(name, creditLimit, idempotencyKey) {
  return request(COMMAND_BASE, 'POST', '/api/customers', { body: { name, creditLimit }, idempotencyKey });
}

export function placeOrder(customerId, total, idempotencyKey) {
  return request(COMMAND_BASE, 'POST', '/api/orders', { body: { customerId, total }, idempotencyKey });
}

export function cancelOrder(orderId, idempotencyKey) {
  return request(COMMAND_BASE, 'POST', `/api/orders/${q(orderId)}/cancel`, { idempotencyKey });
}

// ---- queries (query side) ----

export function getCustomer(customerId, opts) {
  return request(QUERY_BASE, 'GET', `/api/customers/${q(customerId)}`, opts);
}

export function getOrder(orderId, { minVersion, asOf, signal } = {}) {
  const params = new URLSearchParams();
  if (minVersion != null) params.set('minVersion', String(minVersion));
  if (asOf != null) params.set('asOf', asOf);
  const qs = params.toString();
  return request(QUERY_BASE, 'GET', `/api/orders/${q(orderId)}${qs ? `?${qs}` : ''}`, { signal });
}

export function getOrderHistory(orderId, opts) {
  return request(QUERY_BASE, 'GET', `/api/orders/${q(orderId)}/history`, opts);
}

export function listCustomerOrders(customerId, { limit = 50, signal } = {}) {
  return request(QUERY_BASE, 'GET', `/api/customers/${q(customerId)}/orders?limit=${limit}`, { signal });
}

/** The URL of a customer's order stream, optionally resuming after lastEventId. */
export function customerOrderStreamUrl(customerId, lastEventId) {
  const url = `${QUERY_BASE}/api/customers/${q(customerId)}/orders/stream`;
  return lastEventId ? `${url}?lastEventId=${q(lastEventId)}` : url;
}

/** Event stream options (EventStream, as EventSource): cross-origin streams need cookies explicitly. */
export function streamOptions() {
  return { withCredentials: Boolean(QUERY_BASE) };
}

// ---- the operators' console (query side; a customer gets 403 on every one of these) ----

export function listOrders({ status, limit = 20, signal } = {}) {
  const params = new URLSearchParams({ limit: String(limit) });
  if (status) params.set('status', status);
  return request(QUERY_BASE, 'GET', `/api/orders?${params}`, { signal });
}

export function listCustomers({ minAvailableCredit, limit = 10, after, signal } = {}) {
  const params = new URLSearchParams({ limit: String(limit) });
  if (minAvailableCredit) params.set('minAvailableCredit', minAvailableCredit);
  if (after) params.set('after', after);
  return request(QUERY_BASE, 'GET', `/api/customers?${params}`, { signal });
}

const baseOf = (side) => (side === 'command' ? COMMAND_BASE : QUERY_BASE);

/**
 * A dead-letter source's list: { side: 'query' | 'command', path }; rejects with the ApiError (404: the
 * source is not there).
 */
export function listDeadLetters({ side, path }) {
  return request(baseOf(side), 'GET', `${path}?limit=100`);
}

export function redriveDeadLetter({ side, path }, id) {
  return request(baseOf(side), 'POST', `${path}/${q(id)}/redrive`);
}

export function startRebuild() {
  return request(QUERY_BASE, 'POST', '/api/admin/rebuild');
}

export function getRebuild() {
  return request(QUERY_BASE, 'GET', '/api/admin/rebuild');
}

/** Every order change of every customer, optionally resuming after lastEventId. */
export function operatorOrderStreamUrl(lastEventId) {
  const url = `${QUERY_BASE}/api/orders/stream`;
  return lastEventId ? `${url}?lastEventId=${q(lastEventId)}` : url;
}

export function statusStreamUrl() {
  return `${QUERY_BASE}/api/admin/status/stream`;
}
