package dev.orders.events;

import java.util.UUID;

/** The events of the Order aggregate. */
public sealed interface OrderEvent extends DomainEvent {

    UUID orderId();

    /** The customer the order is for; it never changes. */
    UUID customerId();

    @Override
    default UUID partitionKey() {
        return customerId();
    }

    @Override
    default UUID streamId() {
        return orderId();
    }

    @Override
    default StreamType streamType() {
        return StreamType.ORDER;
    }

    /** An order was placed; it is PENDING until its customer's credit is checked. */
    record OrderCreated(UUID orderId, UUID customerId, Money total) implements OrderEvent {
    }

    /** The customer's credit was reserved: the order is APPROVED. */
    record OrderApproved(UUID orderId, UUID customerId) implements OrderEvent {
    }

    /** The order was REJECTED, for a reason. */
    record OrderRejected(UUID orderId, UUID customerId, RejectionReason reason) implements OrderEvent {
    }

    /** The order was CANCELLED by its customer. */
    record OrderCancelled(UUID orderId, UUID customerId) implements OrderEvent {
    }
}
