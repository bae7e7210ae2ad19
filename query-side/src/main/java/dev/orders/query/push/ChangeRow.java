package dev.orders.query.push;

import dev.orders.events.Instants;
import io.vertx.core.json.JsonObject;

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

    /** A row as {@code ProjectionStore.CHANGES_COMMITTED} carries it. */
    static ChangeRow fromJson(JsonObject row) {
        String changedAt = row.getString("changedAt");
        return new ChangeRow(row.getLong("position"), UUID.fromString(row.getString("orderId")),
                UUID.fromString(row.getString("customerId")), row.getInteger("version"), row.getString("view"),
                changedAt == null ? null : Instants.parse(changedAt));
    }
}
