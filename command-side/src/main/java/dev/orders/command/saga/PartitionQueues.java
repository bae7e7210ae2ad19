package dev.orders.command.saga;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The records of each partition, handled one at a time and in order, while partitions run side by
 * side; and the offsets that may be committed: a partition's offset moves past a record only once the
 * record's handler succeeded. Too many records waiting pause the consumer until half of them are done.
 * Used on the consumer's context only.
 */
final class PartitionQueues {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionQueues.class);

    private final Context context;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Function<KafkaConsumerRecord<String, byte[]>, Future<Void>> handler;
    private final int maxInFlight;
    private final Map<TopicPartition, Future<Void>> tails = new HashMap<>();
    private final Map<TopicPartition, Long> handledUpTo = new HashMap<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    private final Set<TopicPartition> owned = new HashSet<>();
    private Promise<Void> hold;
    private boolean flowPaused;
    private boolean committing;
    private volatile int inFlight;
    private volatile boolean stopping;

    PartitionQueues(Context context, KafkaConsumer<String, byte[]> consumer,
                    Function<KafkaConsumerRecord<String, byte[]>, Future<Void>> handler, int maxInFlight) {
        this.context = context;
        this.consumer = consumer;
        this.handler = handler;
        this.maxInFlight = maxInFlight;
    }

    /** Queues a record behind the earlier records of its partition. */
    void add(KafkaConsumerRecord<String, byte[]> record) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        inFlight++;
        updateFlow();
        Future<Void> next = tails.getOrDefault(partition, Future.succeededFuture())
                .compose(ignored -> hold == null ? Future.succeededFuture() : hold.future())
                .compose(ignored -> onNextTurn(record));
        tails.put(partition, next);
        next.onComplete(outcome -> {
            inFlight--;
            if (outcome.succeeded() && owned.contains(partition)) {
                handledUpTo.merge(partition, record.offset() + 1, Math::max);
            }
            if (tails.get(partition) == next) {
                tails.remove(partition);
            }
            updateFlow();
        });
    }

    /** Runs the handler from the event loop, so that a run of records done at once cannot nest deeply. */
    private Future<Void> onNextTurn(KafkaConsumerRecord<String, byte[]> record) {
        Promise<Void> done = Promise.promise();
        context.runOnContext(ignored -> {
            if (stopping) {
                done.fail("stopping");
            } else {
                handler.apply(record).onComplete(done);
            }
        });
        return done.future();
    }

    void assigned(Set<TopicPartition> partitions) {
        owned.addAll(partitions);
        LOG.info("saga assigned {}", partitions);
    }

    /**
     * For each partition this instance owns, the offset its records are handled up to (or committed),
     * or -1 when nothing is known yet. Call on the saga's context.
     */
    Map<TopicPartition, Long> progress() {
        Map<TopicPartition, Long> progress = new HashMap<>();
        for (TopicPartition partition : owned) {
            progress.put(partition, Math.max(handledUpTo.getOrDefault(partition, -1L), committed.getOrDefault(partition, -1L)));
        }
        return progress;
    }

    /** Forgets the offsets of revoked partitions: their new owner starts at the last committed one. */
    void revoked(Set<TopicPartition> partitions) {
        owned.removeAll(partitions);
        handledUpTo.keySet().removeAll(partitions);
        committed.keySet().removeAll(partitions);
        LOG.info("saga revoked {}", partitions);
    }

    /** Commits the offsets past the records handled since the last commit. */
    Future<Void> commit() {
        if (committing) {
            return Future.succeededFuture();
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        handledUpTo.forEach((partition, offset) -> {
            if (owned.contains(partition) && !offset.equals(committed.get(partition))) {
                offsets.put(partition, new OffsetAndMetadata(offset, ""));
            }
        });
        if (offsets.isEmpty()) {
            return Future.succeededFuture();
        }
        committing = true;
        return consumer.commit(offsets)
                .onComplete(outcome -> committing = false)
                .onSuccess(done -> offsets.forEach((partition, offset) -> {
                    if (owned.contains(partition)) {
                        committed.merge(partition, offset.getOffset(), Math::max);
                    }
                }))
                .onFailure(failure -> LOG.warn("saga offset commit failed, will retry: {}", failure.toString()))
                .<Void>mapEmpty()
                .otherwiseEmpty();
    }

    /** Stops taking records and waits, at most {@code timeoutMs}, for those under way. */
    Future<Void> drain(long timeoutMs) {
        abandon();
        committing = false;
        Future<Void> all = Future.join(new ArrayList<>(tails.values())).mapEmpty();
        Promise<Void> drained = Promise.promise();
        all.onComplete(ignored -> drained.tryComplete());
        long timer = context.owner().setTimer(timeoutMs, id -> {
            if (drained.tryComplete()) {
                LOG.warn("saga stopped with {} records still under way", inFlight);
            }
        });
        return drained.future().onComplete(ignored -> context.owner().cancelTimer(timer));
    }

    /** Stops taking records; the records not yet started are given up (they are redelivered later). */
    void abandon() {
        stopping = true;
        updateFlow();
        if (hold != null) {
            hold.tryFail("stopping");
        }
    }

    boolean stopping() {
        return stopping;
    }

    /** Holds every record that has not started yet, until {@link #release()}. */
    void hold() {
        if (hold == null) {
            hold = Promise.promise();
            updateFlow();
        }
    }

    void release() {
        if (hold != null) {
            Promise<Void> released = hold;
            hold = null;
            released.tryComplete();
            updateFlow();
        }
    }

    int inFlight() {
        return inFlight;
    }

    private void updateFlow() {
        if (!flowPaused && (stopping || hold != null || inFlight >= maxInFlight)) {
            flowPaused = true;
            consumer.pause();
        } else if (flowPaused && !stopping && hold == null && inFlight <= maxInFlight / 2) {
            flowPaused = false;
            consumer.resume();
        }
    }
}
