package dev.orders.events;

import java.util.Arrays;
import java.util.List;

/**
 * Where events are published: one Kafka topic per stream type, keyed by the event's
 * {@link DomainEvent#partitionKey() partition key} (its customer), so that one customer's events, and so
 * each aggregate's, stay in order within a partition. The stream id travels in a header.
 */
public final class Topics {

    /** Kafka header names carried by every published event. */
    public static final String HEADER_EVENT_ID = "eventId";
    public static final String HEADER_STREAM_ID = "streamId";
    public static final String HEADER_TYPE = "type";
    public static final String HEADER_SCHEMA_VERSION = "schemaVersion";
    public static final String HEADER_VERSION = "version";
    public static final String HEADER_GLOBAL_POSITION = "globalPosition";
    public static final String HEADER_CORRELATION_ID = "correlationId";
    public static final String HEADER_TRACEPARENT = "traceparent";

    private Topics() {
    }

    /** The topic of one stream type, e.g. {@code orders.order-events}. */
    public static String of(String prefix, StreamType type) {
        return prefix + "." + type.wireName() + "-events";
    }

    /** Every event topic under a prefix. */
    public static List<String> all(String prefix) {
        return Arrays.stream(StreamType.values()).map(type -> of(prefix, type)).toList();
    }
}
