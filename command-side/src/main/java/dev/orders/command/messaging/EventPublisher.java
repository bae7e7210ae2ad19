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
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.tracing.TracingPolicy;
import io.vertx.kafka.client.common.KafkaClientOptions;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.kafka.client.producer.RecordMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The relay's side of Kafka: makes sure of the topics ({@link EventTopics}), and sends a batch of events keyed by their partition key
 * (the customer, see {@code Topics}) with the stream id in a header, through an idempotent,
 * {@code acks=all} producer. A batch succeeds only when every one of its records is
 * acknowledged; it fails only after every send has finished one way or the other, so that a retry
 * never overtakes a send still in flight.
 *
 * <p><b>No record overtakes a failed one.</b> The idempotent producer with one request in flight per connection
 * keeps a partition's records in order only while it retries them itself. A record it gives up on (its
 * {@code delivery.timeout.ms} passed while the broker was away, or the broker refused it for good) is a failure,
 * and the producer goes on with the records behind it: they would reach the topic, and the failed one, sent again
 * by the relay, after them, so a stream's later version before its earlier one (one stream's records share a
 * partition key, hence a partition). So the first failed send <em>fences</em> its producer: in the record's
 * callback, on the producer's network thread and so before that thread sends anything more, the producer is
 * closed at once ({@code close(0)}, which fails every record not acknowledged yet), and no record is handed to
 * it any more. Whatever reaches the topic from a producer is then an unbroken prefix, per partition, of what it
 * was given. The relay sends the oldest batch not recorded again, through a new producer ({@link #renew()}), and
 * the batches after it behind it: they may repeat records that were on the topic already (consumers skip a
 * version they have passed), never put a version before an earlier one. What is left: a request already on the
 * wire when its record expired may still be written, after the new producer's copies of the same records (the
 * oldest ones in flight; a repeat of a version a consumer has passed, which it skips).
 *
 * <p>Each producer reads the partitions of every event topic on a worker thread before its first send; when it
 * could, each record is handed to it straight from the relay's event loop: {@code send} then only appends to the
 * producer's buffer and wakes its network thread, it waits for nothing (the relay keeps at most two batches in
 * flight, far below {@code buffer.memory}, and {@code metadata.max.idle.ms} keeps the topics' partitions known
 * however long the system is idle). Skipping a hand-off to a worker thread saves a thread wake-up on every hop.
 * When the read failed (the broker is away), that producer is handed its records on a worker thread, one batch per
 * hand-off, as a {@code send} that may block must; a producer never mixes the two ways, which could reorder its
 * records.
 */
final class EventPublisher {

    private final Vertx vertx;
    private final RelaySettings settings;
    private final Map<String, Object> config;
    private final Tracing tracing;
    /** Where records go; once fenced, replaced by {@link #renew()}. Read and replaced on the relay's context. */
    private Producer producer;
    /** Closed or aborted: no producer is made any more. */
    private boolean closed;

    private EventPublisher(Vertx vertx, RelaySettings settings, Map<String, Object> config) {
        this.vertx = vertx;
        this.tracing = Tracing.of(vertx);
        this.settings = settings;
        this.config = config;
    }

    /**
     * Creates the producer on a worker thread (constructing a Kafka client blocks), and has it read every event
     * topic's partitions there (blocking until the broker answers, up to {@code max.block.ms}).
     */
    static Future<EventPublisher> create(Vertx vertx, String bootstrap, RelaySettings settings) {
        EventPublisher publisher = new EventPublisher(vertx, settings, new HashMap<>(settings.producerConfig(bootstrap)));
        return publisher.open().map(publisher);
    }

    /**
     * A producer in place of one that fenced itself (nothing to do while the current one has not): the oldest
     * batch not recorded goes through it next.
     */
    Future<Void> renew() {
        if (!producer.fenced.get()) {
            return Future.succeededFuture();
        }
        producer.meters.close();
        return open();
    }

    private Future<Void> open() {
        return vertx.executeBlocking(() -> {
            var made = new org.apache.kafka.clients.producer.KafkaProducer<String, Buffer>(config);
            return new Made(made, knowsPartitions(made, settings));
        }).compose(made -> {
            // The spans are this class's own, under each event's stored trace: none by the client itself.
            Producer opened = new Producer(vertx, KafkaProducer.create(vertx, made.producer(),
                    new KafkaClientOptions().setTracingPolicy(TracingPolicy.IGNORE)), made.partitionsKnown());
            if (closed) {
                return opened.abort().compose(done -> Future.failedFuture("the relay's publisher is closed"));
            }
            producer = opened;
            return Future.succeededFuture();
        });
    }

