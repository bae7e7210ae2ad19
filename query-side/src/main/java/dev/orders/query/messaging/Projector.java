package dev.orders.query.messaging;

import dev.orders.events.EventEnvelope;
import dev.orders.events.StreamType;
import dev.orders.events.Topics;
import dev.orders.infra.kafka.Consumers;
import dev.orders.infra.kafka.KafkaClientMeters;
import dev.orders.infra.kafka.RecordSpans;
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
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import io.vertx.kafka.client.producer.KafkaHeader;
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

/**
 * Consumes the event topics and projects them: poll a batch, write it in one PostgreSQL transaction
 * ({@link ProjectionStore#applyBatch}) together with each partition's next offset, and apply the next.
 *
 * <p>Pipelined: the next poll is sent when a batch's transaction begins, so Kafka's fetch (and the wait
 * for new records) overlaps the transaction's round trips, and the next batch is decoded and applied as
 * soon as the previous one committed. When that poll came back while the batch was still being applied,
 * a poll without waiting adds what arrived since, so that under load a batch holds all that waited (at
 * most twice {@code max.poll.records}) instead of the few records there were when the transaction began.
 * Batches are applied one after the other, so each partition's records are applied in their order. A fetched batch is only records in memory until its own
 * transaction commits: when a batch fails, the one fetched behind it is dropped and every partition of
 * both goes back to its first offset in them, so the failed batch is read again and nothing behind it is
 * skipped. No seek ever happens while a poll is in flight (a newly assigned partition is positioned before
 * the next poll is sent), so no batch holds records fetched from before a seek.
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
    private KafkaConsumer<String, byte[]> consumer;
    private KafkaClientMeters meters;
    private Tracing tracing = Tracing.OFF;
    private volatile boolean stopped;
    /** Assigned partitions not yet sought to their database checkpoint. */
    private final Set<TopicPartition> unpositioned = new HashSet<>();
    /** The partitions this consumer holds now (what a lazy commit may name). */
    private final Set<TopicPartition> owned = new HashSet<>();
    /** The views this projector's batches wrote last: what its next batches fold on without reading them. */
    private final ViewMemory memory = new ViewMemory(ViewMemory.DEFAULT_CAPACITY);
    /** Committed batches folded on remembered views, and on views read; absent without a registry. */
    private Counter rememberedBatches;
    private Counter readBatches;
    /** Next offsets applied since the last Kafka commit. */
    private final Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();
    /** The batch being applied (completed when idle): a stop waits for it. */
    private Future<?> applying = Future.succeededFuture();
    private boolean committing;
    private long commitTimer = -1;

    public Projector(ProjectionStore store, String bootstrap, String topicPrefix, String group, int maxBatch) {
        this.store = store;
        this.bootstrap = bootstrap;
        this.topicPrefix = topicPrefix;
        this.group = group;
        this.maxBatch = maxBatch;
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
        });
        // Both run on this verticle's context before the poll that caused them completes.
        consumer.partitionsAssignedHandler(partitions -> {
            LOG.info("projector assigned {}", partitions);
            unpositioned.addAll(partitions);
            owned.addAll(partitions);
            memory.forgetAll();
        });
        consumer.partitionsRevokedHandler(partitions -> {
            LOG.info("projector revoked {}", partitions);
            unpositioned.removeAll(partitions);
            owned.removeAll(partitions);
            partitions.forEach(toCommit::remove);
            memory.forgetAll();
        });
        commitTimer = vertx.setPeriodic(COMMIT_INTERVAL_MS, id -> commitOffsets());
        return consumer.subscribe(Set.copyOf(Topics.all(topicPrefix)))
                .onSuccess(v -> {
                    LOG.info("projector consuming {} as group {}", Topics.all(topicPrefix), group);
                    run(poll());
                });
    }

    @Override
    public Future<?> stop() {
        stopped = true;
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

    private Future<List<KafkaConsumerRecord<String, byte[]>>> poll() {
        return consumer.poll(POLL_TIMEOUT).map(Projector::list);
    }

    /**
     * The next batch, once the previous one committed: when its poll came back while that batch was still being
     * applied, the records that arrived since are added ({@code poll} without waiting), so that the batch holds
     * all that waited, as many as a poll after the commit would have given.
     */
    private Future<List<KafkaConsumerRecord<String, byte[]>>> next(Future<List<KafkaConsumerRecord<String, byte[]>>> fetched) {
        if (!fetched.isComplete() || fetched.failed() || fetched.result().isEmpty() || stopped) {
            return fetched;
        }
        return consumer.poll(Duration.ZERO).map(more -> {
            List<KafkaConsumerRecord<String, byte[]>> all = new ArrayList<>(fetched.result());
            all.addAll(list(more));
            return all;
        }).otherwise(fetched.result());
    }

    private static List<KafkaConsumerRecord<String, byte[]>> list(KafkaConsumerRecords<String, byte[]> records) {
        List<KafkaConsumerRecord<String, byte[]>> list = new ArrayList<>(records.size());
        for (int i = 0; i < records.size(); i++) {
            list.add(records.recordAt(i));
        }
        return list;
    }

    /** Applies each polled batch in turn; the poll after it travels while it is applied. */
    private void run(Future<List<KafkaConsumerRecord<String, byte[]>>> polled) {
        if (stopped) {
            return;
        }
        polled.compose(this::project).onComplete(done -> {
            if (done.succeeded()) {
                run(done.result());
            } else if (!stopped) {
                LOG.warn("projection batch failed, retrying in {} ms: {}", RETRY_DELAY_MS,
                        String.valueOf(done.cause().getMessage()));
                vertx.setTimer(RETRY_DELAY_MS, id -> run(poll()));
            }
        });
    }

    /**
     * Decodes a batch, positions newly assigned partitions (before any poll is in flight), sends the next poll
     * and applies the batch. Succeeds with that next poll once the batch committed; when it fails, the next
     * batch is awaited and dropped, and every partition of both goes back to its first offset in them.
     */
    private Future<Future<List<KafkaConsumerRecord<String, byte[]>>>> project(List<KafkaConsumerRecord<String, byte[]>> records) {
        if (stopped) {
            // polled after the stop began: nothing more is applied (the records are read again from the checkpoint)
            return Future.failedFuture("projector stopped");
        }
        Decoded batch = decode(records);
        Future<Void> positioned = unpositioned.isEmpty() ? Future.succeededFuture() : position(batch.dropped);
        return positioned.compose(v -> {
            Future<List<KafkaConsumerRecord<String, byte[]>>> next = poll();
            if (batch.first.isEmpty()) {
                return Future.succeededFuture(next);
            }
            Future<Void> applied = apply(batch);
            applying = applied;
            return applied.map(ignored -> next(next)).recover(failure -> next
                    .transform(fetched -> seekBack(firstOffsets(batch.first, fetched)))
                    .compose(ignored -> Future.failedFuture(failure)));
        });
    }

    /** A polled batch: the events and parked records to apply, and each partition's first and next offset. */
    private record Decoded(List<Incoming> events, List<Parked> parked, List<Span> spans,
                           Map<TopicPartition, Long> first, Map<TopicPartition, Long> next,
                           Map<TopicPartition, Long> dropped) {
    }

    /** Decodes the records; those of a partition not yet positioned are dropped (read again from its checkpoint). */
    private Decoded decode(List<KafkaConsumerRecord<String, byte[]>> records) {
        Decoded batch = new Decoded(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new LinkedHashMap<>(),
                new LinkedHashMap<>(), new HashMap<>());
        for (KafkaConsumerRecord<String, byte[]> record : records) {
            TopicPartition tp = new TopicPartition(record.topic(), record.partition());
            if (unpositioned.contains(tp)) {
                batch.dropped.putIfAbsent(tp, record.offset());
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
     * Where each partition goes back to after a failed batch: its first offset in that batch, else in the batch
     * fetched behind it (which is dropped); a partition of neither keeps its position.
     */
    private static Map<TopicPartition, Long> firstOffsets(Map<TopicPartition, Long> failed,
                                                          AsyncResult<List<KafkaConsumerRecord<String, byte[]>>> fetched) {
        Map<TopicPartition, Long> first = new HashMap<>(failed);
        if (fetched.succeeded()) {
            for (KafkaConsumerRecord<String, byte[]> record : fetched.result()) {
                first.putIfAbsent(new TopicPartition(record.topic(), record.partition()), record.offset());
            }
        }
        return first;
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
     * checkpoint stays where Kafka put it, or goes back to the first record dropped from this poll.
     */
    private Future<Void> position(Map<TopicPartition, Long> dropped) {
        Set<TopicPartition> partitions = Set.copyOf(unpositioned);
        Set<String> topics = new HashSet<>();
        partitions.forEach(tp -> topics.add(tp.getTopic()));
        return store.checkpoints(topics).compose(checkpoints -> {
            Map<TopicPartition, Long> targets = new HashMap<>(dropped);
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
            return Future.all(seeks).<Void>mapEmpty();
        }).onSuccess(v -> unpositioned.removeAll(partitions))
                .recover(failure -> seekBack(dropped).compose(v -> Future.failedFuture(failure)));
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
