package dev.orders.command.saga;

import dev.orders.command.domain.DomainException;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventFormatException;
import dev.orders.events.EventJson;
import dev.orders.events.Topics;
import dev.orders.infra.kafka.RecordSpans;
import dev.orders.service.tracing.LogFields;
import dev.orders.service.tracing.Tracing;
import io.opentelemetry.api.trace.Span;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Gets one partition's batch of records through the saga's reactions without losing one and without
 * stalling behind one. The batch is reacted to as a whole ({@link SagaReactions#reactAll}). A failure that
 * may pass ({@link SagaFailures}: the database is down or busy) is retried with backoff for as long as it
 * lasts, holding back only this partition. A failure that recurs for the same input sends the batch through
 * one record at a time, and a record that fails that way {@value #MAX_ATTEMPTS} times is parked in
 * {@link SagaDeadLetters}, after which the records behind it go on. A record that cannot be decoded is
 * parked at once: decoding is a function of its bytes alone, another attempt cannot read them either.
 * A record whose command the domain refuses (say, for a customer that does not exist) is handled: the
 * refusal is its answer, and it is logged and counted.
 *
 * <p>The batch's future completes once every record has been reacted to or parked, so the offset moves
 * past a record only once its outcome is committed; it fails only when the saga stops.
 *
 * <p>A batch of events committed in this process ({@link CommittedEvent}, ahead of Kafka) is reacted to once:
 * only the events that are their stream's next version ({@link RecentReactions}); whatever is not taken, or whose
 * reaction fails, is reacted to when Kafka delivers it. The Kafka copy of an event reacted to that way is
 * skipped.
 */
final class SagaRecords implements PartitionQueues.Handler {

    private static final Logger LOG = LoggerFactory.getLogger(SagaRecords.class);
    /** Attempts of a record whose failure recurs, before it is parked. */
    static final int MAX_ATTEMPTS = 5;
    private static final long FIRST_RETRY_DELAY_MS = 50;
    private static final long MAX_RETRY_DELAY_MS = 5_000;

    private final Vertx vertx;
    private final Tracing tracing;
    private final String group;
    private final SagaReactions reactions;
    private final SagaDeadLetters deadLetters;
    private final BooleanSupplier stopping;
    private final AtomicLong handled = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong committedTaken = new AtomicLong();
    private final AtomicLong committedLeft = new AtomicLong();
    private final AtomicLong committedCopiesSkipped = new AtomicLong();
    private final RecentReactions recent;

    /**
     * An event to react to and where it came from: the Kafka record it came in, or, for an event committed here
     * (never parked: what fails of it is left to Kafka), that event. One of the two is null.
     */
    private record Incoming(EventEnvelope envelope, KafkaConsumerRecord<String, byte[]> record,
                            CommittedEvent committed) {

        /** Where the event came from, for the log. */
        String at() {
            return record != null ? coordinates(record)
                    : committed.topic() + "-" + committed.partition() + " (committed here, key " + committed.key() + ")";
        }
    }

    SagaRecords(Vertx vertx, String group, SagaReactions reactions, SagaDeadLetters deadLetters,
                RecentReactions recent, BooleanSupplier stopping) {
        this.vertx = vertx;
        this.recent = recent;
        this.tracing = Tracing.of(vertx);
        this.group = group;
        this.reactions = reactions;
        this.deadLetters = deadLetters;
        this.stopping = stopping;
    }

    /** The event a record's value holds. */
    static EventEnvelope decode(byte[] value) {
        if (value == null) {
            throw new EventFormatException("the record has no value");
        }
        return EventJson.decode(value);
    }

    /** Handles a batch of one partition's records, in order; see the class comment. */
    @Override
    public Future<Void> records(List<KafkaConsumerRecord<String, byte[]>> records) {
        List<Incoming> decoded = new ArrayList<>(records.size());
        List<Span> spans = new ArrayList<>(records.size());
        List<Future<Void>> outcomes = new ArrayList<>();
        for (KafkaConsumerRecord<String, byte[]> record : records) {
            if (copyOfTaken(record)) {
                committedCopiesSkipped.incrementAndGet();
                continue;
            }
            EventEnvelope envelope;
            try {
                envelope = decode(record.value());
            } catch (RuntimeException undecodable) {
                outcomes.add(park(record, "it cannot be decoded: " + SagaFailures.describe(undecodable), 1, 1));
                continue;
            }
            // the reaction's commands, and so their appends, carry this span's trace on
            Span span = RecordSpans.consume(tracing, "saga", group, record, envelope);
            spans.add(span);
            decoded.add(new Incoming(RecordSpans.traced(envelope, span), record, null));
        }
        Future<Void> reacted = decoded.isEmpty() ? Future.succeededFuture() : together(decoded, 1)
                .onSuccess(done -> decoded.forEach(one -> recent.reacted(one.envelope())));
        outcomes.add(reacted.onComplete(done -> spans.forEach(span -> Tracing.endOn(span, done))));
        return Future.all(outcomes).mapEmpty();
    }

    /** Whether the record is the Kafka copy of an event taken at its commit, by the event id its header names (undecoded). */
    private boolean copyOfTaken(KafkaConsumerRecord<String, byte[]> record) {
        if (!recent.anyTaken()) {
            return false;
        }
        for (KafkaHeader header : record.headers()) {
            if (header.key().equals(Topics.HEADER_EVENT_ID)) {
                try {
                    return recent.copyOfTaken(UUID.fromString(header.value().toString()));
                } catch (IllegalArgumentException notAnId) {
                    return false;
                }
            }
        }
        return false;
    }

    /** Events committed in this process: see the class comment. Never fails: what is not done here, Kafka brings. */
    @Override
    public Future<Void> committed(List<CommittedEvent> events) {
        Map<UUID, Long> pending = new HashMap<>();
        List<EventEnvelope> taken = new ArrayList<>(events.size());
        List<Incoming> traced = new ArrayList<>(events.size());
        List<Span> spans = new ArrayList<>(events.size());
        for (CommittedEvent event : events) {
            EventEnvelope envelope = event.envelope();
            if (!recent.mayTake(envelope, pending) || stopping.getAsBoolean()) {
                committedLeft.incrementAndGet();
                continue;
            }
            pending.put(envelope.streamId(), envelope.version());
            taken.add(envelope);
            // under the append that committed the event, as a delivered record's span is under its publish
            Span span = RecordSpans.consumeCommitted(tracing, "saga", group, event.topic(), envelope);
            spans.add(span);
            traced.add(new Incoming(RecordSpans.traced(envelope, span), null, event));
        }
        if (taken.isEmpty()) {
            return Future.succeededFuture();
        }
        return react(traced).onComplete(done -> spans.forEach(span -> Tracing.endOn(span, done))).map(done -> {
            taken.forEach(recent::takenHere);
            committedTaken.addAndGet(taken.size());
            return (Void) null;
        }).otherwise(failure -> {
            committedLeft.addAndGet(taken.size());
            LOG.debug("saga: reacting to {} events committed here failed, Kafka brings them again: {}", taken.size(),
                    failure.toString());
            return null;
        });
    }

    /** The batch as one unit; a failure that recurs sends it through one record at a time. */
    private Future<Void> together(List<Incoming> batch, int attempt) {
        if (stopping.getAsBoolean()) {
            return Future.failedFuture("the saga is stopping");
        }
        return react(batch).recover(failure -> {
            if (!SagaFailures.mayPass(failure)) {
                if (batch.size() == 1) {
                    return retryOrPark(batch.getFirst(), failure, 1, attempt);
                }
                LOG.warn("saga: a batch of {} records from {} failed ({}); handling them one at a time", batch.size(),
                        batch.getFirst().at(), SagaFailures.describe(failure));
                return oneAtATime(batch);
            }
            long delay = delay(attempt);
            LOG.warn("saga: a batch of {} records from {} failed (attempt {}), retrying in {} ms: {}", batch.size(),
                    batch.getFirst().at(), attempt, delay, failure.toString());
            return vertx.timer(delay).compose(ignored -> together(batch, attempt + 1));
        });
    }

    private Future<Void> oneAtATime(List<Incoming> batch) {
        Future<Void> chain = Future.succeededFuture();
        for (Incoming one : batch) {
            chain = chain.compose(ignored -> alone(one, 0, 1));
        }
        return chain;
    }

    /** One record, on its own; {@code recurring} is how many of its attempts so far failed in a way that recurs. */
    private Future<Void> alone(Incoming one, int recurring, int attempt) {
        if (stopping.getAsBoolean()) {
            return Future.failedFuture("the saga is stopping");
        }
        return react(List.of(one)).recover(failure -> retryOrPark(one, failure,
                SagaFailures.mayPass(failure) ? recurring : recurring + 1, attempt));
    }

    private Future<Void> retryOrPark(Incoming one, Throwable failure, int recurring, int attempt) {
        if (recurring >= MAX_ATTEMPTS) {
            return park(one.record(), SagaFailures.describe(failure), attempt, 1);
        }
        long delay = delay(attempt);
        LOG.warn("saga: the record at {} ({} {}) failed (attempt {}, {} of {} that recur), retrying in {} ms: {}",
                one.at(), one.envelope().type(), one.envelope().eventId(), attempt, recurring,
                MAX_ATTEMPTS, delay, SagaFailures.describe(failure));
        return vertx.timer(delay).compose(ignored -> alone(one, recurring, attempt + 1));
    }

    /** Reacts to the records' events; counts what committed and what the domain refused. */
    private Future<Void> react(List<Incoming> batch) {
        List<EventEnvelope> envelopes = batch.stream().map(Incoming::envelope).toList();
        Future<List<DomainException>> reaction;
        try {
            reaction = reactions.reactAll(envelopes);
        } catch (RuntimeException bug) {
            reaction = Future.failedFuture(bug);
        }
        return reaction.map(refusals -> {
            for (int i = 0; i < refusals.size(); i++) {
                DomainException refusal = refusals.get(i);
                if (refusal == null) {
                    handled.incrementAndGet();
                    continue;
                }
                refused.incrementAndGet();
                EventEnvelope envelope = envelopes.get(i);
                LogFields.journey(LOG.atWarn(), envelope.metadata().correlationId(), envelope.metadata().traceparent())
                        .log("saga: {} {} at {} caused a command the domain refuses: {}, {}", envelope.type(),
                                envelope.eventId(), batch.get(i).at(), refusal.rejection(),
                                refusal.getMessage());
            }
            return null;
        });
    }

    /** Parks a record; writing it is retried until it is stored (the database may be down). */
    private Future<Void> park(KafkaConsumerRecord<String, byte[]> record, String error, int attempts, int tries) {
        if (stopping.getAsBoolean()) {
            return Future.failedFuture("the saga is stopping");
        }
        return deadLetters.park(record, error, attempts).recover(failure -> {
            long delay = delay(tries);
            LOG.warn("saga: the record at {} could not be parked (try {}), retrying in {} ms: {}", coordinates(record),
                    tries, delay, failure.toString());
            return vertx.timer(delay).compose(ignored -> park(record, error, attempts, tries + 1));
        });
    }

    private static long delay(int attempt) {
        return Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS << Math.min(attempt - 1, 7));
    }

    private static String coordinates(KafkaConsumerRecord<String, byte[]> record) {
        return record.topic() + "-" + record.partition() + "@" + record.offset() + " (key " + record.key() + ")";
    }

    /** Records whose reaction committed. */
    long handled() {
        return handled.get();
    }

    /** Events committed in this process that were reacted to before Kafka delivered them. */
    long committedTaken() {
        return committedTaken.get();
    }

    /** Events committed in this process that were left to Kafka (not their stream's next version, or failed). */
    long committedLeft() {
        return committedLeft.get();
    }

    /** Records from Kafka skipped because their event was reacted to when it was committed here. */
    long committedCopiesSkipped() {
        return committedCopiesSkipped.get();
    }

    /** Records whose command the domain refused. */
    long refused() {
        return refused.get();
    }
}
