package dev.orders.query.model;

import dev.orders.events.Money;
import dev.orders.events.OrderStatus;
import dev.orders.events.RejectionReason;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * The current state of one order as the query side shows it.
 *
 * @param reason         why it was rejected; null unless REJECTED
 * @param version        the stream version of the last event applied
 * @param needsAttention a record of this order could not be applied (parked) or its versions have a gap
 */
public record OrderView(UUID orderId, UUID customerId, OrderStatus status, Money total, RejectionReason reason,
                        long version, Instant createdAt, Instant updatedAt, boolean needsAttention) {

    public OrderView {
        Objects.requireNonNull(orderId, "orderId");
        Objects.requireNonNull(customerId, "customerId");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(total, "total");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }

    OrderView evolved(OrderStatus newStatus, RejectionReason newReason, long newVersion, Instant at) {
        return new OrderView(orderId, customerId, newStatus, total, newReason, newVersion, createdAt, at, needsAttention);
    }

    public OrderView withNeedsAttention(boolean flag) {
        return new OrderView(orderId, customerId, status, total, reason, version, createdAt, updatedAt, flag);
    }

    /**
     * The order as {@code GET /api/orders/{id}} answers it, and as the order-change log and the push
     * hub carry it: {@code orderId, customerId, status, total, reason?, version, createdAt, updatedAt},
     * plus {@code needsAttention: true} only while the order needs an operator's attention.
     */
    public JsonObject toJson() {
        JsonObject json = new JsonObject()
                .put("orderId", orderId.toString())
                .put("customerId", customerId.toString())
                .put("status", status.name())
                .put("total", ViewJson.money(total));
        if (reason != null) {
            json.put("reason", reason.name());
        }
        json.put("version", version)
                .put("createdAt", createdAt.toString())
                .put("updatedAt", updatedAt.toString());
        if (needsAttention) {
            json.put("needsAttention", true);
        }
        return json;
    }
}
