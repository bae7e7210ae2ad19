package dev.orders.command.saga;

import dev.orders.command.handling.CommandHandler;
import dev.orders.command.handling.CommitHandOff;
import dev.orders.command.messaging.LocalHandOff;
import dev.orders.events.EventEnvelope;
import dev.orders.events.StreamType;
import dev.orders.events.Topics;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.infra.kafka.ConsumerLag;
import dev.orders.infra.kafka.EventTopics;
import dev.orders.infra.kafka.Consumers;
import dev.orders.infra.kafka.KafkaClientMeters;
import dev.orders.service.messaging.ConsumerGroups;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The saga: consumes the order and customer topics in group {@code kafka.group.saga} (by default {@code <prefix>.saga}) and turns each event
 * into the commands of {@link SagaReactions}. The records of one partition are handled in order, in
 * batches of what arrived meanwhile ({@link PartitionQueues}): since events are keyed by customer, a
 * batch holds each customer's reactions in order, and they are decided together (load once, decide N,
 * append once). An offset is committed only after the commands its batch caused have committed, so a
 * crash redelivers and never loses a reaction. A failure that may pass (the database is down) is retried
 * with backoff, holding back only its own partition; a record that cannot be decoded, or whose reaction
 * fails the same way again and again, is parked in {@link SagaDeadLetters} and the partition goes on
 * ({@link SagaRecords}). Where the relay runs in the same process, it hands over each record Kafka
 * acknowledged ({@link LocalHandOff}), which saves the broker's delivery; Kafka remains the source: a
 * handed-over record is taken only at the exact offset expected next, and its polled copy is skipped.
 * Earlier still, where commands are handled in the same process, the events its command handler commits are
 * handed over right after their commit ({@link CommitHandOff}, {@code saga.commit-handoff}): each is queued on the
 * partition its Kafka copy will land in and reacted to at once if it is its stream's next version
 * ({@link RecentReactions}); its Kafka copy is then skipped, and whatever is not taken there Kafka brings.
 */
