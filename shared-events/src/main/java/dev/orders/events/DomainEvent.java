package dev.orders.events;

import java.util.UUID;

/** Something that happened to an aggregate. Each aggregate kind has its own sealed sub-interface. */
public sealed interface DomainEvent permits CustomerEvent, OrderEvent {

    /** The id of the aggregate (the stream) the event belongs to. */
    UUID streamId();

    StreamType streamType();
}
