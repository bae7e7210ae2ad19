package dev.orders.command.handling;

import dev.orders.command.domain.DomainException;
import dev.orders.command.domain.Rejection;
import dev.orders.command.store.ConcurrencyConflictException;
import dev.orders.command.store.EventStore;
import dev.orders.command.store.Snapshots;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Runs a command on an aggregate: load (snapshot plus later events), decide, append with the loaded
 * version as the expected one. A command that loses a race is decided again on the reloaded state (safe,
 * since decide is pure) up to a bounded number of attempts; past that the conflict is the caller's.
 *
 * <p>A command may come with an access rule on the loaded state (a customer acts on its own orders only):
 * an aggregate the rule refuses is handled as one that does not exist, so ids do not leak.
 */
public final class CommandHandler {

    private static final Logger LOG = LoggerFactory.getLogger(CommandHandler.class);

    /** Work done inside the append's transaction, such as storing an idempotent answer or a deadline. */
    @FunctionalInterface
    public interface InTransaction<S> {
        Future<Void> run(SqlConnection tx, Result<S> result);

        static <S> InTransaction<S> nothing() {
            return (tx, result) -> Future.succeededFuture();
        }
    }

    /**
     * An aggregate's state as of a version.
     *
     * @param eventsRead how many events were read to build it (after the snapshot, if one was used)
     */
    public record Loaded<S>(UUID streamId, long version, S state, int eventsRead) {
    }

    /** The outcome of a command: the stream's version and state after it, and what it appended. */
    public record Result<S>(UUID streamId, long version, S state, List<EventEnvelope> appended) {
    }

    private final Vertx vertx;
    private final Pool pool;
    private final EventStore store;
    private final Snapshots snapshots;
    private final Clock clock;
    private final Supplier<UUID> ids;
    private final int snapshotEvery;
    private final int maxAttempts;
    private final CommandMetrics metrics;

    public CommandHandler(Vertx vertx, Pool pool, EventStore store, Snapshots snapshots, Clock clock,
                          Supplier<UUID> ids, int snapshotEvery, int maxAttempts) {
        this(vertx, pool, store, snapshots, clock, ids, snapshotEvery, maxAttempts, new SimpleMeterRegistry());
    }

    public CommandHandler(Vertx vertx, Pool pool, EventStore store, Snapshots snapshots, Clock clock,
                          Supplier<UUID> ids, int snapshotEvery, int maxAttempts, MeterRegistry registry) {
        this.metrics = new CommandMetrics(registry);
        this.vertx = vertx;
        this.pool = pool;
        this.store = store;
        this.snapshots = snapshots;
        this.clock = clock;
        this.ids = ids;
        this.snapshotEvery = snapshotEvery;
        this.maxAttempts = maxAttempts;
    }

    /** Loads an aggregate: its latest usable snapshot, then the events after it. */
    public <C, S, E extends DomainEvent> Future<Loaded<S>> load(AggregateType<C, S, E> type, UUID streamId) {
        return snapshots.load(pool, streamId, type.stateClass(), type.snapshotSchemaVersion())
                .compose(snapshot -> {
                    long from = snapshot.map(Snapshots.Snapshot::version).orElse(0L);
                    S initial = snapshot.map(Snapshots.Snapshot::state).orElseGet(type.decider()::initialState);
                    return store.load(pool, streamId, from).map(events -> {
                        S state = initial;
                        long version = from;
                        for (EventEnvelope envelope : events) {
                            state = type.decider().evolve(state, cast(type, envelope.event()));
                            version = envelope.version();
                        }
                        return new Loaded<>(streamId, version, state, events.size());
                    });
                });
    }

    /** The event that created a stream, if it exists: enough to check that an aggregate exists. */
    public Future<java.util.Optional<DomainEvent>> creationEvent(UUID streamId) {
        return store.first(pool, streamId).map(first -> first.map(EventEnvelope::event));
    }

    /** Handles a command; the result's version is the consistency token a client may wait for. */
    public <C, S, E extends DomainEvent> Future<Result<S>> handle(AggregateType<C, S, E> type, UUID streamId,
                                                                  C command, EventMetadata metadata,
                                                                  InTransaction<S> inTransaction) {
        return handle(type, streamId, command, metadata, anyone(), inTransaction);
    }

    /**
     * Handles a command for a caller who may act only on the aggregates that {@code mayAct} accepts. The
     * rule is asked on the loaded state before anything is decided, again on every attempt; when it refuses,
     * the command is decided on the aggregate's initial state instead and fails with that decision's refusal
     * (for a command on an existing aggregate, the decider's own {@code NOT_FOUND}): word for word what an
     * unknown id gets. Nothing is appended and the transaction work does not run. A stream without events
     * hides nothing, so the rule is not asked about it.
     */
    public <C, S, E extends DomainEvent> Future<Result<S>> handle(AggregateType<C, S, E> type, UUID streamId,
                                                                  C command, EventMetadata metadata,
                                                                  Predicate<? super S> mayAct,
                                                                  InTransaction<S> inTransaction) {
        long started = System.nanoTime();
        String aggregate = type.streamType().wireName();
        String name = command.getClass().getSimpleName();
        return attempt(type, streamId, command, metadata, mayAct, inTransaction, 1)
                .onSuccess(result -> metrics.completed(aggregate, name, result.appended().isEmpty()
                        ? CommandMetrics.Outcome.UNCHANGED : CommandMetrics.Outcome.ACCEPTED, started))
                .onFailure(failure -> metrics.completed(aggregate, name, switch (failure) {
                    case DomainException rejected -> CommandMetrics.Outcome.REJECTED;
                    case ConcurrencyConflictException conflict -> CommandMetrics.Outcome.CONFLICT;
                    default -> CommandMetrics.Outcome.FAILED;
                }, started));
    }

