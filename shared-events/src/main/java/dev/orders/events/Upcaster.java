package dev.orders.events;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Turns the stored JSON of one event type from one schema version into the next. Upcasters run on
 * read, one after another, until the data has the current shape; stored events are never rewritten.
 */
public interface Upcaster {

    String eventType();

    /** The schema version this upcaster reads; it produces {@code fromVersion() + 1}. */
    int fromVersion();

    ObjectNode upcast(ObjectNode data);
}
