package dev.orders.events;

import java.util.UUID;

/** Something that happened to an aggregate. Each aggregate kind has its own sealed sub-interface. */
public sealed interface DomainEvent permits CustomerEvent, OrderEvent {

    /** The id of the aggregate (the stream) the event belongs to. */
    UUID streamId();

    StreamType streamType();

    /**
     * The consistency boundary the event belongs to, and so its Kafka key: the customer, for the events
     * of both aggregates. One customer's orders and credit decisions then travel down one partition in
     * order, where the saga decides them in batches without conflicting with itself; each order's own
     * events stay in order too, since an order never changes customer.
     */
    UUID partitionKey();
}
