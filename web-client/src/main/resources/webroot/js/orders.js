// The current customer's orders: a version-guarded store and its list view.
//
// Rule: a state of an order replaces the shown one only if its version is not lower, so a late
// answer or a replayed event can never take the list back in time.

import { el, formatMoney, formatTime, reasonText, shortId, announce } from './ui.js';

const CANCELLABLE = new Set(['PENDING', 'APPROVED']);

/**
 * listEl: the <ul> of orders; emptyEl: the "no orders yet" note;
 * onCancel(orderId), onOpen(orderId): user intents.
 */
export function createOrdersView({ listEl, emptyEl, countEl, onCancel, onOpen }) {
  /** orderId -> { order, acceptedVersion, cancelling, row, sortKey } */
  const entries = new Map();
  let selectedId = null;

  listEl.addEventListener('click', (event) => {
    const row = event.target.closest('[data-testid="order-row"]');
    if (!row || !listEl.contains(row)) return;
    const id = row.dataset.orderId;
    if (event.target.closest('[data-testid="order-cancel"]')) {
      onCancel(id);
      return;
    }
    // A click anywhere else on the row (or its "details" button) opens the history.
    if (event.target.closest('a, input, select, textarea')) return;
    onOpen(id);
  });

  function sortKey(order) {
    return order.createdAt ?? '';
  }

  function position(entry) {
    // Newest first; rows without a createdAt yet (just placed) stay on top.
    let before = null;
    for (const other of listEl.children) {
      if (other === entry.row) continue;
      const otherKey = entries.get(other.dataset.orderId)?.sortKey ?? '';
      if (otherKey < entry.sortKey) {
        before = other;
        break;
      }
    }
    if (before) {
      if (entry.row.nextSibling !== before) listEl.insertBefore(entry.row, before);
    } else if (entry.row.parentNode !== listEl || entry.row !== listEl.lastElementChild) {
      listEl.append(entry.row);
    }
  }

  function updateEmpty() {
    emptyEl.hidden = entries.size > 0;
    if (countEl) countEl.textContent = entries.size ? `(${entries.size})` : '';
  }

  /** Builds the row's parts once; render() then only updates them, so elements stay the same nodes. */
  function build(entry) {
    const parts = {
      total: el('span', { class: 'order-total', dataset: { testid: 'order-total' } }),
      status: el('span', { dataset: { testid: 'order-status' } }),
      settling: el('span', { class: 'settling', dataset: { testid: 'order-settling' } }),
      reason: el('p', { class: 'order-reason', dataset: { testid: 'order-reason' } }),
      open: el('button', { type: 'button', class: 'order-open', dataset: { testid: 'order-open' }, 'aria-controls': 'history-panel' },
        el('span', { class: 'sr-only', text: 'Show history of order ' })),
      openId: el('span', { class: 'mono' }),
      time: el('time'),
      version: el('span', { class: 'order-version', dataset: { testid: 'order-version' } }),
      actions: el('div', { class: 'order-actions' }),
      cancel: el('button', { type: 'button', class: 'btn btn--ghost btn--small', dataset: { testid: 'order-cancel' } }),
    };
    parts.open.append(parts.openId);
    entry.row.append(
      el('div', { class: 'order-head' }, parts.total, parts.status, parts.settling),
      parts.reason,
      el('p', { class: 'order-meta' }, parts.open, parts.time, parts.version),
      parts.actions,
    );
    entry.parts = parts;
  }

  function render(entry) {
    const { order, row } = entry;
    if (!entry.parts) build(entry);
    const p = entry.parts;
    const status = order.status ?? 'PENDING';
    const selected = order.orderId === selectedId;
    row.dataset.orderId = order.orderId;
    row.dataset.version = String(order.version ?? '');
    row.dataset.status = status;
    row.className = `order order--${status.toLowerCase()}${selected ? ' order--selected' : ''}`;

    p.total.textContent = formatMoney(order.total);
    p.status.className = `badge badge--${status.toLowerCase()}`;
    p.status.textContent = status;

    let settlingText = '';
    if (entry.cancelling) settlingText = 'cancelling…';
    else if (status === 'PENDING' || (entry.acceptedVersion ?? 0) > (order.version ?? 0)) {
      settlingText = `settling… (v${Math.max(entry.acceptedVersion ?? 0, order.version ?? 0)} accepted)`;
    }
    p.settling.textContent = settlingText;
    p.settling.hidden = !settlingText;

    p.reason.textContent = reasonText(order.reason);
    p.reason.dataset.reason = order.reason ?? '';
    p.reason.hidden = !order.reason;

    p.openId.textContent = shortId(order.orderId);
    p.open.title = `Order ${order.orderId}`;
    p.open.setAttribute('aria-expanded', String(selected));

    const when = order.updatedAt ?? order.createdAt;
    if (when) {
      p.time.dateTime = when;
      p.time.textContent = formatTime(when);
    } else {
      p.time.removeAttribute('datetime');
      p.time.textContent = 'just now';
    }
    p.version.textContent = `v${order.version ?? '?'}`;

    if (CANCELLABLE.has(status)) {
      p.cancel.textContent = entry.cancelling ? 'Cancelling…' : 'Cancel';
      p.cancel.setAttribute('aria-label', `Cancel order ${shortId(order.orderId)}`);
      p.cancel.disabled = Boolean(entry.cancelling);
      if (!p.cancel.isConnected) p.actions.append(p.cancel);
    } else if (p.cancel.isConnected) {
      const hadFocus = document.activeElement === p.cancel;
      p.cancel.remove();
      if (hadFocus) p.open.focus();
    }
  }

  function upsert(order, { acceptedVersion } = {}) {
    let entry = entries.get(order.orderId);
    const isNew = !entry;
    if (isNew) {
      entry = { order, acceptedVersion: acceptedVersion ?? null, cancelling: false, row: el('li', { dataset: { testid: 'order-row' } }), sortKey: '' };
      entries.set(order.orderId, entry);
    } else {
      entry.order = order;
    }
    const key = sortKey(order) || entry.sortKey || '\uffff';
    const moved = key !== entry.sortKey;
    entry.sortKey = key;
    render(entry);
    if (isNew || moved) position(entry);
    updateEmpty();
    return entry;
  }

  return {
    /** Applies an order state from the server; returns true if it changed what is shown. */
    applyServerOrder(order) {
      if (!order?.orderId) return false;
      const current = entries.get(order.orderId);
      if (current && (order.version ?? 0) < (current.order.version ?? 0)) return false; // never go back
      const previousStatus = current?.order.status;
      const merged = { ...order };
      upsert(merged);
      const entry = entries.get(order.orderId);
      if (entry.cancelling && (entry.acceptedVersion ?? 0) <= (order.version ?? 0)) {
        entry.cancelling = false;
        render(entry);
      }
      if (previousStatus && previousStatus !== order.status) {
        const words = order.status === 'REJECTED' && order.reason ? `rejected: ${reasonText(order.reason)}` : String(order.status).toLowerCase();
        announce(`Order ${shortId(order.orderId)} ${words}.`);
      }
      return true;
    },

    /** Shows a just-accepted order at once (PENDING), unless the stream was faster. */
    addPlaced({ orderId, customerId, total, status = 'PENDING', version }) {
      const current = entries.get(orderId);
      if (current) {
        current.acceptedVersion = Math.max(current.acceptedVersion ?? 0, version ?? 0);
        render(current);
        return;
      }
      upsert({ orderId, customerId, total, status, version }, { acceptedVersion: version });
    },

    setCancelling(orderId, cancelling, acceptedVersion) {
      const entry = entries.get(orderId);
      if (!entry) return;
      if (acceptedVersion != null) entry.acceptedVersion = Math.max(entry.acceptedVersion ?? 0, acceptedVersion);
      // Keep the "cancelling…" marker until the projection has caught up with the accepted version.
      entry.cancelling = cancelling && !(acceptedVersion != null && (entry.order.version ?? 0) >= acceptedVersion);
      render(entry);
    },

    setSelected(orderId) {
      const previous = selectedId;
      selectedId = orderId;
      for (const id of [previous, orderId]) {
        const entry = id && entries.get(id);
        if (entry) render(entry);
      }
    },

    get(orderId) {
      return entries.get(orderId)?.order ?? null;
    },

    /** Orders whose shown state lags a version a command was accepted with. */
    lagging() {
      return [...entries.values()]
        .filter((e) => e.order.status === 'PENDING' || (e.acceptedVersion ?? 0) > (e.order.version ?? 0))
        .map((e) => ({ orderId: e.order.orderId, minVersion: Math.max(e.acceptedVersion ?? 0, e.order.version ?? 0) }));
    },

    focusRow(orderId) {
      entries.get(orderId)?.row.querySelector('[data-testid="order-open"]')?.focus();
    },

    clear() {
      entries.clear();
      selectedId = null;
      listEl.replaceChildren();
      updateEmpty();
    },
  };
}