    /** A producer just made, and whether it could read every event topic's partitions. */
    private record Made(org.apache.kafka.clients.producer.KafkaProducer<String, Buffer> producer,
                        boolean partitionsKnown) {
    }

    private static boolean knowsPartitions(org.apache.kafka.clients.producer.Producer<?, ?> producer,
                                           RelaySettings settings) {
        try {
            for (String topic : settings.topics().names()) {
                producer.partitionsFor(topic);
            }
            return true;
        } catch (RuntimeException away) {
            return false;
        }
    }

    /** Creates the event topics that do not exist yet (unless creation is off), see {@link EventTopics}. */
    static Future<Void> ensureTopics(Vertx vertx, String bootstrap, RelaySettings settings) {
        return EventTopics.admin(vertx, bootstrap)
                .compose(admin -> settings.topics().prepare(admin).eventually(() -> EventTopics.close(admin)));
    }

    /**
     * Sends the batch, each event already carrying its global position; its stored JSON goes on as it is. Fails
     * at once, sending nothing, when the producer has fenced itself: the oldest batch goes first, after
     * {@link #renew()}. Completes with each record and where Kafka placed it, in the batch's order. Once Kafka
     * acknowledged every record, the batch goes to {@code handOff} straight from the producer's network thread,
     * before the relay's event loop hears of it: a busy relay does not hold the saga back.
     */
    Future<List<LocalHandOff.Acknowledged>> publish(List<Outgoing> batch, LocalHandOff handOff) {
        Producer to = producer;
        Context context = vertx.getOrCreateContext();
        Acknowledgements acks = new Acknowledgements(batch.size(), handOff, context);
        for (Outgoing out : batch) {
            acks.add(record(out));
        }
        Runnable handOver = () -> {
            for (int i = 0; i < acks.records.size(); i++) {
                to.send(acks.records.get(i).record(), acks.slot(i));
            }
        };
        if (to.fromEventLoop) {
            handOver.run();
        } else {
            vertx.executeBlocking(() -> {
                handOver.run();
                return null;
            });
        }
        return acks.done.future();
    }

    /**
     * A batch's acknowledgements, gathered on whichever thread each arrives (the producer's network thread, or the
     * sending thread for a record refused at once). The last one completes the batch: its hand-off first, then, on
     * the relay's context, the spans and the batch's future.
     */
    private static final class Acknowledgements {

        final List<KafkaProducerRecord<String, Buffer>> records;
        final Promise<List<LocalHandOff.Acknowledged>> done = Promise.promise();
        private final List<Span> spans;
        private final RecordMetadata[] placed;
        private final Throwable[] failures;
        private final AtomicInteger waiting;
        private final LocalHandOff handOff;
        private final Context context;

        Acknowledgements(int size, LocalHandOff handOff, Context context) {
            this.records = new ArrayList<>(size);
            this.spans = new ArrayList<>(size);
            this.placed = new RecordMetadata[size];
            this.failures = new Throwable[size];
            this.waiting = new AtomicInteger(size);
            this.handOff = handOff;
            this.context = context;
        }

        void add(Traced record) {
            records.add(record.record());
            spans.add(record.span());
        }

        /** What the producer calls back with for the {@code index}-th record. */
        Callback slot(int index) {
            return (metadata, failure) -> {
                if (failure == null) {
                    placed[index] = new RecordMetadata(metadata.offset(), metadata.partition(), metadata.timestamp(),
                            metadata.topic());
                } else {
                    failures[index] = failure;
                }
                if (waiting.decrementAndGet() == 0) {
                    finished();
                }
            };
        }

