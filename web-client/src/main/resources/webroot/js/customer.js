// The customer side of the page: recent customers (localStorage, an operator's only, forgotten on
// sign-out) and the credit card.

import { byTestId, el, formatMoney } from './ui.js';

const RECENT_KEY = 'orders.recentCustomers';
const CURRENT_KEY = 'orders.currentCustomer';
const MAX_RECENT = 8;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const looksLikeId = (s) => UUID.test(s);

function readStore(key, fallback) {
  try {
    const raw = localStorage.getItem(key);
    return raw ? JSON.parse(raw) : fallback;
  } catch {
    return fallback; // storage disabled or corrupt: the page still works
  }
}

function writeStore(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // ignore: private mode or quota
  }
}

export function recentCustomers() {
  const list = readStore(RECENT_KEY, []);
  return Array.isArray(list) ? list.filter((c) => c && looksLikeId(c.id)) : [];
}

/** Puts a customer first in the recent list (names are kept once known). */
export function rememberCustomer(id, name) {
  const list = recentCustomers();
  const previous = list.find((c) => c.id === id);
  const entry = { id, name: name ?? previous?.name ?? '' };
  writeStore(RECENT_KEY, [entry, ...list.filter((c) => c.id !== id)].slice(0, MAX_RECENT));
  writeStore(CURRENT_KEY, id);
}

/** Forgets the recent and the current customer (on sign-out: the next person here must not see them). */
export function forgetCustomers() {
  try {
    localStorage.removeItem(RECENT_KEY);
    localStorage.removeItem(CURRENT_KEY);
  } catch {
    // storage disabled: nothing was kept
  }
}

export function lastCustomerId() {
  const id = readStore(CURRENT_KEY, null);
  return typeof id === 'string' && looksLikeId(id) ? id : null;
}

export function renderRecent(currentId) {
  const select = byTestId('recent-customers');
  const list = recentCustomers();
  byTestId('recent-customers-field').hidden = list.length === 0;
  select.replaceChildren(
    el('option', { value: '', text: 'Choose a recent customer…' }),
    ...list.map((c) =>
      el('option', {
        value: c.id,
        selected: c.id === currentId,
        text: c.name ? `${c.name} · ${c.id.slice(0, 8)}` : c.id,
      }),
    ),
  );
}

function setMoney(testId, money) {
  const node = byTestId(testId);
  node.textContent = formatMoney(money);
  node.dataset.amount = money?.amount ?? '';
  node.dataset.currency = money?.currency ?? '';
}

/** Shows a customer (GET /api/customers/{id}) on the card. */
export function renderCustomerCard(customer) {
  const card = byTestId('customer-card');
  card.hidden = false;
  card.dataset.customerId = customer.customerId;
  card.dataset.version = String(customer.version ?? '');
  byTestId('customer-card-name').textContent = customer.name ?? '—';
  byTestId('customer-card-id').textContent = customer.customerId;
  setMoney('credit-limit', customer.creditLimit);
  setMoney('credit-reserved', customer.creditReserved);
  setMoney('credit-available', customer.availableCredit);

  // The meter shows the reserved share of the limit (styling only; numbers above are the truth).
  const limit = Number(customer.creditLimit?.amount);
  const reserved = Number(customer.creditReserved?.amount);
  const share = limit > 0 && Number.isFinite(reserved) ? Math.min(1, Math.max(0, reserved / limit)) : 0;
  byTestId('credit-meter').style.width = `${(share * 100).toFixed(1)}%`;
}

export function hideCustomerCard() {
  byTestId('customer-card').hidden = true;
}

export function setCardBusy(busy) {
  byTestId('customer-card').setAttribute('aria-busy', String(busy));
}
