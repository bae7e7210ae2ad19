package dev.orders.query.store;

import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.EventMetadata;
import dev.orders.events.EventTypes;
import dev.orders.query.store.ProjectionStore.Coordinates;
import dev.orders.query.store.ProjectionStore.Incoming;

import java.time.Instant;
import java.util.UUID;

/**
 * Events as a projector receives them, for tests that apply batches to a {@link ProjectionStore} directly: each
 * one at the next global position, stamped a second after the one before, at the next offset of one partition,
 * with its record value as the relay encodes it.
 */
public final class IncomingEvents {

    private final String topic;
    private final Instant start;
    private long position;
    private long offset;

    public IncomingEvents(String topic, Instant start) {
        this.topic = topic;
        this.start = start;
    }

    /** The next event received: {@code event} at version {@code version} of its stream. */
    public Incoming next(long version, DomainEvent event) {
        position++;
        EventEnvelope envelope = new EventEnvelope(UUID.randomUUID(), version, position, start.plusSeconds(position),
                EventTypes.currentSchemaVersion(event), new EventMetadata("corr", null, null, null), event);
        return new Incoming(envelope, new Coordinates(topic, 0, offset++, event.streamId().toString()),
                EventJson.encode(envelope));
    }
}
