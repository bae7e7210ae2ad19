// Wires the page together: the current customer, its order stream, the forms and the panels.

import * as api from './api.js';
import { openCustomerOrderStream } from './stream.js';
import { createOrdersView } from './orders.js';
import { createHistoryView } from './history.js';
import {
  hideCustomerCard, lastCustomerId, looksLikeId, rememberCustomer, renderCustomerCard, renderRecent, setCardBusy,
} from './customer.js';
import { amountProblem, announce, byTestId, clearError, debounce, setInvalid, shortId, showError } from './ui.js';

const state = {
  customerId: null,
  stream: null,
  connection: 'offline',
  cancelling: new Set(),
  switchToken: 0,
};

const orders = createOrdersView({
  listEl: byTestId('orders-list'),
  emptyEl: byTestId('orders-empty'),
  countEl: byTestId('orders-count'),
  onCancel: cancelOrder,
  onOpen: openHistory,
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

async function loadCustomer(customerId) {
  setCardBusy(true);
  try {
    const customer = await fetchCustomer(customerId);
    if (customerId === state.customerId) renderCustomerCard(customer);
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
  history.close();
  orders.clear();
  hideCustomerCard();
  byTestId('place-order-section').hidden = true;
  byTestId('orders-empty').textContent = 'No customer chosen yet. Pick or create one to see its orders.';
  setConnection('offline');
}

/**
 * Switches to a customer. The current one stays until the new one is known, so a mistyped id
 * only shows an error.
 */
async function useCustomer(customerId, { justCreated = false, name, quiet = false } = {}) {
  if (customerId === state.customerId) {
    refreshCustomerSoon();
    return;
  }
  const token = ++state.switchToken;
  let customer;
  try {
    customer = await fetchCustomer(customerId, { attempts: justCreated ? 8 : 1 });
  } catch (e) {
    if (token !== state.switchToken) return;
    renderRecent(state.customerId);
    if (!quiet) showError(e, e.status === 404 ? 'No customer with this id' : 'Could not load the customer');
    return;
  }
  if (token !== state.switchToken) return; // another switch started meanwhile

  stopCustomer();
  state.customerId = customerId;
  byTestId('customer-id').value = customerId;
  setInvalid(byTestId('customer-id'), false);
  replaceHash(customerId);
  renderCustomerCard(customer);
  rememberCustomer(customerId, customer.name ?? name);
  renderRecent(customerId);

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
  });
  loadInitialOrders(customerId);
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
  if (!state.customerId || state.connection === 'live') return;
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

// ---------------------------------------------------------------- start

function customerFromHash() {
  const m = /^#customer=([0-9a-f-]{36})$/i.exec(location.hash);
  return m && looksLikeId(m[1]) ? m[1] : null;
}

window.addEventListener('hashchange', () => {
  const id = customerFromHash();
  if (id && id !== state.customerId) useCustomer(id);
});

renderRecent(null);
setConnection('offline');
const fromHash = customerFromHash();
if (fromHash) useCustomer(fromHash);
else if (lastCustomerId()) useCustomer(lastCustomerId(), { quiet: true });
