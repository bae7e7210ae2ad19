// Wires the page together: the session, the current customer, its order stream, the forms and the panels.

import * as api from './api.js';
import { openCustomerOrderStream } from './stream.js';
import { createOrdersView } from './orders.js';
import { createHistoryView } from './history.js';
import { createSessionView } from './session.js';
import { createConsole } from './console.js';
import {
  forgetCustomers, hideCustomerCard, lastCustomerId, looksLikeId, rememberCustomer, renderCustomerCard, renderRecent,
  setCardBusy,
} from './customer.js';
import {
  amountProblem, announce, byTestId, clearError, debounce, setInvalid, shortId, showError, slowDownText,
} from './ui.js';

const state = {
  session: null, // what GET /api/session said: { role, customerId, expiresAt, development }
  customerId: null,
  stream: null,
  connection: 'offline',
  cancelling: new Set(),
  switchToken: 0,
  signingOut: false, // from the sign-out's request until its answer: a 401 meanwhile is the sign-out's own
};

const orders = createOrdersView({
  listEl: byTestId('orders-list'),
  emptyEl: byTestId('orders-empty'),
  countEl: byTestId('orders-count'),
  onCancel: cancelOrder,
  onOpen: openHistory,
});

// The operator's console opens a customer in the workspace above it.
const operatorConsole = createConsole({
  onOpenCustomer: async (customerId) => {
    await useCustomer(customerId);
    byTestId('customer-card').scrollIntoView({ block: 'nearest' });
    document.getElementById('orders-heading').focus();
  },
});

const history = createHistoryView({
  onClose: (orderId) => {
    orders.setSelected(null);
    if (orderId) orders.focusRow(orderId);
  },
});

// ---------------------------------------------------------------- idempotent submits

/**
 * One Idempotency-Key per submit. If an attempt ends without a definitive answer (network error,
 * 5xx) and the same body is sent again, the key is reused so the retry cannot append twice.
 */
function idempotentSubmitter() {
  let unresolved = null; // { body, key }
  return async (body, send) => {
    const fingerprint = JSON.stringify(body);
    const key = unresolved?.body === fingerprint ? unresolved.key : api.newIdempotencyKey();
    unresolved = { body: fingerprint, key };
    try {
      const result = await send(key);
      unresolved = null;
      return result;
    } catch (e) {
      if (!(e instanceof api.ApiError) || !(e.isNetwork || e.status >= 500)) unresolved = null;
      throw e;
    }
  };
}

/** Runs an async form action with its submit button disabled, so a double click submits once. */
async function busy(button, action) {
  if (button.disabled) return;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    await action();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

// ---------------------------------------------------------------- the customer

/** GET the customer; a just-created one may not be in the read model yet, so 404s can be retried. */
async function fetchCustomer(customerId, { attempts = 1 } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await api.getCustomer(customerId)).body;
    } catch (e) {
      if (!(e instanceof api.ApiError && e.status === 404 && attempt < attempts)) throw e;
      await new Promise((r) => setTimeout(r, Math.min(2000, 150 * 2 ** attempt)));
    }
  }
}

const isOperator = () => state.session?.role === 'operator';
const isOwnCustomer = (customerId) => state.session?.role === 'customer' && state.session.customerId === customerId;

function showCustomer(customer) {
  renderCustomerCard(customer);
  if (isOwnCustomer(customer.customerId)) sessionView.setCustomerName(customer.name);
}

async function loadCustomer(customerId) {
  setCardBusy(true);
  try {
    const customer = await fetchCustomer(customerId);
    if (customerId === state.customerId) showCustomer(customer);
    return customer;
  } finally {
    setCardBusy(false);
  }
}

const refreshCustomerNow = debounce(async () => {
  const id = state.customerId;
  if (!id) return;
  try {
    await loadCustomer(id);
  } catch (e) {
    // Background refreshes stay quiet about the network: the connection indicator says it already.
    if (!(e instanceof api.ApiError && e.isNetwork) && id === state.customerId) showError(e, 'Could not refresh the customer');
  }
}, 300);

// The saga settles credit in its own events, which may land after the order change that told us to
// look (a release follows a cancel): look again a little later, so the card catches up on its own.
const CREDIT_FOLLOW_UPS_MS = [1500, 4000];
let followUps = [];
function refreshCustomerSoon() {
  refreshCustomerNow();
  followUps.forEach(clearTimeout);
  followUps = CREDIT_FOLLOW_UPS_MS.map((delay) => setTimeout(refreshCustomerNow, delay));
}

function setConnection(s) {
  state.connection = s;
  byTestId('connection-state').textContent = s;
  byTestId('connection-state').closest('.connection').dataset.state = s;
  byTestId('connection-retry').hidden = s !== 'offline' || !state.customerId;
  if (s === 'live') refreshCustomerSoon();
}

