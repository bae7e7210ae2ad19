// The history panel of one order: its events as a timeline, and a slider that shows the order as
// it was at each event's time (GET /api/orders/{id}?asOf=INSTANT).

import { getOrder, getOrderHistory } from './api.js';
import { byTestId, debounce, el, formatMoney, formatTime, humanizeType, reasonText, shortId, showError } from './ui.js';

const ID_FIELDS = [
  ['eventId', 'Event id'],
  ['correlationId', 'Correlation id'],
  ['causationId', 'Causation id'],
];

/** Finds causation/correlation ids on the entry itself, in a metadata object, or in its data. */
function idOf(entry, field) {
  return entry[field] ?? entry.metadata?.[field] ?? entry.meta?.[field] ?? entry.data?.[field] ?? null;
}

function valueText(key, value) {
  if (value == null) return '—';
  if (typeof value === 'object' && 'amount' in value && 'currency' in value) return formatMoney(value);
  if (key === 'reason') return `${reasonText(value)} (${value})`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function renderEntry(entry, index) {
  const idFields = new Set(ID_FIELDS.map(([f]) => f));
  const data = entry.data && typeof entry.data === 'object' ? entry.data : {};
  const dataRows = Object.entries(data)
    .filter(([key]) => !idFields.has(key))
    .map(([key, value]) => el('div', { class: 'kv__row' }, el('dt', { text: key }), el('dd', { text: valueText(key, value) })));

  const idRows = ID_FIELDS.map(([field, label]) => {
    const value = idOf(entry, field);
    if (!value) return null;
    const testid = `history-${field.replace('Id', '').toLowerCase()}`; // history-event, history-correlation, history-causation
    return el('div', { class: 'kv__row' }, el('dt', { text: label }), el('dd', { class: 'mono', dataset: { testid }, text: String(value) }));
  }).filter(Boolean);

  return el(
    'li',
    { class: 'timeline__entry', dataset: { testid: 'history-entry', version: String(entry.version ?? ''), type: entry.type ?? '', index: String(index) } },
    el('button', { type: 'button', class: 'timeline__select', dataset: { testid: 'history-entry-select' }, 'aria-label': `Show the order as of event ${entry.version}: ${humanizeType(entry.type)}` },
      el('span', { class: 'timeline__version', text: `v${entry.version ?? '?'}` }),
      el('span', { class: 'timeline__type', dataset: { testid: 'history-entry-type' }, text: humanizeType(entry.type) }),
      el('time', { datetime: entry.occurredAt ?? '', text: formatTime(entry.occurredAt) })),
    dataRows.length ? el('dl', { class: 'kv' }, dataRows) : null,
    idRows.length ? el('dl', { class: 'kv kv--ids' }, idRows) : null,
  );
}

/** onClose(orderId): called after the panel closes (to move focus back). */
export function createHistoryView({ onClose }) {
  const panel = byTestId('history-panel');
  const timeline = byTestId('history-timeline');
  const slider = byTestId('asof-slider');
  const loading = byTestId('history-loading');

  let orderId = null;
  let entries = [];
  let historyRequest = null;
  let asOfRequest = null;

  function setAsOf(order) {
    const status = byTestId('asof-status');
    status.textContent = order?.status ?? '';
    status.className = `badge${order?.status ? ` badge--${order.status.toLowerCase()}` : ''}`;
    byTestId('asof-total').textContent = order ? formatMoney(order.total) : '';
    byTestId('asof-version').textContent = order?.version != null ? `version ${order.version}` : '';
    const reason = byTestId('asof-reason');
    reason.textContent = reasonText(order?.reason);
    reason.hidden = !order?.reason;
  }

  function highlight(index) {
    for (const item of timeline.children) {
      const on = Number(item.dataset.index) === index;
      item.classList.toggle('timeline__entry--current', on);
      if (on) item.setAttribute('aria-current', 'step');
      else item.removeAttribute('aria-current');
    }
  }

  function describe(index) {
    const entry = entries[index];
    if (!entry) return '';
    return `v${entry.version} · ${humanizeType(entry.type)} · ${formatTime(entry.occurredAt)}`;
  }

  async function loadAsOf(index) {
    const entry = entries[index];
    if (!entry || !orderId) return;
    asOfRequest?.abort();
    const controller = new AbortController();
    asOfRequest = controller;
    const forOrder = orderId;
    try {
      const { body } = await getOrder(forOrder, { asOf: entry.occurredAt, signal: controller.signal });
      if (controller !== asOfRequest || forOrder !== orderId) return;
      setAsOf(body);
      panel.dataset.asofVersion = String(body?.version ?? '');
    } catch (e) {
      if (e?.name === 'AbortError' || controller !== asOfRequest) return;
      setAsOf(null);
      showError(e, 'Could not show the order at that time');
    }
  }
  const loadAsOfSoon = debounce(loadAsOf, 150);

  function select(index, { immediate = false } = {}) {
    slider.value = String(index);
    byTestId('asof-time').textContent = describe(index);
    slider.setAttribute('aria-valuetext', describe(index));
    highlight(index);
    if (immediate) {
      loadAsOfSoon.cancel();
      loadAsOf(index);
    } else {
      loadAsOfSoon(index);
    }
  }

  slider.addEventListener('input', () => select(Number(slider.value)));
  slider.addEventListener('change', () => select(Number(slider.value), { immediate: true }));
  timeline.addEventListener('click', (event) => {
    const item = event.target.closest('[data-testid="history-entry"]');
    if (item) select(Number(item.dataset.index), { immediate: true });
  });
  byTestId('history-close').addEventListener('click', () => close());
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') close();
  });

  async function load({ keepSelection = false } = {}) {
    historyRequest?.abort();
    const controller = new AbortController();
    historyRequest = controller;
    const forOrder = orderId;
    const wasAtEnd = Number(slider.value) >= entries.length - 1;
    loading.hidden = false;
    panel.setAttribute('aria-busy', 'true');
    try {
      const { body } = await getOrderHistory(forOrder, { signal: controller.signal });
      if (controller !== historyRequest || forOrder !== orderId) return;
      entries = Array.isArray(body) ? body : [];
      timeline.replaceChildren(...entries.map(renderEntry));
      panel.dataset.versions = String(entries.length);
      slider.max = String(Math.max(0, entries.length - 1));
      slider.disabled = entries.length === 0;
      const index = keepSelection && !wasAtEnd ? Math.min(Number(slider.value), entries.length - 1) : entries.length - 1;
      if (entries.length) select(index, { immediate: true });
      else setAsOf(null);
    } catch (e) {
      if (e?.name === 'AbortError' || controller !== historyRequest) return;
      showError(e, 'Could not load the order history');
    } finally {
      if (controller === historyRequest) {
        loading.hidden = true;
        panel.setAttribute('aria-busy', 'false');
      }
    }
  }

  function open(id) {
    const same = id === orderId && !panel.hidden;
    orderId = id;
    panel.hidden = false;
    panel.dataset.orderId = id;
    byTestId('history-order-id').textContent = `Order ${id}`;
    byTestId('history-heading').textContent = `Order ${shortId(id)} history`;
    if (!same) {
      entries = [];
      timeline.replaceChildren();
      setAsOf(null);
      byTestId('asof-time').textContent = '';
      slider.max = '0';
      slider.value = '0';
    }
    load();
    byTestId('history-heading').focus();
    if (window.matchMedia('(max-width: 1099px)').matches) panel.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  function close() {
    if (panel.hidden) return;
    const closed = orderId;
    historyRequest?.abort();
    asOfRequest?.abort();
    loadAsOfSoon.cancel();
    panel.hidden = true;
    orderId = null;
    onClose(closed);
  }

  return {
    open,
    close,
    get orderId() {
      return panel.hidden ? null : orderId;
    },
    /** Reloads the timeline when a newer version of the shown order arrives. */
    orderChanged(order) {
      if (panel.hidden || order.orderId !== orderId) return;
      const last = entries[entries.length - 1]?.version ?? 0;
      if ((order.version ?? 0) > last) load({ keepSelection: true });
    },
  };
}
