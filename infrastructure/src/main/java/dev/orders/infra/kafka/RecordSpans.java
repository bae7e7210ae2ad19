package dev.orders.infra.kafka;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import dev.orders.events.Topics;
import dev.orders.service.tracing.TraceAttributes;
import dev.orders.service.tracing.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaHeader;

/**
 * The consumer's side of a trace across Kafka: a consumer span per record, the child of the producer span
 * that the record's {@code ce_traceparent} header names (or a plain {@code traceparent}, as other producers
 * write it), else of the trace stored in the event's metadata; and the event with that span's trace context
 * in its metadata, so that what the consumer does about it (the saga's commands and their appends) carries
 * the trace on.
 */
public final class RecordSpans {

    private static final String PLAIN_TRACEPARENT = "traceparent";

    private RecordSpans() {
    }

    /**
     * Starts the span of consuming a record's event as {@code group} does, named by what the consumer does
     * and the event's type ({@code saga OrderCreated}).
     */
    public static Span consume(Tracing tracing, String operation, String group,
                               KafkaConsumerRecord<String, byte[]> record, EventEnvelope envelope) {
        if (!tracing.enabled()) {
            return Span.getInvalid();
        }
        String parent = header(record, Topics.HEADER_TRACEPARENT);
        if (parent == null) {
            parent = header(record, PLAIN_TRACEPARENT);
        }
        return consume(tracing, operation, group, record.topic(), parent != null ? parent : envelope.metadata().traceparent(),
                envelope);
    }

    /**
     * Starts the span of consuming an event before Kafka delivered it (it was committed in the consumer's own
     * process and handed over there), under the trace stored in the event's metadata: the append that committed it.
     */
    public static Span consumeCommitted(Tracing tracing, String operation, String group, String topic,
                                        EventEnvelope envelope) {
        if (!tracing.enabled()) {
            return Span.getInvalid();
        }
        return consume(tracing, operation, group, topic, envelope.metadata().traceparent(), envelope);
    }

    private static Span consume(Tracing tracing, String operation, String group, String topic, String parent,
                                EventEnvelope envelope) {
        Span span = tracing.start(operation + " " + envelope.type(), SpanKind.CONSUMER, parent);
        span.setAttribute(TraceAttributes.MESSAGING_SYSTEM, "kafka");
        span.setAttribute(TraceAttributes.MESSAGING_DESTINATION, topic);
        span.setAttribute(TraceAttributes.MESSAGING_OPERATION, "process");
        span.setAttribute(TraceAttributes.MESSAGING_CONSUMER_GROUP, group);
        span.setAttribute(TraceAttributes.EVENT_TYPE, envelope.type());
        span.setAttribute(TraceAttributes.STREAM_ID, envelope.streamId().toString());
        span.setAttribute(TraceAttributes.STREAM_VERSION, envelope.version());
        if (envelope.metadata().correlationId() != null) {
            span.setAttribute(TraceAttributes.CORRELATION_ID, envelope.metadata().correlationId());
        }
        return span;
    }

    /** The event with the span's trace context in its metadata; the event itself when the span is not a real one. */
    public static EventEnvelope traced(EventEnvelope envelope, Span span) {
        EventMetadata metadata = envelope.metadata();
        String traceparent = Tracing.traceparent(span, metadata.traceparent());
        if (traceparent == null || traceparent.equals(metadata.traceparent())) {
            return envelope;
        }
        return new EventEnvelope(envelope.eventId(), envelope.version(), envelope.globalPosition(), envelope.occurredAt(),
                envelope.schemaVersion(), new EventMetadata(metadata.correlationId(), metadata.causationId(),
                metadata.commandId(), traceparent), envelope.event());
    }

    private static String header(KafkaConsumerRecord<String, byte[]> record, String name) {
        for (KafkaHeader header : record.headers()) {
            if (header.key().equals(name)) {
                return header.value().toString();
            }
        }
        return null;
    }
}