function stopCustomer() {
  state.stream?.close();
  state.stream = null;
  state.customerId = null;
  followUps.forEach(clearTimeout);
  refreshCustomerNow.cancel();
  history.close();
  orders.clear();
  hideCustomerCard();
  sessionView.offerSwitch(false);
  byTestId('place-order-section').hidden = true;
  byTestId('orders-empty').textContent = 'No customer chosen yet. Pick or create one to see its orders.';
  setConnection('offline');
}

/**
 * Switches to a customer. The current one stays until the new one is known, so a mistyped id
 * only shows an error.
 */
async function useCustomer(customerId, { justCreated = false, name, quiet = false } = {}) {
  if (!state.session) return false;
  if (customerId === state.customerId) {
    refreshCustomerSoon();
    return true;
  }
  const token = ++state.switchToken;
  let customer;
  try {
    customer = await fetchCustomer(customerId, { attempts: justCreated ? 8 : 1 });
  } catch (e) {
    if (token !== state.switchToken) return false;
    if (isOperator()) renderRecent(state.customerId);
    // A customer asking for another's id gets the same 404 as for an unknown id.
    if (!quiet) showError(e, e.status === 404 ? 'No customer with this id' : 'Could not load the customer');
    return false;
  }
  if (token !== state.switchToken) return false; // another switch (or a sign-out) started meanwhile

  stopCustomer();
  state.customerId = customerId;
  byTestId('customer-id').value = customerId;
  setInvalid(byTestId('customer-id'), false);
  replaceHash(customerId);
  showCustomer(customer);
  if (isOperator()) {
    rememberCustomer(customerId, customer.name ?? name);
    renderRecent(customerId);
  }
  sessionView.offerSwitch(isOperator() && Boolean(state.session.development));

  const currency = customer.creditLimit?.currency;
  const select = byTestId('order-currency');
  if (currency) {
    if (![...select.options].some((o) => o.value === currency)) select.add(new Option(currency, currency));
    select.value = currency;
  }
  byTestId('place-order-section').hidden = false;
  byTestId('orders-empty').textContent = 'No orders yet.';
  announce(`Customer ${customer.name ?? shortId(customerId)} selected.`);

  state.stream = openCustomerOrderStream(customerId, {
    onOrder: (order) => {
      if (order.customerId && order.customerId !== state.customerId) return;
      if (orders.applyServerOrder(order)) history.orderChanged(order);
      refreshCustomerSoon();
    },
    onReset: () => announce('Resynchronising orders…'),
    onState: setConnection,
    // An event stream cannot tell why it failed: an expired session looks like a network error. Ask.
    onError: checkSessionSoon,
    onExpired: checkSession,
  });
  loadInitialOrders(customerId);
  return true;
}

/** Best effort: the stream sends the current state too, this only fills the list sooner. */
async function loadInitialOrders(customerId) {
  try {
    const { body } = await api.listCustomerOrders(customerId);
    if (customerId !== state.customerId) return;
    const list = Array.isArray(body) ? body : (body?.items ?? body?.orders ?? body?.content ?? body?.data ?? []);
    for (const order of list) orders.applyServerOrder(order);
  } catch (e) {
    console.warn('initial order list not loaded', e);
  }
}

function replaceHash(customerId) {
  const url = new URL(location.href);
  url.hash = customerId ? `customer=${customerId}` : '';
  if (url.href !== location.href) window.history.replaceState(null, '', url);
}

// ---------------------------------------------------------------- forms

const submitCustomer = idempotentSubmitter();
const submitOrder = idempotentSubmitter();

byTestId('create-customer-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const button = byTestId('create-customer');
  busy(button, async () => {
    clearError();
    const nameInput = byTestId('customer-name');
    const amountInput = byTestId('credit-amount');
    const name = nameInput.value.trim();
    const amount = amountInput.value.trim();
    const nameBad = name.length < 1 || name.length > 200;
    const amountBad = amountProblem(amount);
    setInvalid(nameInput, nameBad);
    setInvalid(amountInput, Boolean(amountBad));
    if (nameBad) {
      showError('Enter a name (1 to 200 characters).');
      nameInput.focus();
      return;
    }
    if (amountBad) {
      showError(`Credit limit: ${amountBad}`);
      amountInput.focus();
      return;
    }
    const body = { name, creditLimit: { amount, currency: byTestId('credit-currency').value } };
    try {
      const { body: created } = await submitCustomer(body, (key) => api.createCustomer(body.name, body.creditLimit, key));
      nameInput.value = '';
      amountInput.value = '';
      announce(`Customer ${name} created.`);
      await useCustomer(created.customerId, { justCreated: true, name });
    } catch (e) {
      showError(e, 'The customer was not created');
    }
  });
});

