// A server-sent event stream that stays open: the stream's own reconnect (resuming after its last id),
// and, when it gives up (an HTTP error), a new one after a growing delay, resuming after the old one's last
// id when the stream has ids (the change-log position sent alone included: see sse.js).

import { streamOptions } from './api.js';
import { EventStream } from './sse.js';

const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

/**
 * Opens urlOf(lastEventId) and hands each named event's parsed data to handlers[name](data).
 * onState('live' | 'reconnecting') reports the connection. Returns { close() }.
 */
export function openLiveStream(urlOf, handlers, onState = () => {}) {
  let source = null;
  let lastEventId = null;
  let failures = 0;
  let timer = null;
  let closed = false;

  function connect() {
    timer = null;
    if (closed) return;
    // resume after the old stream's last id: its last order's, or the position the server sent alone
    if (source) lastEventId = source.lastEventId || null;
    source?.close();
    const es = new EventStream(urlOf, lastEventId, streamOptions());
    source = es;
    es.addEventListener('open', () => {
      failures = 0;
      onState('live');
    });
    for (const [name, handle] of Object.entries(handlers)) {
      es.addEventListener(name, (event) => {
        if (es !== source) return;
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        handle(data);
      });
    }
    es.addEventListener('error', () => {
      if (es !== source || closed) return;
      failures += 1;
      onState('reconnecting');
      if (es.readyState === EventStream.CLOSED && !timer) {
        es.close();
        const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(failures - 1, 10));
        timer = setTimeout(connect, delay * (0.75 + Math.random() * 0.5));
      }
    });
  }

  onState('reconnecting');
  connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      source?.close();
      source = null;
    },
  };
}
