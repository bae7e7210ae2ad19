// Live push of a customer's orders over Server-Sent Events, with resume and reconnect.
//
// While the stream is CONNECTING after an error it retries by itself, resuming after its last id. When
// it gives up (readyState CLOSED: an HTTP error, a wrong content type), we open a new one ourselves with
// exponential backoff, resuming after the last id the old one had: the id of its last order, or the
// change-log position the server sends alone (EventStream, unlike EventSource, lets us read that one).

import { customerOrderStreamUrl, streamOptions } from './api.js';
import { EventStream } from './sse.js';

const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;
const FAILURES_BEFORE_OFFLINE = 4;

/**
 * Opens the order stream of one customer.
 * handlers: onOrder(order), onReset(), onState('live' | 'reconnecting' | 'offline'), onExpired() when the
 * server ends the stream because the session's token expired, and onError() on each failure (the stream
 * cannot say why: an ended session looks like a network error).
 * Returns { close(), reconnectNow() }.
 */
export function openCustomerOrderStream(customerId, { onOrder, onReset, onState, onExpired = () => {}, onError = () => {} }) {
  let source = null;
  let lastEventId = null;
  let failures = 0;
  let timer = null;
  let closed = false;
  let state = null;

  const setState = (s) => {
    if (s !== state) {
      state = s;
      onState(s);
    }
  };

  const failureState = () =>
    failures >= FAILURES_BEFORE_OFFLINE || navigator.onLine === false ? 'offline' : 'reconnecting';

  function connect() {
    clearTimeout(timer);
    timer = null;
    if (closed) return;
    // resume after the old stream's last id: its last order's, or the position the server sent alone
    if (source) lastEventId = source.lastEventId || null;
    source?.close();
    const es = new EventStream((id) => customerOrderStreamUrl(customerId, id), lastEventId, streamOptions());
    source = es;

    es.addEventListener('open', () => {
      if (es !== source) return;
      failures = 0;
      setState('live');
    });

    es.addEventListener('order', (event) => {
      if (es !== source) return;
      let order;
      try {
        order = JSON.parse(event.data);
      } catch {
        console.warn('order event with unreadable data', event.data);
        return;
      }
      // A message proves the connection even if 'open' was missed.
      if (state !== 'live') {
        failures = 0;
        setState('live');
      }
      onOrder(order);
    });

    es.addEventListener('reset', () => {
      if (es !== source) return;
      onReset();
    });

    // The server's last word before it ends a stream whose token expired. The browser would reconnect
    // (and succeed, if the user signed in again meanwhile); whether to go on is the session's call.
    es.addEventListener('expired', () => {
      if (es !== source) return;
      onExpired();
    });

    es.addEventListener('error', () => {
      if (es !== source || closed) return;
      failures += 1;
      if (es.readyState === EventStream.CLOSED) {
        scheduleReconnect();
      }
      setState(failureState());
      onError();
    });
  }

  function scheduleReconnect() {
    source?.close();
    if (timer) return;
    const exp = BASE_DELAY_MS * 2 ** Math.min(failures - 1, 10);
    const delay = Math.min(MAX_DELAY_MS, exp) * (0.75 + Math.random() * 0.5); // jitter
    timer = setTimeout(connect, delay);
  }

  const onOnline = () => {
    if (state !== 'live') reconnectNow();
  };
  const onOffline = () => {
    if (state !== 'live') setState('offline');
  };
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', onOffline);

  function reconnectNow() {
    if (closed) return;
    setState('reconnecting');
    connect();
  }

  setState('reconnecting');
  connect();

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      source?.close();
      source = null;
      window.removeEventListener('online', onOnline);
      window.removeEventListener('offline', onOffline);
    },
    reconnectNow,
    get lastEventId() {
      return source?.lastEventId || lastEventId;
    },
  };
}
