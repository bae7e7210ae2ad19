package dev.orders.command.domain;

import dev.orders.events.Money;
import dev.orders.events.OrderStatus;
import dev.orders.events.RejectionReason;

import java.util.UUID;

/**
 * What an Order's events add up to. Before its {@code OrderCreated} every field is null
 * ({@link #NONE}). A plain record of values, so that it can be stored as a snapshot in JSON with
 * {@code EventJson.mapper()}.
 *
 * @param orderId    the order's id; null before it exists
 * @param customerId the customer it was placed for
 * @param total      its total
 * @param status     where it stands; null before it exists
 * @param reason     why it was rejected; null unless {@code status} is REJECTED
 */
public record OrderState(UUID orderId, UUID customerId, Money total, OrderStatus status, RejectionReason reason) {

    /** An order that does not exist (yet). */
    public static final OrderState NONE = new OrderState(null, null, null, null, null);

    /** Whether the order has been created. */
    public boolean exists() {
        return status != null;
    }
}
