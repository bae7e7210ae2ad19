package dev.orders.events;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * An event as stored and published: the domain event with where it stands in its stream and in the
 * global order, when it happened, and why.
 *
 * @param eventId        unique id of this event; consumers dedupe by it
 * @param version        the event's version in its stream, contiguous from 1
 * @param globalPosition the gap-free position assigned when the event was published; 0 before that
 * @param occurredAt     when the event was recorded
 * @param schemaVersion  the schema version of the event's JSON form as it was stored
 * @param metadata       correlation, causation, command and trace ids
 * @param event          the domain event itself, upcast to the current shape
 */
public record EventEnvelope(UUID eventId, long version, long globalPosition, Instant occurredAt,
                            int schemaVersion, EventMetadata metadata, DomainEvent event) {

    public EventEnvelope {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(occurredAt, "occurredAt");
        Objects.requireNonNull(event, "event");
        metadata = metadata == null ? EventMetadata.NONE : metadata;
        if (version < 1) {
            throw new IllegalArgumentException("version must be at least 1, was " + version);
        }
    }

    public UUID streamId() {
        return event.streamId();
    }

    public StreamType streamType() {
        return event.streamType();
    }

    /** The event's type name, as stored and as sent in Kafka headers. */
    public String type() {
        return EventTypes.typeOf(event);
    }

    /** The same envelope with the position the relay assigned to it. */
    public EventEnvelope withGlobalPosition(long position) {
        return new EventEnvelope(eventId, version, position, occurredAt, schemaVersion, metadata, event);
    }
}
