package dev.orders.events;

import java.util.UUID;

/** The events of the Customer aggregate. */
public sealed interface CustomerEvent extends DomainEvent {

    UUID customerId();

    @Override
    default UUID streamId() {
        return customerId();
    }

    @Override
    default StreamType streamType() {
        return StreamType.CUSTOMER;
    }

    @Override
    default UUID partitionKey() {
        return customerId();
    }

    /** A customer was created with a name and a credit limit. */
    record CustomerCreated(UUID customerId, String name, Money creditLimit) implements CustomerEvent {
    }

    /** Credit was reserved for an order. */
    record CreditReserved(UUID customerId, UUID orderId, Money amount) implements CustomerEvent {
    }

    /** An order's total did not fit into the customer's available credit; nothing was reserved. */
    record CreditLimitExceeded(UUID customerId, UUID orderId, Money amount) implements CustomerEvent {
    }

    /** The credit reserved for an order was given back (the order was cancelled or rejected). */
    record CreditReleased(UUID customerId, UUID orderId, Money amount) implements CustomerEvent {
    }
}
