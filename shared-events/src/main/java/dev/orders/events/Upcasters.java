package dev.orders.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/** Every upcaster the project ships, and the chain that brings stored data to the current schema. */
public final class Upcasters {

    /**
     * Schema 1 of CustomerCreated called the credit limit {@code limit}; schema 2 calls it
     * {@code creditLimit}.
     */
    static final Upcaster CUSTOMER_CREATED_V1_LIMIT_RENAMED = new Upcaster() {
        @Override
        public String eventType() {
            return "CustomerCreated";
        }

        @Override
        public int fromVersion() {
            return 1;
        }

        @Override
        public ObjectNode upcast(ObjectNode data) {
            ObjectNode copy = data.deepCopy();
            JsonNode limit = copy.remove("limit");
            if (limit != null && !copy.has("creditLimit")) {
                copy.set("creditLimit", limit);
            }
            return copy;
        }
    };

    private static final List<Upcaster> ALL = List.of(CUSTOMER_CREATED_V1_LIMIT_RENAMED);

    private Upcasters() {
    }

    /** Brings {@code data}, stored with {@code schemaVersion}, to the current schema of its type. */
    public static ObjectNode toCurrent(String type, int schemaVersion, ObjectNode data) {
        int current = EventTypes.currentSchemaVersion(type);
        if (schemaVersion > current) {
            throw new EventFormatException("event type '" + type + "' has schema version " + schemaVersion
                    + ", newer than this service knows (" + current + ")");
        }
        ObjectNode result = data;
        for (int version = schemaVersion; version < current; version++) {
            result = find(type, version).upcast(result);
        }
        return result;
    }

    private static Upcaster find(String type, int fromVersion) {
        for (Upcaster upcaster : ALL) {
            if (upcaster.eventType().equals(type) && upcaster.fromVersion() == fromVersion) {
                return upcaster;
            }
        }
        throw new EventFormatException("no upcaster for '" + type + "' from schema version " + fromVersion);
    }
}
