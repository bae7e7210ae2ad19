// The operator's console: the pipeline live, orders by status, customers, dead letters and rebuilds.
// Shown to operators only (the server answers 403 to a customer on every route it uses anyway).

import * as api from './api.js';
import { openLiveStream } from './live.js';
import { createPipelineView } from './pipeline.js';
import { amountProblem, announce, byTestId, el, formatMoney, formatTime, setInvalid, shortId } from './ui.js';

const LATEST = 20;
const CUSTOMERS_PER_PAGE = 10;
const CUSTOMERS_REFRESH_MS = 2000;
const REBUILD_POLL_MS = 500;
const STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'CANCELLED'];

/**
 * Where parked records are listed and re-driven, on which side's base URL; a source that answers 404 has
 * none (not deployed).
 */
const DEAD_LETTER_SOURCES = [
  { name: 'projector', side: 'query', path: '/api/admin/dead-letters' },
  { name: 'saga', side: 'command', path: '/api/admin/saga/dead-letters' },
];

const describe = (e) => (e?.detail ? `${e.title}: ${e.detail}` : e?.title || e?.message || 'failed');

/** onOpenCustomer(customerId): opens the customer's workspace. */
export function createConsole({ onOpenCustomer }) {
  const section = byTestId('console');
  const pipeline = createPipelineView();
  let streams = [];
  let active = false;

  // ---------------------------------------------------------------- orders by status

  const latest = new Map(); // orderId -> order
  let filter = '';
  let renderQueued = false;

  function renderLatest() {
    renderQueued = false;
    const shown = [...latest.values()]
      .filter((o) => !filter || o.status === filter)
      .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.orderId.localeCompare(a.orderId))
      .slice(0, LATEST);
    for (const id of [...latest.keys()]) {
      if (latest.size > LATEST * 10 && !shown.some((o) => o.orderId === id)) latest.delete(id);
    }
    byTestId('latest-orders').replaceChildren(...shown.map((o) => el('li', {
      class: `latest__item order--${o.status.toLowerCase()}`,
      dataset: { testid: 'latest-order', orderId: o.orderId, status: o.status },
    },
    el('span', { class: `badge badge--${o.status.toLowerCase()}`, text: o.status }),
    el('span', { class: 'order-total', text: formatMoney(o.total) }),
    el('span', { class: 'mono hint', text: shortId(o.orderId) }),
    el('button', {
      type: 'button', class: 'order-open', text: `customer ${shortId(o.customerId)}`,
      'aria-label': `Open customer ${o.customerId}`, onclick: () => onOpenCustomer(o.customerId),
    }),
    el('time', { class: 'hint', datetime: o.updatedAt, text: formatTime(o.updatedAt, { short: true }) }))));
  }

  function queueLatest() {
    if (!renderQueued) {
      renderQueued = true;
      requestAnimationFrame(renderLatest);
    }
  }

  async function loadLatest() {
    try {
      const { body } = await api.listOrders({ status: filter, limit: LATEST });
      for (const order of body.items) {
        const known = latest.get(order.orderId);
        if (!known || known.version <= order.version) latest.set(order.orderId, order);
      }
      queueLatest();
    } catch (e) {
      byTestId('operator-stream-state').textContent = `latest orders not read: ${describe(e)}`;
    }
  }

  function onOrder(order) {
    const known = latest.get(order.orderId);
    if (!known || known.version <= order.version) latest.set(order.orderId, order);
    queueLatest();
    refreshCustomersSoon();
  }

  for (const button of section.querySelectorAll('.status-count')) {
    button.addEventListener('click', () => {
      filter = button.dataset.status;
      for (const b of section.querySelectorAll('.status-count')) b.setAttribute('aria-pressed', String(b === button));
      loadLatest();
      queueLatest();
    });
  }

  function renderCounts(orders) {
    if (!orders) return;
    let all = 0;
    for (const s of STATUSES) {
      const n = orders[s] ?? 0;
      all += n;
      const node = byTestId(`count-${s}`);
      node.textContent = String(n);
      node.dataset.count = String(n);
    }
    byTestId('count-ALL').textContent = String(all);
    byTestId('count-ALL').dataset.count = String(all);
  }

  // ---------------------------------------------------------------- customers

  const customers = { min: '', cursors: [null], page: 0, next: null, items: [], sort: 'availableCredit', dir: -1 };
  let customersTimer = null;
  let customersLoadedAt = 0;

  const sortValue = (c, key) => (key === 'name' ? (c.name ?? '').toLowerCase() : Number(c[key]?.amount ?? 0));

  function renderCustomers() {
    const { sort, dir } = customers;
    const rows = [...customers.items].sort((a, b) => {
      const x = sortValue(a, sort);
      const y = sortValue(b, sort);
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
    byTestId('customers-rows').replaceChildren(...rows.map((c) => el('tr', { dataset: { testid: 'customer-row', customerId: c.customerId } },
      el('th', { scope: 'row' }, el('button', {
        type: 'button', class: 'order-open', text: c.name, 'aria-label': `Open customer ${c.name}`,
        onclick: () => onOpenCustomer(c.customerId),
      })),
      el('td', { class: 'num', text: formatMoney(c.creditLimit) }),
      el('td', { class: 'num', text: formatMoney(c.creditReserved) }),
      el('td', { class: 'num', dataset: { testid: 'customer-available' }, text: formatMoney(c.availableCredit) }))));
    for (const th of section.querySelectorAll('[data-testid="customers-table"] th[aria-sort]')) {
      const key = th.querySelector('.sort').dataset.sort;
      th.setAttribute('aria-sort', key === sort ? (dir < 0 ? 'descending' : 'ascending') : 'none');
    }
    byTestId('customers-page').textContent = `page ${customers.page + 1}`;
    byTestId('customers-prev').disabled = customers.page === 0;
    byTestId('customers-next').disabled = !customers.next;
  }

  async function loadCustomers() {
    customersLoadedAt = Date.now();
    try {
      const { body } = await api.listCustomers({
        minAvailableCredit: customers.min, limit: CUSTOMERS_PER_PAGE, after: customers.cursors[customers.page],
      });
      customers.items = body.items;
      customers.next = body.next;
      byTestId('customers-state').textContent = '';
      renderCustomers();
    } catch (e) {
      byTestId('customers-state').textContent = `not read: ${describe(e)}`;
    }
  }

  /** Live: the page is read again at most every few seconds while orders change credit. */
  function refreshCustomersSoon() {
    if (customersTimer || !active) return;
    const wait = Math.max(0, customersLoadedAt + CUSTOMERS_REFRESH_MS - Date.now());
    customersTimer = setTimeout(() => {
      customersTimer = null;
      if (active) loadCustomers();
    }, wait);
  }

  byTestId('customers-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byTestId('min-available');
    const raw = input.value.trim();
    const bad = raw !== '' && amountProblem(raw) !== '' && raw !== '0';
    setInvalid(input, bad);
    if (bad) {
      byTestId('customers-state').textContent = 'Enter an amount like 250 or 250.00.';
      input.focus();
      return;
    }
    customers.min = raw;
    customers.cursors = [null];
    customers.page = 0;
    loadCustomers();
  });
  byTestId('customers-next').addEventListener('click', () => {
    if (!customers.next) return;
    customers.cursors[customers.page + 1] = customers.next;
    customers.page += 1;
    loadCustomers();
  });
  byTestId('customers-prev').addEventListener('click', () => {
    if (customers.page === 0) return;
    customers.page -= 1;
    loadCustomers();
  });
  for (const button of section.querySelectorAll('.sort')) {
    button.addEventListener('click', () => {
      const key = button.dataset.sort;
      customers.dir = customers.sort === key ? -customers.dir : (key === 'name' ? 1 : -1);
      customers.sort = key;
      renderCustomers();
    });
  }

  // ---------------------------------------------------------------- dead letters

  let deadLetterTotal = null;

  async function loadDeadLetters() {
    const lists = await Promise.all(DEAD_LETTER_SOURCES.map(async (source) => {
      try {
        const { body } = await api.listDeadLetters(source);
        return body.items.map((item) => ({ ...item, source }));
      } catch (e) {
        if (e.status !== 404) byTestId('dead-letter-outcome').textContent = `${source.name}: ${describe(e)}`;
        return [];
      }
    }));
    const items = lists.flat();
    byTestId('dead-letters-empty').hidden = items.length > 0;
    byTestId('dead-letters').replaceChildren(...items.map((d) => el('li', {
      class: 'dead-letter', dataset: { testid: 'dead-letter', id: String(d.id), source: d.source.name, redriven: String(Boolean(d.redrivenAt)) },
    },
    el('p', {}, el('strong', { text: `${d.source.name} #${d.id}` }), ` ${d.topic}-${d.partition} @ ${d.offset}`),
    el('p', { class: 'dead-letter__error', text: d.error }),
    el('p', { class: 'hint', text: `parked ${formatTime(d.parkedAt)}${d.redrivenAt ? ` · re-driven ${formatTime(d.redrivenAt)}` : ''}` }),
    d.redrivenAt ? null : el('button', {
      type: 'button', class: 'btn btn--small', text: 'Re-drive', dataset: { testid: 'redrive' },
      'aria-label': `Re-drive ${d.source.name} dead letter ${d.id}`, onclick: (event) => redrive(d, event.currentTarget),
    }))));
  }

  async function redrive(deadLetter, button) {
    button.disabled = true;
    const outcome = byTestId('dead-letter-outcome');
    try {
      const { body } = await api.redriveDeadLetter(deadLetter.source, deadLetter.id);
      outcome.dataset.outcome = 'redriven';
      outcome.textContent = `Dead letter ${deadLetter.source.name} #${deadLetter.id} re-driven: ${body.type ?? 'event'}`
        + `${body.streamId ? ` of ${shortId(body.streamId)}` : ''}${body.version ? ` version ${body.version}` : ''} applied.`;
    } catch (e) {
      outcome.dataset.outcome = 'failed';
      outcome.textContent = `Dead letter ${deadLetter.source.name} #${deadLetter.id} not re-driven: ${describe(e)}`;
      button.disabled = false;
    }
    announce(outcome.textContent);
    loadDeadLetters();
  }

  byTestId('dead-letters-refresh').addEventListener('click', loadDeadLetters);

  // ---------------------------------------------------------------- rebuild

  let rebuildTimer = null;
  const RUNNING = new Set(['BUILDING', 'CATCHING_UP', 'SWITCHING']);
  const STATE_TEXT = {
    IDLE: 'No rebuild since this node started.',
    BUILDING: 'Rebuilding: reading the event store…',
    CATCHING_UP: 'Rebuilding: catching up with the live projection…',
    SWITCHING: 'Switching over to the rebuilt tables…',
    DONE: 'Rebuilt and switched over.',
    FAILED: 'The rebuild failed; the live tables are unchanged.',
  };

  function renderRebuild(status) {
    const progress = byTestId('rebuild-progress');
    progress.value = status.progress ?? (status.state === 'DONE' ? 1 : 0);
    progress.dataset.state = status.state;
    byTestId('rebuild-state').textContent = STATE_TEXT[status.state] ?? status.state;
    const parts = [];
    if (status.eventsTotal) parts.push(`${status.feedPosition} of ${status.eventsTotal} events folded`);
    else if (status.eventsRead) parts.push(`${status.eventsRead} events folded`);
    if (status.eventsPerSecond) parts.push(`${status.eventsPerSecond} events/s`);
    if (RUNNING.has(status.state) && status.secondsLeft != null) parts.push(`about ${status.secondsLeft} s left`);
    if (status.state === 'DONE' && status.elapsedMs != null) parts.push(`took ${(status.elapsedMs / 1000).toFixed(1)} s`);
    if (status.error) parts.push(status.error);
    byTestId('rebuild-figures').textContent = parts.join(' · ');
    byTestId('rebuild-start').disabled = RUNNING.has(status.state);
  }

  async function pollRebuild() {
    rebuildTimer = null;
    try {
      const { body } = await api.getRebuild();
      renderRebuild(body);
      if (RUNNING.has(body.state) && active) rebuildTimer = setTimeout(pollRebuild, REBUILD_POLL_MS);
      else if (body.state === 'DONE' || body.state === 'FAILED') announce(STATE_TEXT[body.state]);
    } catch (e) {
      byTestId('rebuild-figures').textContent = `status not read: ${describe(e)}`;
    }
  }

  byTestId('rebuild-start').addEventListener('click', async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const { body } = await api.startRebuild();
      renderRebuild(body);
      announce('Rebuild started.');
      clearTimeout(rebuildTimer);
      rebuildTimer = setTimeout(pollRebuild, REBUILD_POLL_MS);
    } catch (e) {
      byTestId('rebuild-figures').textContent = `not started: ${describe(e)}`;
      button.disabled = false;
    }
  });

  // ---------------------------------------------------------------- live streams

  function onStatus(status) {
    byTestId('status-state').textContent = status.error ? status.error : `live · ${formatTime(status.at, { short: true })}`;
    if (status.error) return;
    pipeline.render(status);
    renderCounts(status.orders);
    const dead = Object.values(status.deadLetters ?? {}).reduce((a, b) => a + (b ?? 0), 0);
    if (deadLetterTotal !== null && dead !== deadLetterTotal) loadDeadLetters();
    deadLetterTotal = dead;
  }

  function openStreams() {
    const streamState = byTestId('operator-stream-state');
    streams = [
      openLiveStream(() => api.statusStreamUrl(), { status: onStatus }, {
        onState: (s) => {
          if (s !== 'live') byTestId('status-state').textContent = s;
        },
      }),
      openLiveStream(api.operatorOrderStreamUrl, {
        order: onOrder,
        reset: () => loadLatest(),
        skipped: (data) => {
          const note = byTestId('skipped-note');
          note.hidden = false;
          note.textContent = `${data.skipped} changes were skipped to keep up (rate cap); the list shows the newest.`;
          loadLatest();
        },
      }, { onState: (s) => { streamState.textContent = s; } }),
    ];
  }

  return {
    show() {
      if (active) return;
      active = true;
      section.hidden = false;
      byTestId('skip-to-console').hidden = false;
      openStreams();
      loadLatest();
      loadCustomers();
      loadDeadLetters();
      pollRebuild();
    },
    hide() {
      active = false;
      section.hidden = true;
      byTestId('skip-to-console').hidden = true;
      streams.forEach((s) => s.close());
      streams = [];
      clearTimeout(rebuildTimer);
      clearTimeout(customersTimer);
      customersTimer = null;
      latest.clear();
      pipeline.reset();
      deadLetterTotal = null;
    },
  };
}
