package dev.orders.command.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventFormatException;
import dev.orders.events.EventJson;
import dev.orders.events.EventMetadata;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

/**
 * Reads a row of the events table into an envelope. (The same as the store's package-private reader;
 * once {@code EventStore.toEnvelope} is public this class goes.)
 */
final class EventRows {

    private EventRows() {
    }

    static EventEnvelope toEnvelope(Row row, long position) {
        String type = row.getString("event_type");
        int schemaVersion = row.getInteger("schema_version");
        return new EventEnvelope(row.getUUID("event_id"), row.getInteger("version"), position,
                row.getOffsetDateTime("occurred_at").toInstant(), schemaVersion,
                metadataOf(jsonText(row.getValue("metadata"))),
                EventJson.eventOf(type, schemaVersion, jsonText(row.getValue("data"))));
    }

    /**
     * The text of a {@code jsonb} object column as the client decoded it: a {@code JsonObject} normally;
     * a {@code String} when the object's text was bound as a JSON string (a {@code String} parameter
     * cast to {@code jsonb} is stored as a JSON string value), which this reader tolerates.
     */
    private static String jsonText(Object value) {
        if (value instanceof JsonObject object) {
            return object.encode();
        }
        if (value instanceof String text) {
            return text;
        }
        throw new EventFormatException("stored JSON is not an object: " + value);
    }

    private static EventMetadata metadataOf(String json) {
        try {
            JsonNode node = EventJson.mapper().readTree(json);
            return new EventMetadata(text(node, "correlationId"), text(node, "causationId"),
                    text(node, "commandId"), text(node, "traceparent"));
        } catch (JsonProcessingException e) {
            throw new EventFormatException("stored metadata is not JSON", e);
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }
}
