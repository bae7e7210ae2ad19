package dev.orders.events;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where events are published: one Kafka topic per stream type, keyed by the event's
 * {@link DomainEvent#partitionKey() partition key} (its customer), so that one customer's events, and so
 * each aggregate's, stay in order within a partition. The stream id travels in a header.
 */
public final class Topics {

    /**
     * Kafka header names carried by every published event: a CloudEvent in the Kafka protocol binding's
     * binary mode (the record's value is the event's envelope, {@link #CONTENT_TYPE}), with this system's
     * extensions (schema version, stream version, global position, correlation id, trace context).
     */
    public static final String HEADER_SPEC_VERSION = "ce_specversion";
    public static final String HEADER_EVENT_ID = "ce_id";
    public static final String HEADER_SOURCE = "ce_source";
    public static final String HEADER_TYPE = "ce_type";
    public static final String HEADER_STREAM_ID = "ce_subject";
    public static final String HEADER_TIME = "ce_time";
    public static final String HEADER_CONTENT_TYPE = "content-type";
    public static final String HEADER_SCHEMA_VERSION = "ce_schemaversion";
    public static final String HEADER_VERSION = "ce_streamversion";
    public static final String HEADER_GLOBAL_POSITION = "ce_globalposition";
    public static final String HEADER_CORRELATION_ID = "ce_correlationid";
    public static final String HEADER_TRACEPARENT = "ce_traceparent";

    /** The CloudEvents version of the headers. */
    public static final String SPEC_VERSION = "1.0";
    /** The record value's media type: the envelope of {@link EventJson#encode(EventText)}. */
    public static final String CONTENT_TYPE = "application/json";
    private static final String TYPE_PREFIX = "dev.orders.";

    /** The CloudEvents type of an event type, e.g. {@code dev.orders.OrderCreated}. */
    public static String cloudEventType(String eventType) {
        return TYPE_PREFIX + eventType;
    }

    /** The event type of a CloudEvents type, e.g. {@code OrderCreated}; null for a type of another producer. */
    public static String eventType(String cloudEventType) {
        return cloudEventType != null && cloudEventType.startsWith(TYPE_PREFIX)
                ? cloudEventType.substring(TYPE_PREFIX.length()) : null;
    }

    /** The CloudEvents source of a stream type's events, e.g. {@code /orders/order}. */
    public static String source(StreamType type) {
        return "/orders/" + type.wireName();
    }

    /**
     * The headers of a published event, in order; the correlation id and trace context only where the
     * event has them.
     */
    public static Map<String, String> headers(EventText event, String correlationId, String traceparent) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(HEADER_SPEC_VERSION, SPEC_VERSION);
        headers.put(HEADER_EVENT_ID, event.eventId().toString());
        headers.put(HEADER_SOURCE, source(event.streamType()));
        headers.put(HEADER_TYPE, cloudEventType(event.type()));
        headers.put(HEADER_STREAM_ID, event.streamId().toString());
        headers.put(HEADER_TIME, event.occurredAt().toString());
        headers.put(HEADER_CONTENT_TYPE, CONTENT_TYPE);
        headers.put(HEADER_SCHEMA_VERSION, Integer.toString(event.schemaVersion()));
        headers.put(HEADER_VERSION, Long.toString(event.version()));
        headers.put(HEADER_GLOBAL_POSITION, Long.toString(event.globalPosition()));
        if (correlationId != null) {
            headers.put(HEADER_CORRELATION_ID, correlationId);
        }
        if (traceparent != null) {
            headers.put(HEADER_TRACEPARENT, traceparent);
        }
        return headers;
    }

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
