package dev.orders.query.messaging;

import dev.orders.events.Topics;
import dev.orders.query.store.ProjectionStore;
import dev.orders.query.store.ProjectionStore.BatchResult;
import dev.orders.query.store.ProjectionStore.Checkpoint;
import dev.orders.query.store.ProjectionStore.Coordinates;
import dev.orders.query.store.ProjectionStore.Incoming;
import dev.orders.query.store.ProjectionStore.Parked;
import dev.orders.service.messaging.ConsumerGroups;
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
 * ({@link ProjectionStore#applyBatch}) together with each partition's next offset, and poll again.
 *
 * <p>The database's checkpoint is the truth: a newly assigned partition is sought to the next offset
 * stored there (records fetched before that seek are dropped and read again from there), so a restart
 * or a rebalance resumes exactly after the last committed batch, whatever Kafka's committed offsets say.
 * Those are committed lazily ({@link #COMMIT_INTERVAL_MS}, never awaited before a poll): they only serve
 * a group without checkpoints (e.g. a fresh database) and monitoring. A failed write seeks back to the
 * batch's first offsets and retries after a pause, so nothing is skipped; a record that cannot be decoded,
 * or that the read model cannot store ({@link ProjectionStore#applyBatch} isolates it), is parked and the
 * partition goes on. Auto-commit is off.
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
    private volatile boolean stopped;
    /** Assigned partitions not yet sought to their database checkpoint. */
    private final Set<TopicPartition> unpositioned = new HashSet<>();
    /** Next offsets applied since the last Kafka commit. */
    private final Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();
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
        consumer = KafkaConsumer.create(vertx, consumerConfig(bootstrap, group, maxBatch),
                new StringDeserializer(), new ByteArrayDeserializer());
        // Both run on this verticle's context before the poll that caused them completes.
        consumer.partitionsAssignedHandler(partitions -> {
            LOG.info("projector assigned {}", partitions);
            unpositioned.addAll(partitions);
        });
        consumer.partitionsRevokedHandler(partitions -> {
            LOG.info("projector revoked {}", partitions);
            unpositioned.removeAll(partitions);
            partitions.forEach(toCommit::remove);
        });
        commitTimer = vertx.setPeriodic(COMMIT_INTERVAL_MS, id -> commitOffsets());
        return consumer.subscribe(Set.copyOf(Topics.all(topicPrefix)))
                .onSuccess(v -> {
                    LOG.info("projector consuming {} as group {}", Topics.all(topicPrefix), group);
                    pollLoop();
                });
    }

    @Override
    public Future<?> stop() {
        stopped = true;
        vertx.cancelTimer(commitTimer);
        if (consumer == null) {
            return Future.succeededFuture();
        }
        return commitOffsets().eventually(() -> consumer.close());
    }

    private void pollLoop() {
        if (stopped) {
            return;
        }
        consumer.poll(POLL_TIMEOUT)
                .compose(this::project)
                .onComplete(done -> {
                    if (done.succeeded()) {
                        pollLoop();
                    } else if (!stopped) {
                        LOG.warn("projection batch failed, retrying in {} ms: {}", RETRY_DELAY_MS,
                                String.valueOf(done.cause().getMessage()));
                        vertx.setTimer(RETRY_DELAY_MS, id -> pollLoop());
                    }
                });
    }

    private Future<Void> project(KafkaConsumerRecords<String, byte[]> records) {
        Map<TopicPartition, Long> dropped = new HashMap<>();
        List<Incoming> events = new ArrayList<>();
        List<Parked> parked = new ArrayList<>();
        Map<TopicPartition, Long> first = new LinkedHashMap<>();
        Map<TopicPartition, Long> next = new LinkedHashMap<>();
        for (int i = 0; i < records.size(); i++) {
            KafkaConsumerRecord<String, byte[]> record = records.recordAt(i);
            TopicPartition tp = new TopicPartition(record.topic(), record.partition());
            if (unpositioned.contains(tp)) {
                dropped.putIfAbsent(tp, record.offset());
                continue;
            }
            first.putIfAbsent(tp, record.offset());
            next.put(tp, record.offset() + 1);
            String streamIdHeader = header(record, dev.orders.events.Topics.HEADER_STREAM_ID);
            Coordinates at = new Coordinates(record.topic(), record.partition(), record.offset(),
                    RecordDecoder.streamKey(record.key(), streamIdHeader));
            switch (RecordDecoder.decode(at, record.key(), streamIdHeader, record.value())) {
                case RecordDecoder.Good good -> events.add(good.incoming());
                case RecordDecoder.Bad bad -> {
                    LOG.warn("parking record {}: {} [correlationId={}]", at, bad.parked().error(),
                            header(record, "correlationId"));
                    parked.add(bad.parked());
                }
            }
        }
        Future<Void> positioned = unpositioned.isEmpty() ? Future.succeededFuture() : position(dropped);
        if (first.isEmpty()) {
            return positioned;
        }
        List<Checkpoint> checkpoints = next.entrySet().stream()
                .map(e -> new Checkpoint(e.getKey().getTopic(), e.getKey().getPartition(), e.getValue())).toList();
        return positioned.compose(v -> store.applyBatch(events, parked, checkpoints))
                .onSuccess(result -> {
                    log(result, events);
                    next.forEach((tp, offset) -> toCommit.put(tp, new OffsetAndMetadata(offset, null)));
                })
                .<Void>mapEmpty()
                .recover(failure -> seekBack(first).compose(v -> Future.failedFuture(failure)));
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
                LOG.debug("projected {} v{} of {} at {} [correlationId={}]", in.envelope().type(),
                        in.envelope().version(), in.envelope().streamId(), in.envelope().globalPosition(),
                        in.envelope().metadata().correlationId());
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
