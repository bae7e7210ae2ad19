// Small DOM and formatting helpers shared by the views.

/** Creates an element: el('li', { class: 'x', dataset: { testid: 'y' }, text: 'z' }, ...children). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const byTestId = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);

/** Money as the API gives it, e.g. "250.00 EUR" (kept exact: never through a float). */
export function formatMoney(money) {
  if (!money || money.amount == null) return '—';
  return `${money.amount} ${money.currency ?? ''}`.trim();
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function formatTime(iso, { short = false } = {}) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return (short ? clockFormat : timeFormat).format(d);
}

const REASONS = {
  CREDIT_LIMIT_EXCEEDED: 'credit limit would be exceeded',
  CREDIT_CHECK_TIMEOUT: 'credit check timed out',
};

/** A rejection reason in words. */
export function reasonText(reason) {
  if (!reason) return '';
  return REASONS[reason] ?? String(reason).toLowerCase().replaceAll('_', ' ');
}

export const shortId = (id) => (id ? String(id).slice(0, 8) : '');

/** "OrderCreated" -> "Order created". */
export function humanizeType(type) {
  if (!type) return 'Event';
  const words = String(type).replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(/[\s_]+/);
  return words.map((w, i) => (i === 0 ? w.charAt(0).toUpperCase() + w.slice(1).toLowerCase() : w.toLowerCase())).join(' ');
}

export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

// ---- the error alert and the polite announcer ----

/**
 * Shows an error (an ApiError, an Error or a string) in the alert region. A 401 is not shown here:
 * it ends the session, and the sign-in panel says why.
 */
export function showError(error, context) {
  if (error?.status === 401) return;
  const box = byTestId('error-message');
  const wrap = box.closest('.alert');
  let text;
  if (typeof error === 'string') text = error;
  else if (error?.status === 429) text = slowDownText(error.retryAfter);
  else if (error?.title) text = error.detail ? `${error.title}: ${error.detail}` : error.title;
  else text = error?.message || 'Something went wrong.';
  if (context) text = `${context} — ${text}`;
  if (error?.status) box.dataset.status = String(error.status);
  else delete box.dataset.status;
  if (error?.retryAfter != null) box.dataset.retryAfter = String(error.retryAfter);
  else delete box.dataset.retryAfter;
  box.textContent = text;
  wrap.hidden = false;
  // Make sure a sighted user scrolled further down sees it too (screen readers hear role=alert).
  const rect = wrap.getBoundingClientRect();
  if (rect.top < 0 || rect.bottom > window.innerHeight) wrap.scrollIntoView({ block: 'nearest' });
}

/** The words for a 429: what happened and when to try again. */
export function slowDownText(retryAfter) {
  const when = retryAfter > 0 ? `in ${retryAfter} second${retryAfter === 1 ? '' : 's'}` : 'in a moment';
  return `Slow down: too many requests in a short time. Try again ${when}.`;
}

export function clearError() {
  const box = byTestId('error-message');
  box.textContent = '';
  delete box.dataset.status;
  delete box.dataset.retryAfter;
  box.closest('.alert').hidden = true;
}

/** Announces a message to screen readers (polite) without moving focus. */
export function announce(message) {
  const region = byTestId('announcer');
  region.textContent = '';
  // A separate task so that repeated identical messages are announced again.
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}

// ---- amount validation (mirrors the API's rules so that most mistakes are caught before a request) ----

const AMOUNT = /^\d{1,10}(\.\d{1,2})?$/;

/** Returns an error message for an amount string, or '' when it is valid. */
export function amountProblem(raw) {
  const s = raw.trim();
  if (!s) return 'Enter an amount.';
  if (!AMOUNT.test(s)) return 'Enter an amount like 250 or 250.00 (at most two decimals).';
  const [whole, frac = ''] = s.split('.');
  if (/^0*$/.test(whole) && /^0*$/.test(frac)) return 'The amount must be greater than 0.';
  const w = whole.replace(/^0+/, '') || '0';
  if (w.length > 10 || (w.length === 10 && (w > '1000000000' || (w === '1000000000' && /[1-9]/.test(frac))))) {
    return 'The amount can be at most 1000000000.';
  }
  return '';
}

/** Marks a field invalid (or valid again) for assistive technology and styling. */
export function setInvalid(input, invalid) {
  if (invalid) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}
