package dev.orders.query.messaging;

import dev.orders.query.store.ProjectionStore;
import dev.orders.query.store.ProjectionStore.BatchResult;
import dev.orders.query.store.ProjectionStore.Checkpoint;
import dev.orders.query.store.ProjectionStore.Coordinates;
import dev.orders.query.store.ProjectionStore.Incoming;
import dev.orders.query.store.ProjectionStore.Parked;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Consumes the event topics and projects them: poll a batch, write it in one PostgreSQL transaction
 * ({@link ProjectionStore#applyBatch}), and only then commit the batch's offsets to Kafka. A failed
 * write seeks back to the batch's first offsets and retries after a pause, so nothing is skipped;
 * a record that cannot be decoded is parked and the partition goes on. Auto-commit is off.
 */
public final class Projector extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(Projector.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final long RETRY_DELAY_MS = 1_000;

    private final ProjectionStore store;
    private final String bootstrap;
    private final String topicPrefix;
    private final int maxBatch;
    private KafkaConsumer<String, byte[]> consumer;
    private volatile boolean stopped;

    public Projector(ProjectionStore store, String bootstrap, String topicPrefix, int maxBatch) {
        this.store = store;
        this.bootstrap = bootstrap;
        this.topicPrefix = topicPrefix;
        this.maxBatch = maxBatch;
    }

    /** The consumer's settings: manual commits only, from the earliest offset, bounded batches. */
    static Map<String, String> consumerConfig(String bootstrap, String group, int maxBatch) {
        Map<String, String> config = new HashMap<>();
        config.put("bootstrap.servers", bootstrap);
        config.put("group.id", group);
        config.put("enable.auto.commit", "false");
        config.put("auto.offset.reset", "earliest");
        config.put("max.poll.records", Integer.toString(maxBatch));
        config.put("isolation.level", "read_committed");
        config.put("client.id", group + "-" + java.util.UUID.randomUUID().toString().substring(0, 8));
        return config;
    }

    @Override
    public Future<?> start() {
        String group = Topics.projectorGroup(topicPrefix);
        consumer = KafkaConsumer.create(vertx, consumerConfig(bootstrap, group, maxBatch),
                new StringDeserializer(), new ByteArrayDeserializer());
        consumer.partitionsAssignedHandler(partitions -> LOG.info("projector assigned {}", partitions));
        consumer.partitionsRevokedHandler(partitions -> LOG.info("projector revoked {}", partitions));
        return consumer.subscribe(Set.copyOf(Topics.all(topicPrefix)))
                .onSuccess(v -> {
                    LOG.info("projector consuming {} as group {}", Topics.all(topicPrefix), group);
                    pollLoop();
                });
    }

    @Override
    public Future<?> stop() {
        stopped = true;
        return consumer == null ? Future.succeededFuture() : consumer.close();
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
        if (records.isEmpty()) {
            return Future.succeededFuture();
        }
        List<Incoming> events = new ArrayList<>();
        List<Parked> parked = new ArrayList<>();
        Map<TopicPartition, Long> first = new LinkedHashMap<>();
        Map<TopicPartition, Long> next = new LinkedHashMap<>();
        for (int i = 0; i < records.size(); i++) {
            KafkaConsumerRecord<String, byte[]> record = records.recordAt(i);
            TopicPartition tp = new TopicPartition(record.topic(), record.partition());
            first.putIfAbsent(tp, record.offset());
            next.put(tp, record.offset() + 1);
            Coordinates at = new Coordinates(record.topic(), record.partition(), record.offset(), record.key());
            switch (RecordDecoder.decode(at, record.value())) {
                case RecordDecoder.Good good -> events.add(good.incoming());
                case RecordDecoder.Bad bad -> {
                    LOG.warn("parking record {}: {} [correlationId={}]", at, bad.parked().error(),
                            header(record, "correlationId"));
                    parked.add(bad.parked());
                }
            }
        }
        List<Checkpoint> checkpoints = next.entrySet().stream()
                .map(e -> new Checkpoint(e.getKey().getTopic(), e.getKey().getPartition(), e.getValue())).toList();
        return store.applyBatch(events, parked, checkpoints)
                .onSuccess(result -> log(result, events))
                .compose(result -> commit(next))
                .recover(failure -> seekBack(first).compose(v -> Future.failedFuture(failure)));
    }

    private Future<Void> commit(Map<TopicPartition, Long> next) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        next.forEach((tp, offset) -> offsets.put(tp, new OffsetAndMetadata(offset, null)));
        // A failed commit (a rebalance) is harmless: the new owner re-reads, and the store dedupes.
        return consumer.commit(offsets)
                .onFailure(e -> LOG.warn("offset commit failed (records will be re-read and deduplicated): {}",
                        e.getMessage()))
                .<Void>mapEmpty()
                .otherwiseEmpty();
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
