package dev.orders.query.push;

import java.time.Instant;
import java.util.UUID;

/**
 * One row of the order-change log: an order's view after one change. {@code position} is the resume
 * id sent to clients; {@code view} is the order JSON exactly as {@code GET /api/orders/{id}} answers,
 * kept as text so that it is pushed without being parsed or encoded again.
 */
public record ChangeRow(long position, UUID orderId, UUID customerId, int version, String view, Instant changedAt) {
}
