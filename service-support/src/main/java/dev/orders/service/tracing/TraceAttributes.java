package dev.orders.service.tracing;

import io.opentelemetry.api.common.AttributeKey;

/** The attributes this system puts on its spans, beside OpenTelemetry's messaging conventions. */
public final class TraceAttributes {

    public static final AttributeKey<String> CORRELATION_ID = AttributeKey.stringKey("orders.correlation_id");
    public static final AttributeKey<String> STREAM_TYPE = AttributeKey.stringKey("orders.stream_type");
    public static final AttributeKey<String> STREAM_ID = AttributeKey.stringKey("orders.stream_id");
    public static final AttributeKey<String> EVENT_TYPE = AttributeKey.stringKey("orders.event_type");
    public static final AttributeKey<Long> STREAM_VERSION = AttributeKey.longKey("orders.stream_version");
    public static final AttributeKey<Long> GLOBAL_POSITION = AttributeKey.longKey("orders.global_position");
    /** OpenTelemetry's messaging conventions: the Kafka topic, and what the span does with the record. */
    public static final AttributeKey<String> MESSAGING_SYSTEM = AttributeKey.stringKey("messaging.system");
    public static final AttributeKey<String> MESSAGING_DESTINATION = AttributeKey.stringKey("messaging.destination.name");
    public static final AttributeKey<String> MESSAGING_OPERATION = AttributeKey.stringKey("messaging.operation.type");
    public static final AttributeKey<String> MESSAGING_CONSUMER_GROUP = AttributeKey.stringKey("messaging.consumer.group.name");

    private TraceAttributes() {
    }
}