        /** Every send has finished one way or the other (the counter's last decrement publishes the slots). */
        private void finished() {
            Throwable failure = null;
            for (Throwable one : failures) {
                if (one != null) {
                    failure = one;
                    break;
                }
            }
            List<LocalHandOff.Acknowledged> acknowledged = new ArrayList<>(records.size());
            if (failure == null) {
                for (int i = 0; i < records.size(); i++) {
                    acknowledged.add(new LocalHandOff.Acknowledged(records.get(i), placed[i]));
                }
                handOff.hand(acknowledged);
            }
            Throwable failed = failure;
            context.runOnContext(ignored -> {
                for (int i = 0; i < spans.size(); i++) {
                    Tracing.endOn(spans.get(i), failures[i] == null ? Future.succeededFuture()
                            : Future.failedFuture(failures[i]));
                }
                if (failed == null) {
                    done.complete(acknowledged);
                } else {
                    done.fail(failed);
                }
            });
        }
    }

    /** A record to send and the producer span it travels in. */
    private record Traced(KafkaProducerRecord<String, Buffer> record, Span span) {
    }

    /**
     * The event's record, in a producer span under the trace its append stored, ended once the record is
     * acknowledged; the record's {@code ce_traceparent} hands that span on to the consumers (the stored one when
     * tracing is off).
     */
    private Traced record(Outgoing out) {
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
        return new Traced(record, span);
    }

    /** Lets the sends in flight finish (for up to 2 s), then closes. */
    Future<Void> close() {
        closed = true;
        return producer.close();
    }

    /**
     * Closes at once: what has not been sent yet is dropped, and nothing is retried any more, so no send of
     * this producer can land after the records of the relay that took the lease over (a request already on
     * the wire is answered within {@code request.timeout.ms} or not at all).
     */
    Future<Void> abort() {
        closed = true;
        return producer.abort();
    }

    /** One Kafka producer of the publisher, with its meters; fenced for good by its first failed send. */
    private static final class Producer {

        private final Vertx vertx;
        private final KafkaProducer<String, Buffer> client;
        /** The producer's own meters (kafka_producer_*) on {@code /metrics}. */
        private final KafkaClientMeters meters;
        private final AtomicBoolean fenced = new AtomicBoolean();
        /** Whether it knew every event topic's partitions before the first send: then {@code send} cannot block. */
        private final boolean fromEventLoop;

        Producer(Vertx vertx, KafkaProducer<String, Buffer> client, boolean fromEventLoop) {
            this.vertx = vertx;
            this.client = client;
            this.fromEventLoop = fromEventLoop;
            this.meters = KafkaClientMeters.of(vertx, client);
        }

        /**
         * Hands a record to the producer (on the relay's event loop or the hand-off's worker thread, see the class
         * comment); {@code acked} is called on the producer's network thread, or at once on this thread when the
         * record is refused (the producer is fenced, or it could not take the record).
         */
        void send(ProducerRecord<String, Buffer> record, Callback acked) {
            if (fenced.get()) {
                acked.onCompletion(null, new IllegalStateException(
                        "not sent: a send before it failed, and the records after a failed one go again in order"));
                return;
            }
            try {
                client.unwrap().send(record, (metadata, failure) -> {
                    if (failure != null) {
                        fence();
                    }
                    acked.onCompletion(metadata, failure);
                });
            } catch (RuntimeException refused) { // closed, or the record could not be handed over
                fence();
                acked.onCompletion(null, refused);
            }
        }

        /**
         * Takes nothing more and closes the producer at once (see the class comment). Called in a failed record's
         * callback, which runs on the producer's network thread, where the close does not wait for itself; or, for
         * a record refused before it was queued, on the thread that handed it over, after which nothing more is
         * handed over: there, the close (which waits for the network thread to end) goes to a worker thread when
         * that thread is the event loop.
         */
        private void fence() {
            if (!fenced.compareAndSet(false, true)) {
                return;
            }
            if (Context.isOnEventLoopThread()) {
                vertx.executeBlocking(() -> {
                    client.unwrap().close(Duration.ZERO);
                    return null;
                }, false);
            } else {
                client.unwrap().close(Duration.ZERO);
            }
        }

        Future<Void> close() {
            return meters.after(client.close(2_000));
        }

        Future<Void> abort() {
            fenced.set(true);
            // Not through the Vert.x client: its close waits in line behind the sends still blocked in the
            // producer (on metadata, up to max.block.ms each), and it reads 0 as "wait for ever". Closing the
            // Kafka producer itself, beside them, fails those sends and drops every batch not yet acknowledged.
            return meters.after(vertx.<Void>executeBlocking(() -> {
                client.unwrap().close(Duration.ZERO);
                return null;
            }, false));
        }
    }
}
