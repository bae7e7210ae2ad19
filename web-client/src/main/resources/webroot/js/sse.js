// A server-sent event stream read with fetch, as the browser's EventSource reads one, with one difference:
// its last event id can be read at any time. The query side starts every order stream with its change-log
// position as an `id:` line alone; EventSource takes that as its last id but dispatches no event, so a page
// could never learn it, and a stream it opens anew after an HTTP error would start afresh instead of resuming.
//
// As EventSource: 'open' when the response is a 200 text/event-stream; each event dispatched under its name
// ('message' when it has none) as a MessageEvent with data and lastEventId; after a network error or the
// server ending the stream, 'error' with readyState CONNECTING, and a reconnect after the server's `retry:`
// delay, resuming after the last id; after an HTTP error or another content type, 'error' with readyState
// CLOSED, and no reconnect (the caller decides).

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;
const DEFAULT_RETRY_MS = 3000;

export class EventStream extends EventTarget {
  static CONNECTING = CONNECTING;
  static OPEN = OPEN;
  static CLOSED = CLOSED;

  #urlOf;
  #credentials;
  #lastEventId;
  #readyState = CONNECTING;
  #retryMs = DEFAULT_RETRY_MS;
  #abort = null;
  #timer = null;

  /**
   * Opens urlOf(lastEventId): lastEventId is where to resume (null or '' for the current state), and again
   * the stream's last id at each reconnect. withCredentials sends cookies to another origin, as EventSource's.
   */
  constructor(urlOf, lastEventId = null, { withCredentials = false } = {}) {
    super();
    this.#urlOf = urlOf;
    this.#lastEventId = lastEventId ?? '';
    this.#credentials = withCredentials ? 'include' : 'same-origin';
    this.#connect();
  }

  get readyState() {
    return this.#readyState;
  }

  /** The last id the stream set, an `id:` line alone included; '' when it has none. */
  get lastEventId() {
    return this.#lastEventId;
  }

  close() {
    this.#readyState = CLOSED;
    clearTimeout(this.#timer);
    this.#abort?.abort();
    this.#abort = null;
  }

  async #connect() {
    this.#timer = null;
    if (this.#readyState === CLOSED) return;
    const abort = new AbortController();
    this.#abort = abort;
    let response;
    try {
      response = await fetch(this.#urlOf(this.#lastEventId || null), {
        headers: { Accept: 'text/event-stream' },
        credentials: this.#credentials,
        cache: 'no-store',
        signal: abort.signal,
      });
    } catch {
      this.#reconnect(abort);
      return;
    }
    if (abort !== this.#abort) return;
    const type = response.headers.get('Content-Type') ?? '';
    if (response.status !== 200 || !/^text\/event-stream\s*(;|$)/i.test(type)) {
      abort.abort();
      this.#fail();
      return;
    }
    this.#readyState = OPEN;
    this.dispatchEvent(new Event('open'));
    try {
      await this.#read(response.body.getReader(), abort);
    } catch {
      // a network error: reconnect below
    }
    this.#reconnect(abort);
  }

  /** Parses the body as the event-stream format says, dispatching each event as its blank line ends it. */
  async #read(reader, abort) {
    const decoder = new TextDecoder();
    let buffer = '';
    let first = true;
    let event = { type: '', data: [], id: this.#lastEventId };
    for (;;) {
      const { value, done } = await reader.read();
      if (done || abort !== this.#abort) return;
      buffer += decoder.decode(value, { stream: true });
      if (first && buffer.length > 0) {
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
        first = false;
      }
      let end;
      // a CR at the very end may be the first half of a CRLF: wait for the next chunk
      while ((end = buffer.search(/\r\n|\r(?=[^])|\n/)) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
        if (line === '') {
          event = this.#dispatch(event);
          if (abort !== this.#abort) return;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? '' : line.slice(colon + 1);
        if (text.startsWith(' ')) text = text.slice(1);
        if (field === 'event') event.type = text;
        else if (field === 'data') event.data.push(text);
        else if (field === 'id' && !text.includes('\0')) event.id = text;
        else if (field === 'retry' && /^\d+$/.test(text)) this.#retryMs = Number(text);
      }
    }
  }

  /** The end of an event: the id is taken even without data; an event is dispatched only with data. */
  #dispatch(event) {
    this.#lastEventId = event.id;
    if (event.data.length > 0) {
      this.dispatchEvent(new MessageEvent(event.type || 'message', {
        data: event.data.join('\n'),
        lastEventId: event.id,
      }));
    }
    return { type: '', data: [], id: this.#lastEventId };
  }

  #reconnect(abort) {
    if (abort !== this.#abort || this.#readyState === CLOSED) return;
    this.#readyState = CONNECTING;
    this.dispatchEvent(new Event('error'));
    if (this.#readyState === CLOSED || abort !== this.#abort) return; // closed by a listener
    this.#timer = setTimeout(() => this.#connect(), this.#retryMs);
  }

  #fail() {
    this.#readyState = CLOSED;
    this.dispatchEvent(new Event('error'));
  }
}