    /**
     * Handles a command that creates a stream whose id was just made up (a random UUID): nothing is
     * loaded, since there is nothing to load. Should the stream exist after all, the append conflicts and
     * the command is handled the usual way, which then refuses it.
     */
    public <C, S, E extends DomainEvent> Future<Result<S>> create(AggregateType<C, S, E> type, UUID streamId,
                                                                  C command, EventMetadata metadata,
                                                                  InTransaction<S> inTransaction) {
        long started = System.nanoTime();
        String aggregate = type.streamType().wireName();
        String name = command.getClass().getSimpleName();
        Loaded<S> nothing = new Loaded<>(streamId, 0, type.decider().initialState(), 0);
        return decideAndAppend(type, nothing, command, metadata, anyone(), inTransaction)
                .recover(failure -> failure instanceof ConcurrencyConflictException
                        ? attempt(type, streamId, command, metadata, anyone(), inTransaction, 2)
                        : Future.failedFuture(failure))
                .onSuccess(result -> metrics.completed(aggregate, name, CommandMetrics.Outcome.ACCEPTED, started))
                .onFailure(failure -> metrics.completed(aggregate, name, failure instanceof DomainException
                        ? CommandMetrics.Outcome.REJECTED : CommandMetrics.Outcome.FAILED, started));
    }

    private <C, S, E extends DomainEvent> Future<Result<S>> attempt(AggregateType<C, S, E> type, UUID streamId,
                                                                    C command, EventMetadata metadata,
                                                                    Predicate<? super S> mayAct,
                                                                    InTransaction<S> inTransaction, int attempt) {
        return load(type, streamId)
                .compose(loaded -> decideAndAppend(type, loaded, command, metadata, mayAct, inTransaction))
                .recover(failure -> {
                    if (failure instanceof ConcurrencyConflictException) {
                        metrics.conflict(type.streamType().wireName(), attempt < maxAttempts);
                    }
                    if (failure instanceof ConcurrencyConflictException && attempt < maxAttempts) {
                        LOG.debug("conflict on {} (attempt {}), deciding again", streamId, attempt);
                        long backoff = 1 + ThreadLocalRandom.current().nextLong(2L * attempt);
                        return vertx.timer(backoff)
                                .compose(ignored -> attempt(type, streamId, command, metadata, mayAct, inTransaction,
                                        attempt + 1));
                    }
                    return Future.failedFuture(failure);
                });
    }

    private <C, S, E extends DomainEvent> Future<Result<S>> decideAndAppend(AggregateType<C, S, E> type,
                                                                            Loaded<S> loaded, C command,
                                                                            EventMetadata metadata,
                                                                            Predicate<? super S> mayAct,
                                                                            InTransaction<S> inTransaction) {
        if (loaded.version() > 0 && !mayAct.test(loaded.state())) {
            return Future.failedFuture(asIfUnknown(type, command));
        }
        List<E> decided;
        try {
            decided = type.decider().decide(command, loaded.state());
        } catch (RuntimeException rejection) {
            return Future.failedFuture(rejection);
        }
        List<EventEnvelope> envelopes = new ArrayList<>(decided.size());
        S state = loaded.state();
        long version = loaded.version();
        for (E event : decided) {
            version++;
            state = type.decider().evolve(state, event);
            envelopes.add(new EventEnvelope(ids.get(), version, 0, clock.instant(), 0, metadata, event));
        }
        Result<S> result = new Result<>(loaded.streamId(), version, state, List.copyOf(envelopes));
        if (envelopes.isEmpty()) {
            return pool.withTransaction(tx -> inTransaction.run(tx, result)).map(result);
        }
        return pool.withTransaction(tx -> store.append(tx, type.streamType(), loaded.streamId(), loaded.version(), envelopes)
                        .compose(ignored -> inTransaction.run(tx, result)))
                .map(result)
                .onSuccess(done -> snapshotIfDue(type, loaded.version(), done));
    }

    private <C, S, E extends DomainEvent> void snapshotIfDue(AggregateType<C, S, E> type, long before, Result<S> after) {
        if (snapshotEvery > 0 && after.version() / snapshotEvery > before / snapshotEvery) {
            snapshots.save(pool, type.streamType(), after.streamId(), after.version(), type.snapshotSchemaVersion(),
                    after.state()).onFailure(e -> LOG.warn("snapshot of {} at {} failed: {}", after.streamId(),
                    after.version(), e.getMessage()));
        }
    }

    private static <S> Predicate<S> anyone() {
        return state -> true;
    }

    /**
     * The refusal a command gets on an aggregate that does not exist: the decider's, decided on the
     * initial state. Should the decider accept the command there (a creation command), the aggregate is
     * hidden all the same with a plain {@code NOT_FOUND}, since it does exist.
     */
    private static <C, S, E extends DomainEvent> RuntimeException asIfUnknown(AggregateType<C, S, E> type, C command) {
        try {
            type.decider().decide(command, type.decider().initialState());
        } catch (RuntimeException refusal) {
            return refusal;
        }
        return new DomainException(Rejection.NOT_FOUND, "no such " + type.streamType().wireName());
    }

    @SuppressWarnings("unchecked")
    private static <E extends DomainEvent> E cast(AggregateType<?, ?, E> type, DomainEvent event) {
        if (event.streamType() != type.streamType()) {
            throw new IllegalStateException("a " + event.streamType() + " event in a " + type.streamType() + " stream");
        }
        return (E) event;
    }
}