byTestId('use-customer-form').addEventListener('submit', (event) => {
  event.preventDefault();
  clearError();
  const input = byTestId('customer-id');
  const id = input.value.trim();
  const bad = !looksLikeId(id);
  setInvalid(input, bad);
  if (bad) {
    showError('Enter a customer id: a UUID like 3f2c9a1e-5b7d-4c1a-9e2f-0a1b2c3d4e5f.');
    input.focus();
    return;
  }
  busy(byTestId('use-customer'), () => useCustomer(id));
});

byTestId('recent-customers').addEventListener('change', (event) => {
  const id = event.target.value;
  if (!id) return;
  clearError();
  setInvalid(byTestId('customer-id'), false);
  useCustomer(id);
});

byTestId('place-order-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const button = byTestId('place-order');
  busy(button, async () => {
    clearError();
    const customerId = state.customerId;
    if (!customerId) {
      showError('Choose a customer first.');
      return;
    }
    const amountInput = byTestId('order-amount');
    const amount = amountInput.value.trim();
    const problem = amountProblem(amount);
    setInvalid(amountInput, Boolean(problem));
    if (problem) {
      showError(`Order total: ${problem}`);
      amountInput.focus();
      return;
    }
    const total = { amount, currency: byTestId('order-currency').value };
    try {
      const { body } = await submitOrder({ customerId, total }, (key) => api.placeOrder(customerId, total, key));
      if (customerId !== state.customerId) return;
      orders.addPlaced({ orderId: body.orderId, customerId, total, status: body.status ?? 'PENDING', version: body.version });
      amountInput.value = '';
      amountInput.focus();
      announce(`Order ${shortId(body.orderId)} placed, waiting for the credit check.`);
      refreshCustomerSoon();
    } catch (e) {
      showError(e, 'The order was not placed');
    }
  });
});

async function cancelOrder(orderId) {
  if (state.cancelling.has(orderId)) return;
  state.cancelling.add(orderId);
  clearError();
  orders.setCancelling(orderId, true);
  try {
    const { body } = await api.cancelOrder(orderId, api.newIdempotencyKey());
    orders.setCancelling(orderId, true, body?.version);
    announce(`Cancellation of order ${shortId(orderId)} accepted.`);
    refreshCustomerSoon();
  } catch (e) {
    orders.setCancelling(orderId, false);
    showError(e, `Order ${shortId(orderId)} was not cancelled`);
  } finally {
    state.cancelling.delete(orderId);
  }
}

function openHistory(orderId) {
  orders.setSelected(orderId);
  history.open(orderId);
}

byTestId('error-dismiss').addEventListener('click', clearError);
byTestId('connection-retry').addEventListener('click', () => state.stream?.reconnectNow());

// ---------------------------------------------------------------- fallback while not live

// Without a live stream, poll the orders that are still settling, so the page still converges.
setInterval(async () => {
  if (!state.session || !state.customerId || state.connection === 'live') return;
  const customerId = state.customerId;
  for (const { orderId } of orders.lagging().slice(0, 10)) {
    try {
      const { body } = await api.getOrder(orderId);
      if (customerId === state.customerId && orders.applyServerOrder(body)) history.orderChanged(body);
    } catch {
      return; // the server is not answering: the indicator already says so
    }
  }
  refreshCustomerSoon();
}, 4000);

// ---------------------------------------------------------------- the session

const SESSION_ENDED = 'Your session has ended: it expired, or you signed out in another window. Sign in again to go on.';
const SESSION_EXPIRED = 'Your session has expired. Sign in again to go on.';

const sessionView = createSessionView({ onSignIn: signIn, onSignOut: signOut, onSwitchToCustomer: switchToCustomer });

let expiryTimer = null;

/** Shows the page for a session and opens its customer: a customer's own, or the one the link names. */
async function enterSession(session, { customerId = null } = {}) {
  stopCustomer();
  clearError();
  state.session = session;
  sessionView.showSignedIn(session);
  watchExpiry(session.expiresAt);
  byTestId('orders-empty').textContent = session.role === 'operator'
    ? 'No customer chosen yet. Pick or create one to see its orders.'
    : 'Loading your orders…';
  if (session.role === 'operator') {
    operatorConsole.show();
    renderRecent(null);
    const id = customerId ?? lastCustomerId();
    if (id) await useCustomer(id, { quiet: !customerId });
    return;
  }
  operatorConsole.hide();
  // A customer: a link to another customer shows "not found" like any unknown id, then its own.
  if (customerId && customerId !== session.customerId) await useCustomer(customerId);
  if (!state.customerId && state.session === session) {
    const own = await useCustomer(session.customerId, { justCreated: true });
    if (!own && state.session === session) byTestId('orders-empty').textContent = 'Your customer could not be shown.';
  }
}

