package dev.orders.events;

import java.time.Instant;
import java.util.UUID;

/**
 * An event as the event store holds it, its JSON left as stored text: what the relay publishes without
 * parsing. {@code schemaVersion} is the version the data was stored in; readers upcast on decoding.
 *
 * @param partitionKey the Kafka key: the customer the event belongs to ({@link DomainEvent#partitionKey()})
 * @param metadata     the stored metadata object, as JSON text
 * @param data         the stored data object, as JSON text
 */
public record EventText(UUID eventId, StreamType streamType, UUID streamId, long version, long globalPosition,
                        String type, int schemaVersion, Instant occurredAt, UUID partitionKey, String metadata,
                        String data) {
}
