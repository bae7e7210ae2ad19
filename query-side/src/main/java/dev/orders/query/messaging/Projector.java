package dev.orders.query.messaging;

import dev.orders.events.EventEnvelope;
import dev.orders.events.StreamType;
import dev.orders.events.Topics;
import dev.orders.infra.kafka.Consumers;
import dev.orders.infra.kafka.KafkaClientMeters;
import dev.orders.infra.kafka.RecordSpans;
import dev.orders.infra.kafka.RelayedRecords;
import dev.orders.query.push.ChangeRow;
import dev.orders.query.store.ProjectionStore;
import dev.orders.query.store.ProjectionStore.BatchResult;
import dev.orders.query.store.ProjectionStore.Checkpoint;
import dev.orders.query.store.ProjectionStore.Coordinates;
import dev.orders.query.store.ProjectionStore.Incoming;
import dev.orders.query.store.ProjectionStore.Parked;
import dev.orders.query.store.ViewMemory;
import dev.orders.service.messaging.ConsumerGroups;
import dev.orders.service.metrics.ProcessMetrics;
import dev.orders.service.tracing.LogFields;
import dev.orders.service.tracing.Tracing;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.trace.Span;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import io.vertx.kafka.client.consumer.impl.KafkaConsumerRecordImpl;
import io.vertx.kafka.client.producer.KafkaHeader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Consumes the event topics and projects them: poll a batch, write it in one PostgreSQL transaction
 * ({@link ProjectionStore#applyBatch}) together with each partition's next offset, and apply the next.
 *
 * <p>Pipelined: the next poll is sent when a batch's transaction begins, so Kafka's fetch (and the wait
 * for new records) overlaps the transaction's round trips, and the next batch is decoded and applied as
 * soon as the previous one committed. When that poll came back while the batch was still being applied,
 * a poll without waiting adds what arrived since, so that under load a batch holds all that waited
 * instead of the few records there were when the transaction began. Batches are applied one after the
 * other, so each partition's records are applied in their order. A batch is only records in memory until
 * its own transaction commits: when a batch fails, what was taken behind it is dropped, and every partition
 * of both goes back to its first offset in them, so the failed batch is read again and nothing behind it is
 * skipped. No seek ever happens while a poll is in flight (a newly assigned partition is positioned before
 * the next poll is sent), so no batch holds records fetched from before a seek.
 *
 * <p>Records come from the consumer's polls and, where the relay shares the process (an all-in-one), from the
 * relay's hand-off once Kafka acknowledged them ({@link RelayedRecords}, {@code projector.relay-handoff}), which
 * saves the broker's delivery. Per positioned partition the projector knows the offset of the next record to take:
 * a handed-over record is taken only at exactly that offset, a polled one before it is skipped (its handed-over
 * copy was taken), so each offset is applied once and in order whichever way it came. A handed-over record that
 * comes while the projector waits for its poll is applied at once, without waiting for that poll. Meter
 * {@code orders_projection_records_total} counts the records taken by {@code source}: {@code relay} or
 * {@code kafka}.
 *
 * <p>The database's checkpoint is the truth: a newly assigned partition is sought to the next offset
 * stored there (records fetched before that seek are dropped and read again from there), so a restart
 * or a rebalance resumes exactly after the last committed batch, whatever Kafka's committed offsets say.
 * Those are committed lazily ({@link #COMMIT_INTERVAL_MS}, never awaited before a poll): they only serve
 * a group without checkpoints (e.g. a fresh database) and monitoring. A failed write seeks back to the
 * batch's first offsets and retries after a pause, so nothing is skipped; a record that cannot be decoded,
 * or that the read model cannot store ({@link ProjectionStore#applyBatch} isolates it), is parked and the
 * partition goes on. Auto-commit is off.
 *
 * <p>The views its committed batches wrote are remembered ({@link ViewMemory}), so that a batch on the same
 * streams (an order's approval after its creation, a customer's next reservation) is one round trip, checked
 * against the tables in that same round trip ({@link ProjectionStore#applyBatch(List, List, List, ViewMemory)}).
 * The memory is forgotten whenever partitions are assigned or revoked. Meter {@code orders_projection_batches_total}
 * counts the batches by {@code views}: {@code remembered} or {@code read}.
 */
public final class Projector extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(Projector.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final long RETRY_DELAY_MS = 1_000;
    /** How often applied offsets are committed to Kafka (off the hot path; the database is the truth). */
    static final long COMMIT_INTERVAL_MS = 1_000;

    private final ProjectionStore store;
    private final String bootstrap;
    private final String topicPrefix;
    /** The consumer group, {@code OrdersConfig.projectorGroupId()}. */
    private final String group;
    private final int maxBatch;
    /** The relay's acknowledged records, where it shares the process. */
    private final RelayedRecords relayed;
    private final Consumer<List<ConsumerRecord<String, byte[]>>> handedOver = this::handOff;
    private KafkaConsumer<String, byte[]> consumer;
    private KafkaClientMeters meters;
    private Tracing tracing = Tracing.OFF;
    private volatile boolean stopped;
    /** Assigned partitions not yet sought to their database checkpoint. */
    private final Set<TopicPartition> unpositioned = new HashSet<>();
    /** Per unpositioned partition, the first offset polled and dropped: where it goes without a checkpoint. */
    private final Map<TopicPartition, Long> dropped = new HashMap<>();
    /** The partitions this consumer holds now (what a lazy commit may name). */
    private final Set<TopicPartition> owned = new HashSet<>();
    /** Per positioned partition, the offset of the next record to take: polled records before it are skipped. */
    private final Map<TopicPartition, Long> expected = new HashMap<>();
    /** Records taken (polled or handed over), in the order taken, not yet in a batch. */
    private List<KafkaConsumerRecord<String, byte[]>> taken = new ArrayList<>();
    /** The poll in flight, or null. */
    private Future<KafkaConsumerRecords<String, byte[]>> polling;
    /** A poll came back with records while a batch was applied: a poll without waiting adds what came since. */
    private boolean gatherFirst;
    private boolean positioning;
    private boolean applyingNow;
    /** After a failure, until the retry: nothing is taken, the poll in flight is awaited and dropped. */
    private boolean recovering;
    /** Where each partition goes back to after a failure (the first offset not committed that it holds). */
    private final Map<TopicPartition, Long> goingBack = new HashMap<>();
    /** The views this projector's batches wrote last: what its next batches fold on without reading them. */
    private final ViewMemory memory = new ViewMemory(ViewMemory.DEFAULT_CAPACITY);
    /** Committed batches folded on remembered views, and on views read; absent without a registry. */
    private Counter rememberedBatches;
    private Counter readBatches;
    /** Records taken from the relay's hand-off, and from polls; absent without a registry. */
    private Counter fromRelay;
    private Counter fromKafka;
    /** Next offsets applied since the last Kafka commit. */
    private final Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();
    /** The batch being applied (completed when idle): a stop waits for it. */
    private Future<?> applying = Future.succeededFuture();
    private boolean committing;
    private long commitTimer = -1;

    public Projector(ProjectionStore store, String bootstrap, String topicPrefix, String group, int maxBatch,
                     RelayedRecords relayed) {
        this.store = store;
        this.bootstrap = bootstrap;
        this.topicPrefix = topicPrefix;
        this.group = group;
        this.maxBatch = maxBatch;
        this.relayed = relayed;
    }

    /** The consumer's settings: manual commits only, from the earliest offset, bounded batches. */
    static Map<String, String> consumerConfig(String bootstrap, String group, int maxBatch) {
        Map<String, String> config = new HashMap<>();
        config.put("bootstrap.servers", bootstrap);
        config.put("group.id", group);
        config.put("enable.auto.commit", "false");
        config.put("auto.offset.reset", "earliest");
        // The topics are made by EventTopics with their configured settings, never by a subscription.
        config.put("allow.auto.create.topics", "false");
        config.put("max.poll.records", Integer.toString(maxBatch));
        config.put("isolation.level", "read_committed");
        config.put("client.id", group + "-" + java.util.UUID.randomUUID().toString().substring(0, 8));
        config.putAll(ConsumerGroups.LIVENESS);
        return config;
    }

    @Override
    public Future<?> start() {
        consumer = Consumers.create(vertx, consumerConfig(bootstrap, group, maxBatch),
                new StringDeserializer(), new ByteArrayDeserializer());
        meters = KafkaClientMeters.of(vertx, consumer);
        tracing = Tracing.of(vertx);
        ProcessMetrics.of(vertx).ifPresent(registry -> {
            rememberedBatches = batchCounter(registry, "remembered");
            readBatches = batchCounter(registry, "read");
            fromRelay = recordCounter(registry, "relay");
            fromKafka = recordCounter(registry, "kafka");
        });
        // Both run on this verticle's context before the poll that caused them completes.
        consumer.partitionsAssignedHandler(partitions -> {
            LOG.info("projector assigned {}", partitions);
            unpositioned.addAll(partitions);
            owned.addAll(partitions);
            partitions.forEach(expected::remove);
            memory.forgetAll();
        });
        consumer.partitionsRevokedHandler(partitions -> {
            LOG.info("projector revoked {}", partitions);
            unpositioned.removeAll(partitions);
            owned.removeAll(partitions);
            partitions.forEach(expected::remove);
            partitions.forEach(dropped::remove);
            partitions.forEach(toCommit::remove);
            memory.forgetAll();
        });
        commitTimer = vertx.setPeriodic(COMMIT_INTERVAL_MS, id -> commitOffsets());
        return consumer.subscribe(Set.copyOf(Topics.all(topicPrefix)))
                .onSuccess(v -> {
                    LOG.info("projector consuming {} as group {}", Topics.all(topicPrefix), group);
                    relayed.attach(context, handedOver);
                    step();
                });
    }

    @Override
    public Future<?> stop() {
        stopped = true;
        relayed.detach(handedOver);
        vertx.cancelTimer(commitTimer);
        if (consumer == null) {
            return Future.succeededFuture();
        }
        // the batch under way ends first (committed or rolled back), then what it applied is committed to Kafka
        return applying.otherwiseEmpty().eventually(this::commitOffsets).eventually(() -> meters.after(consumer.close()));
    }

    private static Counter batchCounter(MeterRegistry registry, String views) {
        return Counter.builder("orders.projection.batches").tag("views", views)
                .description("projection batches committed: folded on views remembered from the projector's own"
                        + " commits (one round trip), or on views read")
                .register(registry);
    }

    private static Counter recordCounter(MeterRegistry registry, String source) {
        return Counter.builder("orders.projection.records").tag("source", source)
                .description("records the projector took into its batches: handed over by the relay of its process"
                        + " once Kafka acknowledged them, or polled from Kafka")
                .register(registry);
    }

    /**
     * What to do next, whenever something changed (a poll came back, records were handed over, a batch or a
     * positioning ended): position new partitions once no poll is in flight; else, unless a batch is under way,
     * apply what was taken, with the next poll in flight beside it.
     */
    private void step() {
        if (stopped || recovering || positioning) {
            return;
        }
        if (polling == null && !unpositioned.isEmpty()) {
            positioning = true;
            position().onComplete(done -> {
                positioning = false;
                if (done.succeeded()) {
                    step();
                } else {
                    failed(Map.of(), done.cause());
                }
            });
            return;
        }
        if (applyingNow) {
            return;
        }
        if (polling == null && gatherFirst) {
            gatherFirst = false;
            poll(Duration.ZERO);
            return;
        }
        if (polling == null) {
            poll(POLL_TIMEOUT);
        }
        if (!taken.isEmpty()) {
            List<KafkaConsumerRecord<String, byte[]>> batch = taken;
            taken = new ArrayList<>();
            apply(batch);
        }
    }

    /** Sends a poll; what it brings is taken on this context as soon as it comes back. */
    private void poll(Duration timeout) {
        Future<KafkaConsumerRecords<String, byte[]>> sent = consumer.poll(timeout);
        polling = sent;
        sent.onComplete(done -> {
            polling = null;
            if (stopped) {
                return;
            }
            if (recovering) {
                if (done.succeeded()) {
                    notCommitted(done.result(), goingBack);
                }
                return;
            }
            if (done.failed()) {
                failed(Map.of(), done.cause());
                return;
            }
            boolean any = takePolled(done.result());
            gatherFirst |= any && applyingNow;
            step();
        });
    }

    /**
     * Takes a poll's records behind those taken before: a partition not yet positioned drops them (it is read
     * again from its checkpoint), a record before the partition's next expected offset is skipped (its handed-over
     * copy was taken). Answers whether any was taken.
     */
    private boolean takePolled(KafkaConsumerRecords<String, byte[]> records) {
        boolean any = false;
        for (int i = 0; i < records.size(); i++) {
            KafkaConsumerRecord<String, byte[]> record = records.recordAt(i);
            TopicPartition tp = new TopicPartition(record.topic(), record.partition());
            if (unpositioned.contains(tp)) {
                dropped.putIfAbsent(tp, record.offset());
                continue;
            }
            Long next = expected.get(tp);
            if (next != null && record.offset() < next) {
                continue;
            }
            expected.put(tp, record.offset() + 1);
            taken.add(record);
            any = true;
            if (fromKafka != null) {
                fromKafka.increment();
            }
        }
        return any;
    }

    /**
     * Takes the records the relay of this process handed over, each only if its partition is positioned here and
     * its offset is exactly the next one expected (the others are dropped: the poll brings them), and applies them
     * at once when no batch is under way, without waiting for the poll in flight.
     */
    private void handOff(List<ConsumerRecord<String, byte[]>> records) {
        if (stopped || recovering || taken.size() >= 2 * maxBatch) {
            return;
        }
        boolean any = false;
        for (ConsumerRecord<String, byte[]> record : records) {
            TopicPartition tp = new TopicPartition(record.topic(), record.partition());
            Long next = expected.get(tp);
            if (next == null || record.offset() != next || unpositioned.contains(tp) || !owned.contains(tp)) {
                continue;
            }
            expected.put(tp, next + 1);
            taken.add(new KafkaConsumerRecordImpl<>(record));
            any = true;
            if (fromRelay != null) {
                fromRelay.increment();
            }
        }
        if (any) {
            step();
        }
    }

    /** Applies a batch; once it committed, what comes next; when it failed, every partition goes back. */
    private void apply(List<KafkaConsumerRecord<String, byte[]>> records) {
        Decoded batch = decode(records);
        if (batch.first.isEmpty()) {
            return;
        }
        applyingNow = true;
        Future<Void> applied = apply(batch);
        applying = applied;
        applied.onComplete(done -> {
            applyingNow = false;
            if (stopped) {
                return;
            }
            if (done.succeeded()) {
                step();
            } else {
                failed(batch.first, done.cause());
            }
        });
    }

    /**
     * After a failed batch (or poll, or positioning): drops what was taken behind it and the poll in flight, sends
     * every partition of them back to its first offset in them, and tries again after a pause.
     */
    private void failed(Map<TopicPartition, Long> first, Throwable cause) {
        LOG.warn("projection batch failed, retrying in {} ms: {}", RETRY_DELAY_MS, String.valueOf(cause.getMessage()));
        recovering = true;
        gatherFirst = false;
        goingBack.clear();
        goingBack.putAll(first);
        for (KafkaConsumerRecord<String, byte[]> record : taken) {
            goingBack.putIfAbsent(new TopicPartition(record.topic(), record.partition()), record.offset());
        }
        taken = new ArrayList<>();
        Future<?> inFlight = polling == null ? Future.succeededFuture() : polling;
        // the poll's own handler has added its new records to goingBack by the time this runs
        inFlight.transform(ignored -> seekBack(goingBack)).onComplete(sought -> {
            goingBack.forEach(expected::put);
            goingBack.clear();
            vertx.setTimer(RETRY_DELAY_MS, id -> {
                recovering = false;
                step();
            });
        });
    }

    /** Adds to {@code back} the first offset of each partition's records that were not taken before. */
    private void notCommitted(KafkaConsumerRecords<String, byte[]> records, Map<TopicPartition, Long> back) {
        for (int i = 0; i < records.size(); i++) {
            KafkaConsumerRecord<String, byte[]> record = records.recordAt(i);
            TopicPartition tp = new TopicPartition(record.topic(), record.partition());
            Long next = expected.get(tp);
            if (!unpositioned.contains(tp) && (next == null || record.offset() >= next)) {
                back.putIfAbsent(tp, record.offset());
            }
        }
    }

    /** A batch: the events and parked records to apply, and each partition's first and next offset. */
    private record Decoded(List<Incoming> events, List<Parked> parked, List<Span> spans,
                           Map<TopicPartition, Long> first, Map<TopicPartition, Long> next) {
    }

    /** Decodes the records; those of a partition not positioned (any more) are dropped (read again from its checkpoint). */
    private Decoded decode(List<KafkaConsumerRecord<String, byte[]>> records) {
        Decoded batch = new Decoded(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new LinkedHashMap<>(),
                new LinkedHashMap<>());
        for (KafkaConsumerRecord<String, byte[]> record : records) {
            TopicPartition tp = new TopicPartition(record.topic(), record.partition());
            if (unpositioned.contains(tp)) {
                dropped.putIfAbsent(tp, record.offset());
                continue;
            }
            batch.first.putIfAbsent(tp, record.offset());
            batch.next.put(tp, record.offset() + 1);
            String streamIdHeader = header(record, dev.orders.events.Topics.HEADER_STREAM_ID);
            Coordinates at = new Coordinates(record.topic(), record.partition(), record.offset(),
                    RecordDecoder.streamKey(record.key(), streamIdHeader));
            switch (RecordDecoder.decode(at, record.key(), streamIdHeader, record.value())) {
                case RecordDecoder.Good good -> {
                    batch.events.add(good.incoming());
                    batch.spans.add(traceProjection(record, good.incoming().envelope()));
                }
                case RecordDecoder.Bad bad -> {
                    LogFields.journey(LOG.atWarn(), header(record, Topics.HEADER_CORRELATION_ID),
                            header(record, Topics.HEADER_TRACEPARENT)).log("parking record {}: {}", at, bad.parked().error());
                    batch.parked.add(bad.parked());
                }
            }
        }
        return batch;
    }

    /** One transaction with each partition's next offset; once committed, those offsets are due to Kafka. */
    private Future<Void> apply(Decoded batch) {
        List<Checkpoint> checkpoints = batch.next.entrySet().stream()
                .map(e -> new Checkpoint(e.getKey().getTopic(), e.getKey().getPartition(), e.getValue())).toList();
        return store.applyBatch(batch.events, batch.parked, checkpoints, memory)
                .onSuccess(result -> {
                    log(result, batch.events);
                    Counter batches = result.onRemembered() ? rememberedBatches : readBatches;
                    if (batches != null) {
                        batches.increment();
                    }
                    batch.next.forEach((tp, offset) -> {
                        if (owned.contains(tp)) {
                            toCommit.put(tp, new OffsetAndMetadata(offset, null));
                        }
                    });
                })
                .<Void>mapEmpty()
                .onComplete(done -> batch.spans.forEach(span -> Tracing.endOn(span, done)));
    }

    /**
     * The span of projecting one event, under the relay's publish; an order's change hands it over to the
     * push of that change ({@link ChangeRow#traceKey}), before the write that lets the push see the change.
     */
    private Span traceProjection(KafkaConsumerRecord<String, byte[]> record, EventEnvelope envelope) {
        Span span = RecordSpans.consume(tracing, "project", group, record, envelope);
        if (tracing.enabled() && envelope.streamType() == StreamType.ORDER) {
            tracing.handOver(ChangeRow.traceKey(envelope.streamId(), envelope.version()), Tracing.traceparent(span, null));
        }
        return span;
    }

    /**
     * Seeks each newly assigned partition to the next offset of its database checkpoint; one without a
     * checkpoint stays where Kafka put it, or goes back to the first record dropped from its polls. Each
     * partition sought expects that offset next.
     */
    private Future<Void> position() {
        Set<TopicPartition> partitions = Set.copyOf(unpositioned);
        Set<String> topics = new HashSet<>();
        partitions.forEach(tp -> topics.add(tp.getTopic()));
        return store.checkpoints(topics).compose(checkpoints -> {
            Map<TopicPartition, Long> targets = new HashMap<>();
            dropped.forEach((tp, offset) -> {
                if (partitions.contains(tp)) {
                    targets.put(tp, offset);
                }
            });
            for (Checkpoint c : checkpoints) {
                TopicPartition tp = new TopicPartition(c.topic(), c.partition());
                if (partitions.contains(tp)) {
                    targets.put(tp, c.nextOffset());
                }
            }
            List<Future<Void>> seeks = new ArrayList<>();
            targets.forEach((tp, offset) -> {
                LOG.info("projector resumes {} at offset {}", tp, offset);
                seeks.add(consumer.seek(tp, offset));
            });
            return Future.all(seeks).map(targets);
        }).onSuccess(targets -> {
            unpositioned.removeAll(partitions);
            partitions.forEach(dropped::remove);
            targets.forEach((tp, offset) -> {
                if (owned.contains(tp)) {
                    expected.put(tp, offset);
                }
            });
        }).mapEmpty();
    }

    /**
     * Commits the offsets applied since the last commit, unless a commit is still under way. Not awaited
     * by the poll loop: a lost or failed commit only means a restart seeks from the database checkpoint.
     */
    private Future<Void> commitOffsets() {
        if (committing || toCommit.isEmpty() || consumer == null) {
            return Future.succeededFuture();
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>(toCommit);
        toCommit.clear();
        committing = true;
        return consumer.commit(offsets)
                .onFailure(e -> LOG.debug("offset commit failed (the database checkpoint stands): {}", e.getMessage()))
                .<Void>mapEmpty()
                .otherwiseEmpty()
                .eventually(() -> {
                    committing = false;
                    return Future.succeededFuture();
                });
    }

    private Future<Void> seekBack(Map<TopicPartition, Long> first) {
        if (consumer == null || stopped) {
            return Future.succeededFuture();
        }
        List<Future<Void>> seeks = new ArrayList<>();
        first.forEach((tp, offset) -> seeks.add(consumer.seek(tp, offset)));
        return Future.join(seeks).<Void>mapEmpty().otherwiseEmpty();
    }

    private static void log(BatchResult result, List<Incoming> events) {
        if (LOG.isDebugEnabled()) {
            for (Incoming in : events) {
                LogFields.journey(LOG.atDebug(), in.envelope().metadata().correlationId(), in.envelope().metadata().traceparent())
                        .log("projected {} v{} of {} at {}", in.envelope().type(), in.envelope().version(),
                                in.envelope().streamId(), in.envelope().globalPosition());
            }
        }
        LOG.debug("batch: {} new, {} duplicate, {} parked", result.fresh(), result.duplicates(), result.parked());
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
