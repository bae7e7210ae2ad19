package dev.orders.command.saga;

import dev.orders.command.domain.DomainException;
import dev.orders.command.handling.CommandHandler;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventFormatException;
import dev.orders.events.EventJson;
import dev.orders.events.StreamType;
import dev.orders.events.Topics;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.messaging.ConsumerGroups;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The saga: consumes the order and customer topics in group {@code <prefix>.saga} and turns each event
 * into the commands of {@link SagaReactions}. The records of one partition are handled in order, in
 * batches of what arrived meanwhile ({@link PartitionQueues}): since events are keyed by customer, a
 * batch holds each customer's reactions in order, and they are decided together (load once, decide N,
 * append once). An offset is committed only after the commands its batch caused have committed, so a
 * crash redelivers and never loses a reaction. An undecodable record, or one whose command the domain
 * refuses for good (such as NOT_FOUND), is logged with its coordinates and skipped; any other failure
 * (the database is down) is retried with backoff, holding back only its own partition.
 */
public final class SagaVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(SagaVerticle.class);
    private static final long COMMIT_INTERVAL_MS = 200;
    private static final long MAX_RETRY_DELAY_MS = 5_000;
    private static final int MAX_IN_FLIGHT = 5_000;
    private static final int MAX_BATCH = 500;
    private static final long LAG_INTERVAL_MS = 5_000;

    private final OrdersConfig config;
    private final String kafkaBootstrap;
    private final SagaReactions reactions;
    private final AtomicLong handled = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private KafkaConsumer<String, byte[]> consumer;
    private PartitionQueues queues;
    private long commitTimer = -1;
    private long lagTimer = -1;
    private final Map<String, Long> lag = new ConcurrentHashMap<>();
    private volatile boolean halted;

    public SagaVerticle(OrdersConfig config, CommandHandler handler, String kafkaBootstrap) {
        this.config = config;
        this.kafkaBootstrap = kafkaBootstrap;
        this.reactions = new SagaReactions(handler, new Deadlines(), handler.pool(), config.sagaCreditCheckTimeout());
    }

    /** The consumer group of the saga: one per topic prefix. */
    public static String groupId(String topicPrefix) {
        return topicPrefix + ".saga";
    }

    @Override
    public Future<?> start() {
        String prefix = config.kafkaTopicPrefix();
        Map<String, String> settings = new HashMap<>(Map.of(
                "bootstrap.servers", kafkaBootstrap,
                "group.id", groupId(prefix),
                "client.id", groupId(prefix) + "-" + deploymentID(),
                "key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer",
                "value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                "enable.auto.commit", "false",
                "auto.offset.reset", "earliest",
                "max.poll.records", "1000"));
        settings.putAll(ConsumerGroups.LIVENESS);
        consumer = KafkaConsumer.create(vertx, settings);
        queues = new PartitionQueues(context, consumer, this::handle, MAX_IN_FLIGHT, MAX_BATCH);
        consumer.exceptionHandler(failure -> LOG.warn("saga consumer: {}", failure.toString()));
        consumer.partitionsAssignedHandler(queues::assigned);
        consumer.partitionsRevokedHandler(queues::revoked);
        consumer.handler(queues::add);
        commitTimer = vertx.setPeriodic(COMMIT_INTERVAL_MS, id -> queues.commit());
        lagTimer = vertx.setPeriodic(LAG_INTERVAL_MS, id -> readLag());
        return consumer.subscribe(Set.of(Topics.of(prefix, StreamType.ORDER), Topics.of(prefix, StreamType.CUSTOMER)))
                .onSuccess(ignored -> LOG.info("saga consuming {} as group {}", Topics.all(prefix), groupId(prefix)));
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(commitTimer);
        vertx.cancelTimer(lagTimer);
        if (halted) {
            LOG.warn("saga halted: closing its consumer without committing what it handled");
            queues.abandon();
            return consumer.close();
        }
        return queues.drain(10_000)
                .compose(ignored -> {
                    queues.commit(); // completes while the consumer closes: close waits for pending commits
                    return consumer.close();
                })
                .onComplete(ignored -> LOG.info("saga stopped after {} records ({} skipped)", handled.get(),
                        skipped.get()));
    }

    /** Handles a batch of one partition's records; retries a failure that may pass, skips what cannot. */
    private Future<Void> handle(List<KafkaConsumerRecord<String, byte[]>> records) {
        List<KafkaConsumerRecord<String, byte[]>> decodable = new ArrayList<>(records.size());
        List<EventEnvelope> envelopes = new ArrayList<>(records.size());
        for (KafkaConsumerRecord<String, byte[]> record : records) {
            try {
                if (record.value() == null) {
                    throw new EventFormatException("the record has no value");
                }
                envelopes.add(EventJson.decode(record.value()));
                decodable.add(record);
            } catch (EventFormatException bad) {
                skip(record, "it cannot be decoded: " + bad.getMessage());
            }
        }
        return envelopes.isEmpty() ? Future.succeededFuture() : attempt(decodable, envelopes, 1);
    }

    private Future<Void> attempt(List<KafkaConsumerRecord<String, byte[]>> records, List<EventEnvelope> envelopes,
                                 int attempt) {
        if (queues.stopping()) {
            return Future.failedFuture("the saga is stopping");
        }
        Future<List<DomainException>> reaction;
        try {
            reaction = reactions.reactAll(envelopes);
        } catch (RuntimeException bug) {
            reaction = Future.failedFuture(bug);
        }
        return reaction.<Void>map(refusals -> {
            for (int i = 0; i < refusals.size(); i++) {
                DomainException refused = refusals.get(i);
                EventEnvelope envelope = envelopes.get(i);
                if (refused != null) {
                    skip(records.get(i), envelope.type() + " " + envelope.eventId() + " [" + envelope.metadata()
                            .correlationId() + "] caused a command the domain refuses: " + refused.rejection() + ", "
                            + refused.getMessage());
                } else {
                    handled.incrementAndGet();
                }
            }
            return null;
        }).recover(failure -> {
            KafkaConsumerRecord<String, byte[]> first = records.getFirst();
            long delay = Math.min(MAX_RETRY_DELAY_MS, 50L << Math.min(attempt, 7));
            LOG.warn("saga: a batch of {} records from {}-{}@{} failed (attempt {}), retrying in {} ms: {}",
                    records.size(), first.topic(), first.partition(), first.offset(), attempt, delay, failure.toString());
            return vertx.timer(delay).compose(ignored -> attempt(records, envelopes, attempt + 1));
        });
    }

    private void skip(KafkaConsumerRecord<String, byte[]> record, String why) {
        skipped.incrementAndGet();
        LOG.warn("saga skips the record at {}-{}@{} (key {}): {}", record.topic(), record.partition(),
                record.offset(), record.key(), why);
    }

    /** Records whose reaction committed, since deployment. */
    public long handledRecords() {
        return handled.get();
    }

    /** Records skipped as undecodable or refused by the domain, since deployment. */
    public long skippedRecords() {
        return skipped.get();
    }

    /**
     * The saga's consumer lag of one partition ({@code <topic>-<partition>}): records in Kafka it has not
     * handled yet, as of the last reading (every {@value #LAG_INTERVAL_MS} ms, or {@link #refreshLag}); 0 for
     * a partition this instance does not own.
     */
    public long consumerLag(String topicPartition) {
        return lag.getOrDefault(topicPartition, 0L);
    }

    /** Reads the consumer lag now; completes once {@link #consumerLag} answers the new values. */
    public Future<Void> refreshLag() {
        Promise<Void> done = Promise.promise();
        context.runOnContext(ignored -> readLag().onComplete(done));
        return done.future();
    }

    private Future<Void> readLag() {
        Map<TopicPartition, Long> progress = queues.progress();
        if (progress.isEmpty()) {
            lag.clear();
            return Future.succeededFuture();
        }
        return consumer.endOffsets(progress.keySet()).compose(ends -> {
            Map<String, Long> fresh = new HashMap<>();
            List<Future<Void>> reads = new ArrayList<>();
            progress.forEach((partition, handledUpTo) -> {
                Future<Long> from = handledUpTo >= 0 ? Future.succeededFuture(handledUpTo)
                        : consumer.committed(partition).map(c -> c == null ? 0L : c.getOffset());
                long end = ends.getOrDefault(partition, 0L);
                reads.add(from.map(offset -> {
                    fresh.put(partition.getTopic() + "-" + partition.getPartition(), Math.max(0, end - offset));
                    return null;
                }));
            });
            return Future.all(reads).map(all -> {
                lag.keySet().retainAll(fresh.keySet());
                lag.putAll(fresh);
                return null;
            });
        }).onFailure(failure -> LOG.debug("saga consumer lag not read: {}", failure.toString())).mapEmpty();
    }

    /** Records received and not yet handled. */
    public int recordsInFlight() {
        return queues == null ? 0 : queues.inFlight();
    }

    /** Test hook: stops handling records (those received wait) until {@link #resumeConsumer()}. */
    Future<Void> pauseConsumer() {
        Promise<Void> paused = Promise.promise();
        context.runOnContext(ignored -> {
            queues.hold();
            paused.complete();
        });
        return paused.future();
    }

    /** Test hook: handles records again after {@link #pauseConsumer()}. */
    Future<Void> resumeConsumer() {
        Promise<Void> resumed = Promise.promise();
        context.runOnContext(ignored -> {
            queues.release();
            resumed.complete();
        });
        return resumed.future();
    }

    /**
     * Test hook, a stand-in for a crash: the next undeployment closes the consumer at once, committing
     * no offset and abandoning the records not yet handled.
     */
    void halt() {
        halted = true;
    }
}
