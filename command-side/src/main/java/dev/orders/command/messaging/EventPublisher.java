package dev.orders.command.messaging;

import dev.orders.events.EventJson;
import dev.orders.events.EventText;
import dev.orders.events.Topics;
import dev.orders.infra.kafka.EventTopics;
import dev.orders.infra.kafka.KafkaClientMeters;
import dev.orders.service.tracing.TraceAttributes;
import dev.orders.service.tracing.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.tracing.TracingPolicy;
import io.vertx.kafka.client.common.KafkaClientOptions;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The relay's side of Kafka: makes sure of the topics ({@link EventTopics}), and sends a batch of events keyed by their partition key
 * (the customer, see {@code Topics}) with the stream id in a header, through an idempotent,
 * {@code acks=all} producer. A batch succeeds only when every one of its records is
 * acknowledged; it fails only after every send has finished one way or the other, so that a retry
 * never overtakes a send still in flight.
 */
final class EventPublisher {

    private final Vertx vertx;
    private final RelaySettings settings;
    private final KafkaProducer<String, Buffer> producer;
    private final Tracing tracing;
    /** The producer's own meters (kafka_producer_*) on {@code /metrics}. */
    private final KafkaClientMeters meters;

    private EventPublisher(Vertx vertx, RelaySettings settings, KafkaProducer<String, Buffer> producer) {
        this.vertx = vertx;
        this.tracing = Tracing.of(vertx);
        this.meters = KafkaClientMeters.of(vertx, producer);
        this.settings = settings;
        this.producer = producer;
        // A failed send also fails its future, which the relay handles; this only keeps the log quiet.
        producer.exceptionHandler(e -> { });
    }

    /** Creates the producer on a worker thread: constructing a Kafka client blocks. */
    static Future<EventPublisher> create(Vertx vertx, String bootstrap, RelaySettings settings) {
        Map<String, Object> config = new HashMap<>(producerConfig(bootstrap, settings));
        return vertx.executeBlocking(() -> new org.apache.kafka.clients.producer.KafkaProducer<String, Buffer>(config))
                // The spans are this class's own, under each event's stored trace: none by the client itself.
                .map(producer -> new EventPublisher(vertx, settings, KafkaProducer.create(vertx, producer,
                        new KafkaClientOptions().setTracingPolicy(TracingPolicy.IGNORE))));
    }

    /** The producer's properties: safe defaults, then the settings' overrides. */
    static Map<String, String> producerConfig(String bootstrap, RelaySettings settings) {
        Map<String, String> config = new HashMap<>();
        config.put("bootstrap.servers", bootstrap);
        config.put("acks", "all");
        config.put("enable.idempotence", "true");
        // One request in flight: records sent while it is under way go together in the next one (batched
        // under load, immediate when quiet), and a retried request can never be overtaken by a later one.
        // With five, a first produce to a partition whose leader is not known yet (NOT_LEADER) left the
        // batches behind it answering OUT_OF_ORDER_SEQUENCE until the delivery timeout, after which the
        // later records were on the topic and the first was not: one stream's versions out of order.
        config.put("max.in.flight.requests.per.connection", "1");
        config.put("delivery.timeout.ms", "30000");
        config.put("request.timeout.ms", "10000");
        config.put("max.block.ms", "10000");
        config.put("linger.ms", "0");
        config.put("compression.type", "lz4");
        config.put("client.id", "orders-relay");
        config.putAll(settings.producerOverrides());
        config.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        config.put("value.serializer", "io.vertx.kafka.client.serialization.BufferSerializer");
        return config;
    }

    /** Creates the event topics that do not exist yet (unless creation is off), see {@link EventTopics}. */
    static Future<Void> ensureTopics(Vertx vertx, String bootstrap, RelaySettings settings) {
        return EventTopics.admin(vertx, bootstrap)
                .compose(admin -> settings.topics().prepare(admin).eventually(admin::close));
    }

    /**
     * Sends the batch, each event already carrying its global position; its stored JSON goes on as it is.
     * Completes with each record and where Kafka placed it, in the batch's order.
     */
    Future<List<LocalHandOff.Acknowledged>> publish(List<Outgoing> batch) {
        List<Future<LocalHandOff.Acknowledged>> sends = batch.stream().map(this::send).toList();
        return Future.join(sends).map(all -> sends.stream().map(Future::result).toList());
    }

    /**
     * Sends one event in a producer span under the trace its append stored; the record's
     * {@code ce_traceparent} hands that span on to the consumers (the stored one when tracing is off).
     */
    private Future<LocalHandOff.Acknowledged> send(Outgoing out) {
        EventText event = out.event();
        String topic = Topics.of(settings.topicPrefix(), event.streamType());
        Span span = tracing.enabled() ? tracing.start("publish " + topic, SpanKind.PRODUCER, out.traceparent())
                : Span.getInvalid();
        if (span.isRecording()) {
            span.setAttribute(TraceAttributes.MESSAGING_SYSTEM, "kafka");
            span.setAttribute(TraceAttributes.MESSAGING_DESTINATION, topic);
            span.setAttribute(TraceAttributes.MESSAGING_OPERATION, "send");
            span.setAttribute(TraceAttributes.EVENT_TYPE, event.type());
            span.setAttribute(TraceAttributes.STREAM_ID, event.streamId().toString());
            span.setAttribute(TraceAttributes.GLOBAL_POSITION, event.globalPosition());
        }
        KafkaProducerRecord<String, Buffer> record = KafkaProducerRecord.create(topic, event.partitionKey().toString(),
                Buffer.buffer(EventJson.encode(event)));
        Topics.headers(event, out.correlationId(), Tracing.traceparent(span, out.traceparent())).forEach(record::addHeader);
        return producer.send(record).onComplete(sent -> Tracing.endOn(span, sent))
                .map(placed -> new LocalHandOff.Acknowledged(record, placed));
    }

    /** Lets the sends in flight finish (for up to 2 s), then closes. */
    Future<Void> close() {
        return meters.after(producer.close(2_000));
    }

    /**
     * Closes at once: what has not been sent yet is dropped, and nothing is retried any more, so no send of
     * this producer can land after the records of the relay that took the lease over (a request already on
     * the wire is answered within {@code request.timeout.ms} or not at all).
     */
    Future<Void> abort() {
        // Not through the Vert.x client: its close waits in line behind the sends still blocked in the
        // producer (on metadata, up to max.block.ms each), and it reads 0 as "wait for ever". Closing the
        // Kafka producer itself, beside them, fails those sends and drops every batch not yet acknowledged.
        return meters.after(vertx.<Void>executeBlocking(() -> {
            producer.unwrap().close(Duration.ZERO);
            return null;
        }, false));
    }
}
