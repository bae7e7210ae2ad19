// A server-sent event stream that stays open. While it is CONNECTING after an error it retries by itself,
// resuming after its last id. When it gives up (readyState CLOSED: an HTTP error, a wrong content type), a new
// one is opened after a growing, jittered delay, resuming after the last id the old one had: the id of its
// last event, or the change-log position the server sends alone (EventStream, unlike EventSource, lets us
// read that one: see sse.js).

import { streamOptions } from './api.js';
import { EventStream } from './sse.js';

const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

/**
 * Opens urlOf(lastEventId) and hands each named event's parsed data to handlers[name](data); an event whose
 * data is not JSON is skipped.
 * onState('live' | 'reconnecting' | 'offline') reports each change of the connection: 'offline' after
 * offlineAfter failures in a row, or while the browser says it is offline. onError() is called on each
 * failure (a stream cannot say why: an ended session looks like a network error).
 * Returns { close(), reconnectNow(), lastEventId }.
 */
export function openLiveStream(urlOf, handlers, { onState = () => {}, onError = () => {}, offlineAfter = Infinity } = {}) {
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

  const live = () => {
    failures = 0;
    setState('live');
  };

  const failureState = () => (failures >= offlineAfter || navigator.onLine === false ? 'offline' : 'reconnecting');

  function connect() {
    clearTimeout(timer);
    timer = null;
    if (closed) return;
    // resume after the old stream's last id: its last event's, or the position the server sent alone
    if (source) lastEventId = source.lastEventId || null;
    source?.close();
    const es = new EventStream(urlOf, lastEventId, streamOptions());
    source = es;
    es.addEventListener('open', () => {
      if (es === source) live();
    });
    for (const [name, handle] of Object.entries(handlers)) {
      es.addEventListener(name, (event) => {
        if (es !== source) return;
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          console.warn(`${name} event with unreadable data`, event.data);
          return;
        }
        // a message proves the connection even if 'open' was missed
        if (state !== 'live') live();
        handle(data);
      });
    }
    es.addEventListener('error', () => {
      if (es !== source || closed) return;
      failures += 1;
      if (es.readyState === EventStream.CLOSED) scheduleReconnect();
      setState(failureState());
      onError();
    });
  }

  function scheduleReconnect() {
    source?.close();
    if (timer) return;
    const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(failures - 1, 10));
    timer = setTimeout(connect, delay * (0.75 + Math.random() * 0.5)); // jitter
  }

  function reconnectNow() {
    if (closed) return;
    setState('reconnecting');
    connect();
  }

  const onOnline = () => {
    if (state !== 'live') reconnectNow();
  };
  const onOffline = () => {
    if (state !== 'live') setState('offline');
  };
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', onOffline);

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
