// Live push of a customer's orders over Server-Sent Events, with resume and reconnect (live.js).

import { customerOrderStreamUrl } from './api.js';
import { openLiveStream } from './live.js';

const FAILURES_BEFORE_OFFLINE = 4;

/**
 * Opens the order stream of one customer.
 * handlers: onOrder(order), onReset(), onState('live' | 'reconnecting' | 'offline'), onExpired() when the
 * server ends the stream because the session's token expired (the browser would reconnect, and succeed if
 * the user signed in again meanwhile: whether to go on is the session's call), and onError() on each failure.
 * Returns { close(), reconnectNow(), lastEventId }.
 */
export function openCustomerOrderStream(customerId, { onOrder, onReset, onState, onExpired = () => {}, onError = () => {} }) {
  return openLiveStream((id) => customerOrderStreamUrl(customerId, id), {
    order: onOrder,
    reset: () => onReset(),
    expired: () => onExpired(),
  }, { onState, onError, offlineAfter: FAILURES_BEFORE_OFFLINE });
}
