package dev.orders.query.push;

import java.time.Instant;
import java.util.UUID;

/**
 * One row of the order-change log: an order's view after one change. {@code position} is the resume
 * id sent to clients; {@code view} is the order JSON exactly as {@code GET /api/orders/{id}} answers,
 * kept as text so that it is pushed without being parsed or encoded again.
 */
public record ChangeRow(long position, UUID orderId, UUID customerId, int version, String view, Instant changedAt) {

    /** The key under which the projector hands the trace of an order's change at a version over to the push. */
    public static String traceKey(UUID orderId, long version) {
        return "order-change:" + orderId + ":" + version;
    }
}
