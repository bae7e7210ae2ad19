package dev.orders.command.saga;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import io.vertx.kafka.client.consumer.impl.KafkaConsumerRecordImpl;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The records of each partition, handled in order, in batches: whatever has arrived for a partition while
 * its previous batch was under way is handed to the handler as the next batch (at most {@code maxBatch}
 * records), so a quiet partition handles each record at once and a busy one many per round trip.
 * Partitions run side by side. A partition's offset moves past a batch only once the handler succeeded
 * for all of it. Too many records waiting pause the consumer until half of them are done. Used on the
 * consumer's context only.
 *
 * <p>Records come from the consumer's polls and from the relay of this process ({@link #handOff}). Per owned
 * partition it knows the offset of the next record to take; a handed-over record is taken only at exactly
 * that offset, a polled one before it is skipped (its handed-over copy was taken), so each offset is queued
 * once and in order whichever way it came.
 *
 * <p>Events the command handler of this process has just committed come too ({@link #committed}), ahead of their
 * Kafka copies: each is queued on the partition its copy will land in, if that partition is idle, in a batch of
 * committed events only (they move no offset), and the handler decides which it reacts to.
 */
final class PartitionQueues {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionQueues.class);

    /** What handles the batches: each holds one partition's records from Kafka, or its events committed here. */
    interface Handler {

        /** Records from Kafka (polled or handed over by the relay), in their order; the offset moves past them. */
        Future<Void> records(List<KafkaConsumerRecord<String, byte[]>> batch);

        /** Events committed in this process, ahead of their Kafka copies; no offset moves. */
        Future<Void> committed(List<CommittedEvent> batch);
    }

    /** What a partition's queue holds, in the order it came. */
    sealed interface Entry permits Polled, CommittedEvent {
    }

    /** A record from Kafka: polled, or handed over by the relay. */
    record Polled(KafkaConsumerRecord<String, byte[]> record) implements Entry {
    }

    private final Context context;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Handler handler;
    private final int maxInFlight;
    private final int maxBatch;
    private final Map<TopicPartition, ArrayDeque<Entry>> waiting = new HashMap<>();
    private final Map<TopicPartition, Future<Void>> running = new HashMap<>();
    private final Map<TopicPartition, Long> handledUpTo = new HashMap<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    private final Set<TopicPartition> owned = new HashSet<>();
    /** Per owned partition, the offset of the next record to take: polled records before it are skipped. */
    private final Map<TopicPartition, Long> expected = new HashMap<>();
    /** Per owned partition, its current assignment, so that a late answer about an earlier one is ignored. */
    private final Map<TopicPartition, Object> assignments = new HashMap<>();
    /** Per committed event queued, the countdown of the hand-off it came in ({@link #committed(List, Runnable)}). */
    private final Map<CommittedEvent, Countdown> whenDone = new IdentityHashMap<>();
    /** Where partitions start: their committed offsets, as far as known (asked of an admin client, not the consumer). */
    private final Function<Set<TopicPartition>, Future<Map<TopicPartition, Long>>> starts;
    private volatile long handOffsTaken;
    private volatile long handOffsDropped;
    private volatile long kafkaCopiesSkipped;
    private volatile long committedLeft;
    private Promise<Void> hold;
    private boolean flowPaused;
    private boolean committing;
    private volatile int inFlight;
    private volatile boolean stopping;

    PartitionQueues(Context context, KafkaConsumer<String, byte[]> consumer, Handler handler, int maxInFlight,
                    int maxBatch, Function<Set<TopicPartition>, Future<Map<TopicPartition, Long>>> starts) {
        this.context = context;
        this.starts = starts;
        this.consumer = consumer;
        this.handler = handler;
        this.maxInFlight = maxInFlight;
        this.maxBatch = maxBatch;
    }

    /**
     * Queues the records of one poll behind the earlier records of their partitions, then starts a batch for
     * each partition that has none under way: all of a poll's records of a partition go as one batch.
     */
    void addAll(KafkaConsumerRecords<String, byte[]> records) {
        Set<TopicPartition> idle = new LinkedHashSet<>();
        for (int i = 0; i < records.size(); i++) {
            KafkaConsumerRecord<String, byte[]> record = records.recordAt(i);
            TopicPartition partition = new TopicPartition(record.topic(), record.partition());
            Long next = expected.get(partition);
            if (next != null && record.offset() < next) {
                kafkaCopiesSkipped++; // taken from the relay's hand-off already
                continue;
            }
            if (owned.contains(partition)) {
                expected.put(partition, record.offset() + 1);
            }
            enqueue(partition, new Polled(record), idle);
        }
        updateFlow();
        idle.forEach(this::next);
    }

    /**
     * Takes the records the relay of this process handed over, each only if its partition is owned here and
     * its offset is exactly the next one expected, and only while records flow (not held, paused or
     * stopping); the others are dropped: Kafka delivers them. Taken records are queued as polled ones are.
     */
    void handOff(List<ConsumerRecord<String, byte[]>> records) {
        Set<TopicPartition> idle = new LinkedHashSet<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            TopicPartition partition = new TopicPartition(record.topic(), record.partition());
            Long next = expected.get(partition);
            if (flowPaused || !owned.contains(partition) || next == null || record.offset() != next) {
                handOffsDropped++;
                continue;
            }
            handOffsTaken++;
            expected.put(partition, next + 1);
            enqueue(partition, new Polled(new KafkaConsumerRecordImpl<>(record)), idle);
        }
        updateFlow();
        idle.forEach(this::next);
    }

    /**
     * Queues events just committed in this process, each on its partition, if this instance owns the partition,
     * records flow (not held, paused or stopping) and the partition is idle (nothing queued or under way, or only
     * what this call queued); the others are left to Kafka. So a quiet partition reacts at once, and a busy one
     * takes its events in the larger batches that the relay's hand-off and the polls gather. Runs {@code done} once
     * every event queued is done with (its batch handled or failed, or given up when the saga stops), at once when
     * none was queued.
     */
    void committed(List<CommittedEvent> events, Runnable done) {
        Set<TopicPartition> idle = new LinkedHashSet<>();
        List<CommittedEvent> queued = new ArrayList<>(events.size());
        for (CommittedEvent event : events) {
            TopicPartition partition = new TopicPartition(event.topic(), event.partition());
            boolean busy = running.containsKey(partition) && !idle.contains(partition);
            if (flowPaused || !owned.contains(partition) || busy) {
                committedLeft++;
                continue;
            }
            queued.add(event);
            enqueue(partition, event, idle);
        }
        if (queued.isEmpty()) {
            done.run();
        } else {
            Countdown countdown = new Countdown(queued.size(), done);
            queued.forEach(event -> whenDone.put(event, countdown));
        }
        updateFlow();
        idle.forEach(this::next);
    }

    /** What runs once the last of some events is done with: the events of one hand-off. */
    private static final class Countdown {

        private int left;
        private final Runnable done;

        Countdown(int left, Runnable done) {
            this.left = left;
            this.done = done;
        }

        void one() {
            if (--left == 0) {
                done.run();
            }
        }

        void all() {
            if (left > 0) {
                left = 0;
                done.run();
            }
        }
    }

    private void enqueue(TopicPartition partition, Entry entry, Set<TopicPartition> idle) {
        inFlight++;
        waiting.computeIfAbsent(partition, p -> new ArrayDeque<>()).add(entry);
        if (!running.containsKey(partition)) {
            running.put(partition, Future.succeededFuture());
            idle.add(partition);
        }
    }

    /** Hands the partition's waiting records to the handler as one batch, then the next, until none wait. */
    private void next(TopicPartition partition) {
        ArrayDeque<Entry> queue = waiting.get(partition);
        if (queue == null || queue.isEmpty() || stopping) {
            running.remove(partition);
            if (queue != null && queue.isEmpty()) {
                waiting.remove(partition);
            }
            return;
        }
        if (hold != null) {
            Future<Void> held = hold.future().transform(ignored -> Future.<Void>succeededFuture());
            running.put(partition, held);
            held.onComplete(ignored -> context.runOnContext(v -> next(partition)));
            return;
        }
        // A batch holds records from Kafka or events committed here, never both: only the former move the offset.
        boolean committedHere = queue.peek() instanceof CommittedEvent;
        List<KafkaConsumerRecord<String, byte[]>> records = new ArrayList<>();
        List<CommittedEvent> events = new ArrayList<>();
        while (!queue.isEmpty() && records.size() + events.size() < maxBatch
                && queue.peek() instanceof CommittedEvent == committedHere) {
            switch (queue.poll()) {
                case Polled polled -> records.add(polled.record());
                case CommittedEvent event -> events.add(event);
            }
        }
        int size = records.size() + events.size();
        Future<Void> handled;
        try {
            handled = committedHere ? handler.committed(events) : handler.records(records);
        } catch (RuntimeException bug) {
            handled = Future.failedFuture(bug);
        }
        running.put(partition, handled);
        handled.onComplete(outcome -> {
            inFlight -= size;
            events.forEach(this::doneWith);
            if (outcome.succeeded() && owned.contains(partition) && !committedHere) {
                handledUpTo.merge(partition, records.getLast().offset() + 1, Math::max);
            }
            updateFlow();
            if (outcome.succeeded()) {
                context.runOnContext(ignored -> next(partition));
            } else {
                // only when stopping: the handler retries everything else itself; the rest is redelivered
                running.remove(partition);
            }
        });
    }

    /**
     * Owns the partitions, and learns where each starts: its committed offset as {@code starts} answers it (the
     * consumer starts there), else its first polled record. Until then no handed-over record of the partition is
     * taken. The consumer itself is not asked: a call to it from within its rebalance would run beside its poll.
     */
    void assigned(Set<TopicPartition> partitions) {
        owned.addAll(partitions);
        Object assignment = new Object();
        for (TopicPartition partition : partitions) {
            assignments.put(partition, assignment);
            expected.remove(partition);
        }
        starts.apply(Set.copyOf(partitions)).onSuccess(known -> context.runOnContext(ignored ->
                known.forEach((partition, offset) -> {
                    if (assignments.get(partition) == assignment) {
                        expected.putIfAbsent(partition, offset);
                    }
                }))).onFailure(failure -> LOG.debug("saga: where {} start is not known: {}", partitions, failure.toString()));
        LOG.info("saga assigned {}", partitions);
    }

    private void doneWith(CommittedEvent event) {
        Countdown countdown = whenDone.remove(event);
        if (countdown != null) {
            countdown.one();
        }
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
        assignments.keySet().removeAll(partitions);
        expected.keySet().removeAll(partitions);
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
        Future<Void> all = Future.join(new ArrayList<>(running.values())).mapEmpty();
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
    private void abandon() {
        stopping = true;
        List<Countdown> given = new ArrayList<>(whenDone.values());
        whenDone.clear();
        given.forEach(Countdown::all);
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

    /** Handed-over records taken. */
    long handOffsTaken() {
        return handOffsTaken;
    }

    /** Handed-over records dropped (not the next expected, or not flowing): Kafka delivers them. */
    long handOffsDropped() {
        return handOffsDropped;
    }

    /** Polled records skipped because their handed-over copy was taken. */
    long kafkaCopiesSkipped() {
        return kafkaCopiesSkipped;
    }

    /** Events committed here and left to Kafka: their partition is not owned here (or not known), busy, or paused. */
    long committedLeft() {
        return committedLeft;
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