public final class SagaVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(SagaVerticle.class);
    private static final long COMMIT_INTERVAL_MS = 200;
    private static final int MAX_IN_FLIGHT = 5_000;
    private static final int MAX_BATCH = 500;
    /** Streams (and ids of events taken at commit) remembered; what is forgotten is left to Kafka until seen again. */
    private static final int RECENT_KEPT = 100_000;

    private final OrdersConfig config;
    private final String kafkaBootstrap;
    private final SagaDeadLetters deadLetters;
    private final SagaReactions reactions;
    private final LocalHandOff handOff;
    private final CommitHandOff commits;
    private final RecentReactions recent = new RecentReactions(RECENT_KEPT);
    /** Each stream type's event topic, named once (a committed event is placed on its topic at every commit). */
    private final Map<StreamType, String> topics = new EnumMap<>(StreamType.class);
    /** Partitions of each event topic, as last read; an event of a topic not in it is left to Kafka. */
    private final Map<String, Integer> partitionCounts = new HashMap<>();
    private Consumer<List<ConsumerRecord<String, byte[]>>> handedOver;
    private BiConsumer<List<EventEnvelope>, Runnable> committedHere;
    private volatile SagaRecords records;
    private KafkaConsumer<String, byte[]> consumer;
    private KafkaClientMeters meters;
    private PartitionQueues queues;
    private long commitTimer = -1;
    private long lagTimer = -1;
    private final ConsumerLag lag = new ConsumerLag();
    /** Answers the end offsets for the lag. */
    private KafkaAdminClient admin;
    private volatile boolean paused;

    public SagaVerticle(OrdersConfig config, CommandHandler handler, String kafkaBootstrap) {
        this(config, handler, new SagaDeadLetters(handler, config.sagaCreditCheckTimeout()), kafkaBootstrap,
                LocalHandOff.disabled());
    }

    /**
     * A saga that also takes the records the relay of its process hands over ({@link LocalHandOff}), each at
     * exactly the offset it expects next ({@link PartitionQueues#handOff}).
     */
    public SagaVerticle(OrdersConfig config, CommandHandler handler, SagaDeadLetters deadLetters, String kafkaBootstrap,
                        LocalHandOff handOff) {
        this.config = config;
        this.kafkaBootstrap = kafkaBootstrap;
        this.deadLetters = deadLetters;
        this.handOff = handOff;
        this.commits = handler.commits();
        this.reactions = new SagaReactions(handler, new Deadlines(), handler.pool(), config.sagaCreditCheckTimeout());
    }

    @Override
    public Future<?> start() {
        String prefix = config.kafkaTopicPrefix();
        for (StreamType type : StreamType.values()) {
            topics.put(type, Topics.of(prefix, type));
        }
        records = new SagaRecords(vertx, config.sagaGroupId(), reactions, deadLetters, recent,
                () -> queues.stopping());
        Map<String, String> settings = new HashMap<>(Map.of(
                "bootstrap.servers", kafkaBootstrap,
                "group.id", config.sagaGroupId(),
                "client.id", config.sagaGroupId() + "-" + deploymentID(),
                "key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer",
                "value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                "enable.auto.commit", "false",
                "auto.offset.reset", "earliest",
                // The topics are made by EventTopics with their configured settings, never by a subscription.
                "allow.auto.create.topics", "false",
                "max.poll.records", "1000"));
        settings.putAll(ConsumerGroups.LIVENESS);
        consumer = Consumers.create(vertx, settings);
        meters = KafkaClientMeters.of(vertx, consumer);
        queues = new PartitionQueues(context, consumer, records, MAX_IN_FLIGHT, MAX_BATCH, this::committedOffsets);
        consumer.exceptionHandler(failure -> LOG.warn("saga consumer: {}", failure.toString()));
        consumer.partitionsAssignedHandler(partitions -> {
            queues.assigned(partitions);
            readPartitionCounts(); // partitions added to a topic are assigned anew
        });
        consumer.partitionsRevokedHandler(queues::revoked);
        // each poll's records at once, straight from the poll: no turn of the event loop per record
        consumer.batchHandler(queues::addAll);
        handedOver = queues::handOff;
        handOff.attach(context, handedOver);
        if (config.sagaCommitHandoff()) {
            committedHere = this::committed;
            commits.attach(context, committedHere);
        }
        commitTimer = vertx.setPeriodic(COMMIT_INTERVAL_MS, id -> queues.commit());
        lagTimer = vertx.setPeriodic(config.metricsRefreshInterval().toMillis(), id -> {
            readLag();
            deadLetters.refreshCount(); // records parked or re-driven by other instances
        });
        return EventTopics.admin(vertx, kafkaBootstrap)
                .compose(opened -> {
                    admin = opened;
                    readPartitionCounts();
                    return consumer.subscribe(Set.of(Topics.of(prefix, StreamType.ORDER), Topics.of(prefix, StreamType.CUSTOMER)));
                })
                .onSuccess(ignored -> LOG.info("saga consuming {} as group {}", Topics.all(prefix), config.sagaGroupId()));
    }

    /** Reads how many partitions each event topic has (until then, committed events are left to Kafka). */
    private void readPartitionCounts() {
        if (admin == null) {
            return;
        }
        String prefix = config.kafkaTopicPrefix();
        admin.describeTopics(List.of(Topics.of(prefix, StreamType.ORDER), Topics.of(prefix, StreamType.CUSTOMER)))
                .onSuccess(topics -> context.runOnContext(ignored ->
                        topics.forEach((name, topic) -> partitionCounts.put(name, topic.getPartitions().size()))))
                .onFailure(failure -> LOG.debug("saga: the event topics' partitions are not known yet: {}",
                        failure.toString()));
    }

    /**
     * Events the command handler of this process has just committed, each placed on the partition its Kafka copy
     * will land in (the producer's own choice for a key: murmur2 of the key, modulo the partitions); {@code done}
     * runs once the saga is done with them (reacted, or left them to Kafka).
     */
    private void committed(List<EventEnvelope> events, Runnable done) {
        List<CommittedEvent> placed = new ArrayList<>(events.size());
        for (EventEnvelope event : events) {
            String topic = topics.get(event.streamType());
            String key = event.event().partitionKey().toString();
            Integer partitions = partitionCounts.get(topic);
            int partition = partitions == null ? -1
                    : Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
            placed.add(new CommittedEvent(topic, partition, key, event));
        }
        queues.committed(placed, done);
    }

    /** The group's committed offsets of these partitions (those it has), from the admin client. */
    private Future<Map<TopicPartition, Long>> committedOffsets(Set<TopicPartition> partitions) {
        if (admin == null) {
            return Future.succeededFuture(Map.of());
        }
        return admin.listConsumerGroupOffsets(config.sagaGroupId()).map(offsets -> {
            Map<TopicPartition, Long> known = new HashMap<>();
            offsets.forEach((partition, offset) -> {
                if (partitions.contains(partition)) {
                    known.put(partition, offset.getOffset());
                }
            });
            return known;
        });
    }

    @Override
    public Future<?> stop() {
        handOff.detach(handedOver);
        commits.detach(committedHere);
        vertx.cancelTimer(commitTimer);
        vertx.cancelTimer(lagTimer);
        return queues.drain(10_000)
                .compose(ignored -> {
                    queues.commit(); // completes while the consumer closes: close waits for pending commits
                    return meters.after(consumer.close());
                })
                .eventually(() -> admin == null ? Future.succeededFuture() : EventTopics.close(admin))
                .onComplete(ignored -> LOG.info("saga stopped after {} records ({} refused by the domain)",
                        records.handled(), records.refused()));
    }

    /** Records whose reaction committed, since deployment. */
    public long handledRecords() {
        return records == null ? 0 : records.handled();
    }

    /** Records whose command the domain refused (handled all the same: the refusal is their answer), since deployment. */
    public long skippedRecords() {
        return records == null ? 0 : records.refused();
    }

    /** Records the relay of this process handed over and this saga took, since deployment. */
    public long handOffsTaken() {
        return queues == null ? 0 : queues.handOffsTaken();
    }

    /** Records the relay handed over and this saga left to Kafka (not the next it expected), since deployment. */
    public long handOffsDropped() {
        return queues == null ? 0 : queues.handOffsDropped();
    }

    /** Records polled from Kafka and skipped, their handed-over copy taken, since deployment. */
    public long kafkaCopiesSkipped() {
        return queues == null ? 0 : queues.kafkaCopiesSkipped();
    }

    /** Events committed in this process that this saga reacted to before Kafka delivered them, since deployment. */
    public long committedTaken() {
        return records == null ? 0 : records.committedTaken();
    }

    /**
     * Events committed in this process that this saga left to Kafka (not on a partition it consumes, paused, not
     * their stream's next version, or their reaction failed), since deployment.
     */
    public long committedLeft() {
        return (queues == null ? 0 : queues.committedLeft()) + (records == null ? 0 : records.committedLeft());
    }

    /** Records from Kafka skipped: copies of events reacted to when they were committed here, since deployment. */
    public long committedCopiesSkipped() {
        return records == null ? 0 : records.committedCopiesSkipped();
    }

    /** The dead letters this saga parks records in. */
    public SagaDeadLetters deadLetters() {
        return deadLetters;
    }

    /**
     * The saga's consumer lag ({@link ConsumerLag}): records in Kafka it has not handled yet, per partition it
     * owns, as of the last reading (every {@code metrics.refresh-interval}).
     */
    public ConsumerLag lag() {
        return lag;
    }

    /** The lag of the partitions this instance owns, from the records it handled, else its committed offsets. */
    private Future<Void> readLag() {
        if (admin == null) {
            return Future.succeededFuture();
        }
        Map<TopicPartition, Long> progress = queues.progress();
        return lag.read(admin, progress.keySet(), partitions -> nextOffsets(progress))
                .onFailure(failure -> LOG.debug("saga consumer lag not read: {}", failure.toString())).mapEmpty();
    }

    private Future<Map<TopicPartition, Long>> nextOffsets(Map<TopicPartition, Long> progress) {
        Map<TopicPartition, Long> next = new HashMap<>();
        List<Future<Void>> reads = new ArrayList<>();
        progress.forEach((partition, handledUpTo) -> {
            Future<Long> from = handledUpTo >= 0 ? Future.succeededFuture(handledUpTo)
                    : consumer.committed(partition).map(c -> c == null ? 0L : c.getOffset());
            reads.add(from.map(offset -> {
                next.put(partition, offset);
                return null;
            }));
        });
        return Future.all(reads).map(next);
    }

    /** Records received and not yet handled. */
    public int recordsInFlight() {
        return queues == null ? 0 : queues.inFlight();
    }

    /**
     * An operator's pause ({@code POST /api/admin/saga/pause}): stops handling records (those received wait,
     * their offsets uncommitted, and the lag grows) until {@link #resumeConsumer()}; a reaction already under
     * way finishes. For holding the saga's commands back while something it depends on is repaired.
     */
    public Future<Void> pauseConsumer() {
        Promise<Void> paused = Promise.promise();
        context.runOnContext(ignored -> {
            queues.hold();
            this.paused = true;
            paused.complete();
        });
        return paused.future();
    }

    /** Handles records again after {@link #pauseConsumer()} ({@code POST /api/admin/saga/resume}). */
    public Future<Void> resumeConsumer() {
        Promise<Void> resumed = Promise.promise();
        context.runOnContext(ignored -> {
            queues.release();
            this.paused = false;
            resumed.complete();
        });
        return resumed.future();
    }

    /** Whether an operator paused the saga's handling. */
    public boolean paused() {
        return paused;
    }
}