/** Back to the sign-in panel: the stream closed, everything of the last session gone from the page. */
function leaveSession(reason) {
  if (!state.session) {
    if (reason) sessionView.signInFailed(reason);
    return;
  }
  state.session = null;
  state.switchToken++; // a customer switch still in flight must not land
  clearTimeout(expiryTimer);
  operatorConsole.hide();
  stopCustomer();
  clearError();
  forgetCustomers();
  renderRecent(null);
  byTestId('customer-id').value = '';
  replaceHash(null);
  sessionView.showSignedOut(reason);
}

/** Words for a failed sign-in. */
function signInProblem(e) {
  if (e.status === 404) return 'This server does not offer development sign-in: sign in through your identity provider.';
  if (e.status === 429) return slowDownText(e.retryAfter);
  if (e.isNetwork) return `${e.title}: ${e.detail}`;
  return e.detail ? `Sign-in failed: ${e.detail}` : `Sign-in failed: ${e.title}.`;
}

const NO_COOKIE = 'Signed in, but the browser did not keep the session cookie. Allow cookies for this site and try again.';

/** Signs in (a development token: the server sets the cookie), then asks who the server now says we are. */
async function newSession(who, customerId) {
  await api.signInForDevelopment(who);
  const { body: session } = await api.getSession();
  announce(session.role === 'operator' ? 'Signed in as operator.' : `Signed in as customer ${shortId(session.customerId)}.`);
  await enterSession(session, { customerId });
  byTestId(session.role === 'operator' ? 'customer-id' : 'order-amount').focus();
}

/** From the sign-in panel. */
async function signIn(who) {
  try {
    await newSession(who, customerFromHash());
  } catch (e) {
    sessionView.signInFailed(e.status === 401 ? NO_COOKIE : signInProblem(e));
  }
}

async function signOut() {
  state.signingOut = true;
  try {
    await api.signOut();
  } catch (e) {
    if (e.status !== 401) { // 401: the session had ended already
      showError(e, 'Could not sign out');
      return;
    }
  } finally {
    state.signingOut = false;
  }
  leaveSession(null);
  announce('Signed out.');
}

/** The operator's shortcut: sign in as the customer shown (development mode). */
async function switchToCustomer() {
  const customerId = state.customerId;
  if (!customerId || !isOperator()) return;
  clearError();
  try {
    await newSession({ customerId }, customerId);
  } catch (e) {
    if (e.status === 401) leaveSession(NO_COOKIE);
    else showError(e, 'Could not sign in as this customer'); // the operator's session stays
  }
}

/** Asks the server whether the session still holds; a 401 brings the sign-in panel back. */
async function checkSession() {
  if (!state.session) return;
  try {
    const { body } = await api.getSession();
    if (!state.session) return;
    if (body?.role !== state.session.role || (body?.customerId ?? null) !== (state.session.customerId ?? null)) {
      // Someone signed in as another in a second window: the cookie is shared, so follow it.
      await enterSession(body);
      return;
    }
    state.session = { ...state.session, expiresAt: body.expiresAt };
    watchExpiry(body.expiresAt);
  } catch (e) {
    if (e.status === 401) leaveSession(SESSION_EXPIRED);
    // anything else (the network) says nothing about the session
  }
}

let lastCheck = 0;
function checkSessionSoon() {
  if (Date.now() - lastCheck < 3000) return;
  lastCheck = Date.now();
  checkSession();
}

/** Looks again just after the session's token expires (the server allows a few seconds of leeway). */
function watchExpiry(expiresAt) {
  clearTimeout(expiryTimer);
  const at = Date.parse(expiresAt ?? '');
  if (Number.isNaN(at)) return;
  const delay = Math.min(2 ** 31 - 1, Math.max(5000, at - Date.now() + 6000));
  expiryTimer = setTimeout(checkSession, delay);
}

// A 401 on any request: the session expired or was ended elsewhere. Not while signing out, nor once signed out:
// a read the page sends as the sign-out clears the cookie (a customer's follow-up refresh) is answered 401 too.
api.onUnauthorized(() => {
  if (state.session && !state.signingOut) leaveSession(SESSION_ENDED);
});

// A tab that slept may have missed the expiry timer.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') checkSessionSoon();
});

// ---------------------------------------------------------------- start

function customerFromHash() {
  const m = /^#customer=([0-9a-f-]{36})$/i.exec(location.hash);
  return m && looksLikeId(m[1]) ? m[1] : null;
}

window.addEventListener('hashchange', () => {
  const id = customerFromHash();
  if (state.session && id && id !== state.customerId) useCustomer(id);
});

async function start() {
  setConnection('offline');
  let session = null;
  try {
    session = (await api.getSession()).body;
  } catch (e) {
    sessionView.showSignedOut(e.status === 401 ? null : signInProblem(e));
    return;
  }
  await enterSession(session, { customerId: customerFromHash() });
}

start();
