package dev.orders.query.store;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.UUID;

/** A row of {@code event_log}: an event as the query side received it. */
public record StoredEvent(long globalPosition, UUID eventId, String streamType, UUID streamId, long version,
                          String type, int schemaVersion, Instant occurredAt, JsonObject data, JsonObject metadata) {

    /** The envelope again, for folding. @throws dev.orders.events.EventFormatException if it no longer decodes */
    public EventEnvelope toEnvelope() {
        return new EventEnvelope(eventId, version, globalPosition, occurredAt, schemaVersion,
                EventJson.metadataOf(metadata.encode()),
                EventJson.eventOf(type, schemaVersion, data.encode()));
    }

    /** One entry of {@code GET /api/orders/{id}/history}. */
    public JsonObject historyJson() {
        return new JsonObject()
                .put("version", version)
                .put("type", type)
                .put("occurredAt", occurredAt.toString())
                .put("data", data)
                .put("eventId", eventId.toString())
                .put("globalPosition", globalPosition)
                .put("correlationId", metadata.getString("correlationId"))
                .put("causationId", metadata.getString("causationId"));
    }
}
