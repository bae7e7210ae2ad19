package dev.orders.command.handling;

import dev.orders.command.domain.DomainException;
import dev.orders.command.domain.Rejection;
import dev.orders.command.store.AppendSignal;
import dev.orders.command.store.ConcurrencyConflictException;
import dev.orders.command.store.DuplicateEventException;
import dev.orders.command.store.EventStore;
import dev.orders.command.store.Snapshots;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import dev.orders.service.sql.PipelinedTransaction;
import dev.orders.service.sql.PoolOverload;
import dev.orders.service.tracing.TraceAttributes;
import dev.orders.service.tracing.Tracing;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
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

    /**
     * Work done inside the append's transaction, such as storing an idempotent answer. It sends all
     * its statements at once, none waiting for another's answer, since COMMIT may be sent right behind them.
     */
    @FunctionalInterface
    public interface InTransaction<S> {
        Future<Void> run(SqlConnection tx, Result<S> result);

        static <S> InTransaction<S> nothing() {
            return (tx, result) -> Future.succeededFuture();
        }

        /**
         * This work and then {@code next}, sent together on the transaction's connection without waiting
         * for each other (pipelined); fails with the first failure in the order they were sent.
         */
        default InTransaction<S> with(InTransaction<S> next) {
            return (tx, result) -> inOrder(List.of(run(tx, result), next.run(tx, result)));
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

    /**
     * Work for the commands of a batch that were applied, done in the batch's transaction once for all of them (one
     * statement for the batch, not one per command). It sends all its statements at once, none waiting for another's
     * answer: COMMIT is sent right behind them. Commands refused, or applied before, are not given to it.
     */
    @FunctionalInterface
    public interface BatchWork<C> {
        Future<Void> run(SqlConnection tx, List<C> applied);

        static <C> BatchWork<C> nothing() {
            return (tx, applied) -> Future.succeededFuture();
        }
    }

    /** One command of a batch, for the stream it names. */
    public record Batched<C>(UUID streamId, C command, EventMetadata metadata) {
    }

    /** What became of one command of a batch. */
    public sealed interface Outcome<S> {

        /** Decided and committed (it may have appended nothing, when nothing was left to do). */
        record Applied<S>(Result<S> result) implements Outcome<S> {
        }

        /** Applied before: its first event, whose id derives from the command's id, is stored already. */
        record Duplicate<S>() implements Outcome<S> {
        }

        /** Refused by the aggregate; nothing was appended and its transaction work did not run. */
        record Refused<S>(DomainException refusal) implements Outcome<S> {
        }
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
    private final Tracing tracing;
    private final CommitHandOff commits;
    /** Where creations are appended in groups, or null when each is appended alone. */
    private final GroupCommit groups;
    private final Map<UUID, DomainEvent> creations = new java.util.concurrent.ConcurrentHashMap<>();
    private final RecentStates recent = new RecentStates(MAX_STATES_KEPT);
    private static final int MAX_STATES_KEPT = 20_000;
    private static final int MAX_CREATIONS_KEPT = 100_000;

    public CommandHandler(Vertx vertx, Pool pool, EventStore store, Snapshots snapshots, Clock clock,
                          Supplier<UUID> ids, int snapshotEvery, int maxAttempts) {
        this(vertx, pool, store, snapshots, clock, ids, snapshotEvery, maxAttempts, new SimpleMeterRegistry());
    }

    public CommandHandler(Vertx vertx, Pool pool, EventStore store, Snapshots snapshots, Clock clock,
                          Supplier<UUID> ids, int snapshotEvery, int maxAttempts, MeterRegistry registry) {
        this(vertx, pool, store, snapshots, clock, ids, snapshotEvery, maxAttempts, registry, true, -1);
    }

    /**
     * @param groupCommit whether creations that arrive together are appended in one transaction ({@link GroupCommit});
     *                    else each alone
     * @param maxWaiting  how many creations may wait for a group at once, like the pool's wait queue; -1 for no bound
     */
    public CommandHandler(Vertx vertx, Pool pool, EventStore store, Snapshots snapshots, Clock clock,
                          Supplier<UUID> ids, int snapshotEvery, int maxAttempts, MeterRegistry registry,
                          boolean groupCommit, int maxWaiting) {
        this.metrics = new CommandMetrics(registry);
        this.groups = groupCommit ? new GroupCommit(vertx, pool, store, metrics, maxWaiting) : null;
        this.tracing = Tracing.of(vertx);
        this.vertx = vertx;
        this.commits = new CommitHandOff(vertx, AppendSignal.of(vertx));
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
                    return store.load(pool, streamId, from).map(events -> fold(type, streamId, from, initial, events));
                });
    }

    /** Where this handler hands the events it has just committed (to the saga of its process). */
    public CommitHandOff commits() {
        return commits;
    }

    /** The pool the handler writes with, for work beside its commands. */
    public Pool pool() {
        return pool;
    }

    /**
     * Loads many aggregates of one kind at once, for a batch: those this process remembers
     * ({@link RecentStates}) from their remembered version, the others from their snapshots (one query);
     * then the events after each, in one query.
     */
    public <C, S, E extends DomainEvent> Future<Map<UUID, Loaded<S>>> loadAll(AggregateType<C, S, E> type,
                                                                              Set<UUID> streamIds) {
        Map<UUID, Loaded<S>> known = new HashMap<>();
        Set<UUID> unknown = new java.util.HashSet<>();
        for (UUID id : streamIds) {
            recent.get(type, id).ifPresentOrElse(state -> known.put(id, state), () -> unknown.add(id));
        }
        return snapshots.loadAll(pool, unknown, type.stateClass(), type.snapshotSchemaVersion()).compose(found -> {
            Map<UUID, Long> after = new HashMap<>();
            for (UUID id : streamIds) {
                after.put(id, known.containsKey(id) ? known.get(id).version()
                        : found.containsKey(id) ? found.get(id).version() : 0L);
            }
            return store.loadAll(pool, after).map(events -> {
                Map<UUID, Loaded<S>> loaded = new HashMap<>();
                for (UUID id : streamIds) {
                    Snapshots.Snapshot<S> snapshot = found.get(id);
                    S state = known.containsKey(id) ? known.get(id).state()
                            : snapshot == null ? type.decider().initialState() : snapshot.state();
                    loaded.put(id, fold(type, id, after.get(id), state, events.get(id)));
                }
                return loaded;
            });
        });
    }

    /** The current state of one aggregate: from memory and the events after it, else {@link #load}. */
    private <C, S, E extends DomainEvent> Future<Loaded<S>> current(AggregateType<C, S, E> type, UUID streamId) {
        Optional<Loaded<S>> known = recent.get(type, streamId);
        if (known.isEmpty()) {
            return load(type, streamId);
        }
        return store.load(pool, streamId, known.get().version())
                .map(events -> fold(type, streamId, known.get().version(), known.get().state(), events));
    }

    /** Folds events into a state and remembers the outcome. */
    private <C, S, E extends DomainEvent> Loaded<S> fold(AggregateType<C, S, E> type, UUID streamId, long from,
                                                         S initial, List<EventEnvelope> events) {
        S state = initial;
        long version = from;
        for (EventEnvelope envelope : events) {
            state = type.decider().evolve(state, cast(type, envelope.event()));
            version = envelope.version();
        }
        recent.put(type, streamId, version, state);
        return new Loaded<>(streamId, version, state, events.size());
    }

    /**
     * The event that created a stream, if it exists: enough to check that an aggregate exists. It never
     * changes once stored, so it is read once and then answered from memory (at most
     * {@value #MAX_CREATIONS_KEPT} streams; past that the memory starts afresh). A stream not found is
     * asked again next time, since it may be created meanwhile.
     */
    public Future<java.util.Optional<DomainEvent>> creationEvent(UUID streamId) {
        DomainEvent known = creations.get(streamId);
        if (known != null) {
            return Future.succeededFuture(java.util.Optional.of(known));
        }
        return store.first(pool, streamId).map(first -> first.map(EventEnvelope::event)).onSuccess(found -> found
                .ifPresent(event -> {
                    if (creations.size() >= MAX_CREATIONS_KEPT) {
                        creations.clear();
                    }
                    creations.put(streamId, event);
                }));
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
        Span span = appendSpan(name, type, streamId, metadata);
        return attempt(type, streamId, command, traced(metadata, span), mayAct, inTransaction, 1)
                .onComplete(outcome -> Tracing.endOn(span, outcome))
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
     * loaded, since there is nothing to load, and its events are appended in a group with the creations that
     * arrive together ({@link GroupCommit}), when grouping is on. Should the stream exist after all, the append
     * conflicts and the command is handled the usual way, which then refuses it.
     */
    public <C, S, E extends DomainEvent> Future<Result<S>> create(AggregateType<C, S, E> type, UUID streamId,
                                                                  C command, EventMetadata metadata,
                                                                  InTransaction<S> inTransaction) {
        long started = System.nanoTime();
        String aggregate = type.streamType().wireName();
        String name = command.getClass().getSimpleName();
        Loaded<S> nothing = new Loaded<>(streamId, 0, type.decider().initialState(), 0);
        Span span = appendSpan(name, type, streamId, metadata);
        EventMetadata traced = traced(metadata, span);
        return createAppend(type, nothing, command, traced, inTransaction)
                .recover(failure -> failure instanceof ConcurrencyConflictException
                        ? attempt(type, streamId, command, traced, anyone(), inTransaction, 2)
                        : Future.failedFuture(failure))
                .onComplete(outcome -> Tracing.endOn(span, outcome))
                .onSuccess(result -> metrics.completed(aggregate, name, CommandMetrics.Outcome.ACCEPTED, started))
                .onFailure(failure -> metrics.completed(aggregate, name, failure instanceof DomainException
                        ? CommandMetrics.Outcome.REJECTED : CommandMetrics.Outcome.FAILED, started));
    }

    /**
     * A creation decided on the initial state and appended in the next group; should its group fail, what it decided
     * is appended again alone ({@link #appendAlone}), which gives it its own outcome, unless the group failed for
     * want of a connection (the service is overloaded: a creation alone would wait in the same queue).
     */
    private <C, S, E extends DomainEvent> Future<Result<S>> createAppend(AggregateType<C, S, E> type, Loaded<S> nothing,
                                                                         C command, EventMetadata metadata,
                                                                         InTransaction<S> inTransaction) {
        Result<S> result;
        try {
            result = decide(type, nothing, command, metadata);
        } catch (RuntimeException rejection) {
            return Future.failedFuture(rejection);
        }
        if (groups == null || result.appended().isEmpty()) {
            return appendAlone(type, nothing, result, inTransaction);
        }
        return groups.append(new EventStore.Append(type.streamType(), result.streamId(), 0, result.appended()),
                        tx -> inTransaction.run(tx, result))
                .map(result)
                .onSuccess(done -> committed(type, 0, done))
                .recover(groupFailed -> {
                    if (PoolOverload.causes(groupFailed)) {
                        return Future.failedFuture(groupFailed);
                    }
                    LOG.debug("the group holding {} failed ({}); appending it alone", result.streamId(), groupFailed.toString());
                    return appendAlone(type, nothing, result, inTransaction);
                });
    }

    private <C, S, E extends DomainEvent> Future<Result<S>> attempt(AggregateType<C, S, E> type, UUID streamId,
                                                                    C command, EventMetadata metadata,
                                                                    Predicate<? super S> mayAct,
                                                                    InTransaction<S> inTransaction, int attempt) {
        return current(type, streamId)
                .compose(loaded -> decideAndAppend(type, loaded, command, metadata, mayAct, inTransaction))
                .recover(failure -> {
                    if (failure instanceof DuplicateEventException) {
                        LOG.debug("{} on {} was applied before (id {}): nothing to do", command.getClass().getSimpleName(),
                                streamId, metadata.commandId());
                        return load(type, streamId).map(now -> new Result<>(streamId, now.version(), now.state(),
                                List.<EventEnvelope>of()));
                    }
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
        Result<S> result;
        try {
            result = decide(type, loaded, command, metadata);
        } catch (RuntimeException rejection) {
            return Future.failedFuture(rejection);
        }
        return appendAlone(type, loaded, result, inTransaction);
    }

    /** What a command decides on a loaded state; throws the aggregate's refusal. */
    private <C, S, E extends DomainEvent> Result<S> decide(AggregateType<C, S, E> type, Loaded<S> loaded, C command,
                                                           EventMetadata metadata) {
        List<E> decided = type.decider().decide(command, loaded.state());
        return evolve(type, loaded.streamId(), loaded.version(), loaded.state(), decided, metadata);
    }

    /** Appends what a command decided on {@code loaded}, with its transaction work, in a transaction of its own. */
    private <C, S, E extends DomainEvent> Future<Result<S>> appendAlone(AggregateType<C, S, E> type, Loaded<S> loaded,
                                                                        Result<S> result, InTransaction<S> inTransaction) {
        if (result.appended().isEmpty()) {
            return transaction(tx -> inTransaction.run(tx, result)).map(result);
        }
        // The append and the command's own work are sent together: one pipelined round trip inside the transaction.
        // A stream's first events need no check on this side (the unique index refuses a second creation), so their
        // COMMIT travels with them too; a later append waits for its version check first.
        return PipelinedTransaction.run(pool, tx -> {
                    List<Future<?>> work = new ArrayList<>(List.of(
                            store.append(tx.connection(), type.streamType(), loaded.streamId(), loaded.version(),
                                    result.appended()),
                            inTransaction.run(tx.connection(), result)));
                    if (loaded.version() == 0) {
                        work.add(tx.commit());
                    }
                    return inOrder(work);
                })
                .map(result)
                .onSuccess(done -> committed(type, loaded.version(), done));
    }

    /** What follows a command's commit: its events to the saga of this process, its state remembered, a snapshot if due. */
    private <C, S, E extends DomainEvent> void committed(AggregateType<C, S, E> type, long before, Result<S> done) {
        commits.hand(done.appended());
        recent.put(type, done.streamId(), done.version(), done.state());
        snapshotIfDue(type, before, done);
    }

    /**
     * Handles a batch of commands on aggregates of one kind in one unit of work: every stream named is loaded
     * once (or not at all, when this process remembers them all: their versions are then checked inside the
     * transaction, see {@link #decideBatch}), the commands are decided in order (a stream's commands one after
     * the other, each on the state the one before left), and everything they decided is appended in one
     * statement, in one transaction with {@code work} for the commands applied. Commands applied before (a redelivery)
     * are recognised by their events' ids and skipped. Should another writer have moved one of the streams meanwhile,
     * the batch falls back to handling its commands one by one, each with the usual retries, in order per stream, and
     * {@code work} done for each command in its own transaction.
     *
     * @return each command's outcome, in the order given; failed only when the batch could not be handled
     *         at all (the database is unreachable, too many conflicts)
     */
    public <C, S, E extends DomainEvent> Future<List<Outcome<S>>> handleBatch(AggregateType<C, S, E> type,
                                                                              List<Batched<C>> untraced,
                                                                              BatchWork<C> work) {
        if (untraced.isEmpty()) {
            return Future.succeededFuture(List.of());
        }
        long started = System.nanoTime();
        List<Span> spans = new ArrayList<>(tracing.enabled() ? untraced.size() : 0);
        List<Batched<C>> commands = tracing.enabled() ? new ArrayList<>(untraced.size()) : untraced;
        if (tracing.enabled()) {
            for (Batched<C> command : untraced) {
                Span span = appendSpan(command.command().getClass().getSimpleName(), type, command.streamId(),
                        command.metadata());
                spans.add(span);
                commands.add(new Batched<>(command.streamId(), command.command(), traced(command.metadata(), span)));
            }
        }
        Set<UUID> streams = new java.util.LinkedHashSet<>();
        List<UUID> firstIds = new ArrayList<>();
        for (Batched<C> command : commands) {
            streams.add(command.streamId());
            if (command.metadata().commandId() != null) {
                firstIds.add(eventId(command.metadata(), 0));
            }
        }
        Optional<Map<UUID, Loaded<S>>> remembered = remembered(type, streams);
        Future<List<Outcome<S>>> handled = remembered.isEmpty() ? loadAndDecide(type, commands, work, streams, firstIds)
                : decideBatch(type, commands, work, remembered.get(), Set.of(), true).recover(failure -> {
                    if (failure instanceof ConcurrencyConflictException) {
                        metrics.conflict(type.streamType().wireName(), true);
                    } else if (!(failure instanceof DuplicateEventException)) {
                        return Future.failedFuture(failure);
                    }
                    LOG.debug("batch of {} commands decided on remembered states met {}: loading them", commands.size(),
                            failure.toString());
                    return loadAndDecide(type, commands, work, streams, firstIds);
                });
        return handled
                .onSuccess(outcomes -> {
                    for (int i = 0; i < outcomes.size(); i++) {
                        metrics.completed(type.streamType().wireName(), commands.get(i).command().getClass().getSimpleName(),
                                switch (outcomes.get(i)) {
                                    case Outcome.Applied<S> applied -> applied.result().appended().isEmpty()
                                            ? CommandMetrics.Outcome.UNCHANGED : CommandMetrics.Outcome.ACCEPTED;
                                    case Outcome.Duplicate<S> duplicate -> CommandMetrics.Outcome.UNCHANGED;
                                    case Outcome.Refused<S> refused -> CommandMetrics.Outcome.REJECTED;
                                }, started);
                    }
                })
                .recover(failure -> {
                    if (!(failure instanceof ConcurrencyConflictException || failure instanceof DuplicateEventException)) {
                        return Future.failedFuture(failure);
                    }
                    metrics.conflict(type.streamType().wireName(), true);
                    LOG.debug("batch of {} commands met another writer ({}): handling them one by one", commands.size(),
                            failure.toString());
                    return oneByOne(type, commands, work);
                })
                .onComplete(outcome -> spans.forEach(span -> Tracing.endOn(span, outcome)));
    }

    /**
     * The span of a command's decide-and-append, under the trace its metadata carries (the HTTP request's,
     * or the event the saga reacts to); the events it appends carry this span on ({@link #traced}).
     */
    private Span appendSpan(String command, AggregateType<?, ?, ?> type, UUID streamId, EventMetadata metadata) {
        if (!tracing.enabled()) {
            return Span.getInvalid();
        }
        Span span = tracing.start("append " + command, SpanKind.INTERNAL, metadata.traceparent());
        if (span.isRecording()) {
            span.setAttribute(TraceAttributes.STREAM_TYPE, type.streamType().wireName());
            span.setAttribute(TraceAttributes.STREAM_ID, streamId.toString());
            if (metadata.correlationId() != null) {
                span.setAttribute(TraceAttributes.CORRELATION_ID, metadata.correlationId());
            }
        }
        return span;
    }

    /** The metadata with the span's trace context in place of its parent's (unchanged when tracing is off). */
    private static EventMetadata traced(EventMetadata metadata, Span span) {
        String traceparent = Tracing.traceparent(span, metadata.traceparent());
        return Objects.equals(traceparent, metadata.traceparent()) ? metadata
                : new EventMetadata(metadata.correlationId(), metadata.causationId(), metadata.commandId(), traceparent);
    }

    /** The states of all these streams, if this process remembers every one of them. */
    private <C, S, E extends DomainEvent> Optional<Map<UUID, Loaded<S>>> remembered(AggregateType<C, S, E> type,
                                                                                  Set<UUID> streamIds) {
        Map<UUID, Loaded<S>> known = new HashMap<>();
        for (UUID id : streamIds) {
            Optional<Loaded<S>> state = recent.get(type, id);
            if (state.isEmpty()) {
                return Optional.empty();
            }
            known.put(id, state.get());
        }
        return Optional.of(known);
    }

    /** The careful way: every stream loaded and every command asked about before deciding. */
    private <C, S, E extends DomainEvent> Future<List<Outcome<S>>> loadAndDecide(AggregateType<C, S, E> type,
                                                                                 List<Batched<C>> commands,
                                                                                 BatchWork<C> work,
                                                                                 Set<UUID> streams, List<UUID> firstIds) {
        Future<Map<UUID, Loaded<S>>> loading = loadAll(type, streams);
        Future<Set<UUID>> stored = store.existing(pool, firstIds);
        return Future.all(loading, stored)
                .compose(both -> decideBatch(type, commands, work, loading.result(), stored.result(), false));
    }

    /**
     * Decides the batch on {@code loaded} and commits what it decided in one round trip: the appends, the
     * work for the commands applied and COMMIT are sent together. {@code applied} are the first event ids of commands known to be
     * applied before. When the states come from this process's memory ({@code fromMemory}) rather than from the
     * store just now, a stale state must not commit: an append is refused by the store's unique indexes when its
     * stream moved (its version is taken) or its command was applied before (its first event id is stored), and what
     * appends nothing is checked first, in the same round trip ({@link EventStore#requireCurrent}): that no command
     * which appended nothing (refused, or nothing left to do) was applied before, and that every stream without an
     * append is still at its version. When every command appended, no check is sent.
     */
    private <C, S, E extends DomainEvent> Future<List<Outcome<S>>> decideBatch(AggregateType<C, S, E> type,
                                                                               List<Batched<C>> commands,
                                                                               BatchWork<C> batchWork,
                                                                               Map<UUID, Loaded<S>> loaded,
                                                                               Set<UUID> applied,
                                                                               boolean fromMemory) {
        Map<UUID, Loaded<S>> current = new HashMap<>(loaded);
        Map<UUID, List<EventEnvelope>> appended = new LinkedHashMap<>();
        List<Outcome<S>> outcomes = new ArrayList<>(commands.size());
        List<C> done = new ArrayList<>(commands.size());
        for (Batched<C> command : commands) {
            if (!applied.isEmpty() && command.metadata().commandId() != null
                    && applied.contains(eventId(command.metadata(), 0))) {
                outcomes.add(new Outcome.Duplicate<>());
                continue;
            }
            Loaded<S> before = current.get(command.streamId());
            List<E> decided;
            try {
                decided = type.decider().decide(command.command(), before.state());
            } catch (DomainException refusal) {
                outcomes.add(new Outcome.Refused<>(refusal));
                continue;
            }
            Result<S> result = evolve(type, command.streamId(), before.version(), before.state(), decided,
                    command.metadata());
            current.put(command.streamId(), new Loaded<>(command.streamId(), result.version(), result.state(), 0));
            appended.computeIfAbsent(command.streamId(), id -> new ArrayList<>()).addAll(result.appended());
            outcomes.add(new Outcome.Applied<>(result));
            done.add(command.command());
        }
        List<EventStore.Append> appends = new ArrayList<>();
        appended.forEach((streamId, events) -> appends.add(new EventStore.Append(type.streamType(), streamId,
                loaded.get(streamId).version(), events)));
        // what appends nothing, decided on remembered states, is checked in the transaction (see above)
        Map<UUID, Long> unappended = new HashMap<>();
        List<UUID> appendedNothing = new ArrayList<>();
        if (fromMemory) {
            loaded.forEach((streamId, state) -> {
                if (appended.getOrDefault(streamId, List.of()).isEmpty()) {
                    unappended.put(streamId, state.version());
                }
            });
            for (int i = 0; i < commands.size(); i++) {
                if (!(outcomes.get(i) instanceof Outcome.Applied<S> made && !made.result().appended().isEmpty())
                        && commands.get(i).metadata().commandId() != null) {
                    appendedNothing.add(eventId(commands.get(i).metadata(), 0));
                }
            }
        }
        return PipelinedTransaction.run(pool, tx -> {
                    SqlConnection conn = tx.connection();
                    List<Future<?>> work = new ArrayList<>();
                    if (!(appendedNothing.isEmpty() && unappended.isEmpty())) {
                        work.add(store.requireCurrent(conn, appendedNothing, unappended));
                    }
                    work.add(store.appendAll(conn, appends));
                    if (!done.isEmpty()) {
                        work.add(batchWork.run(conn, done));
                    }
                    work.add(tx.commit());
                    return inOrder(work);
                })
                .map(outcomes)
                .onSuccess(committed -> {
                    if (!appends.isEmpty()) {
                        List<EventEnvelope> committedEvents = new ArrayList<>();
                        appends.forEach(append -> committedEvents.addAll(append.events()));
                        commits.hand(committedEvents);
                    }
                    appends.forEach(append -> recent.put(type, append.streamId(), current.get(append.streamId()).version(),
                            current.get(append.streamId()).state()));
                    appends.forEach(append -> snapshotIfDue(type, append.expectedVersion(),
                            new Result<>(append.streamId(), current.get(append.streamId()).version(),
                                    current.get(append.streamId()).state(), append.events())));
                });
    }

    /**
     * The fallback of a batch: each command on its own, in order per stream, streams side by side, each with the
     * batch's work for it alone.
     */
    private <C, S, E extends DomainEvent> Future<List<Outcome<S>>> oneByOne(AggregateType<C, S, E> type,
                                                                            List<Batched<C>> commands,
                                                                            BatchWork<C> work) {
        List<Future<Outcome<S>>> outcomes = new ArrayList<>(commands.size());
        Map<UUID, Future<?>> tails = new HashMap<>();
        for (Batched<C> command : commands) {
            Future<?> before = tails.getOrDefault(command.streamId(), Future.succeededFuture());
            Future<Outcome<S>> outcome = before.transform(ignored -> handle(type, command.streamId(), command.command(),
                            command.metadata(), (tx, result) -> work.run(tx, List.of(command.command()))))
                    .<Outcome<S>>map(Outcome.Applied::new)
                    .recover(failure -> failure instanceof DomainException refusal
                            ? Future.succeededFuture(new Outcome.Refused<>(refusal)) : Future.failedFuture(failure));
            tails.put(command.streamId(), outcome);
            outcomes.add(outcome);
        }
        return Future.all(outcomes).map(all -> outcomes.stream().map(Future::result).toList());
    }

    /** Folds what a command decided into the state and wraps each event with its version and id. */
    private <C, S, E extends DomainEvent> Result<S> evolve(AggregateType<C, S, E> type, UUID streamId, long version,
                                                           S state, List<E> decided, EventMetadata metadata) {
        List<EventEnvelope> envelopes = new ArrayList<>(decided.size());
        for (int i = 0; i < decided.size(); i++) {
            E event = decided.get(i);
            version++;
            state = type.decider().evolve(state, event);
            envelopes.add(new EventEnvelope(eventId(metadata, i), version, 0, clock.instant(), 0, metadata, event));
        }
        return new Result<>(streamId, version, state, List.copyOf(envelopes));
    }

    /**
     * The id of a command's {@code index}-th event: derived from the command's id when it has one, so that
     * the same command delivered again makes the same events, which the store's unique index recognises.
     */
    private UUID eventId(EventMetadata metadata, int index) {
        return metadata.commandId() == null ? ids.get()
                : UUID.nameUUIDFromBytes(("event:" + metadata.commandId() + ":" + index).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Runs {@code work} in a transaction whose BEGIN is sent together with the work's first statements
     * (pipelined on one connection: no round trip of its own); COMMIT follows once the work succeeded
     * ({@link PipelinedTransaction}, which also ends the transaction after a failure).
     */
    private <T> Future<T> transaction(java.util.function.Function<SqlConnection, Future<T>> work) {
        return PipelinedTransaction.run(pool, tx -> work.apply(tx.connection()));
    }

    /**
     * Waits for statements sent together on one connection; fails with the first one's failure in the
     * order they were sent (a later statement of an aborted transaction only reports the abort).
     */
    static Future<Void> inOrder(List<? extends Future<?>> sent) {
        return Future.join(sent).<Void>mapEmpty().recover(ignored -> {
            for (Future<?> statement : sent) {
                if (statement.failed()) {
                    return Future.failedFuture(statement.cause());
                }
            }
            return Future.failedFuture(ignored);
        });
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
        return new DomainException(Rejection.NOT_FOUND, "not-found", "no such " + type.streamType().wireName());
    }

    @SuppressWarnings("unchecked")
    private static <E extends DomainEvent> E cast(AggregateType<?, ?, E> type, DomainEvent event) {
        if (event.streamType() != type.streamType()) {
            throw new IllegalStateException("a " + event.streamType() + " event in a " + type.streamType() + " stream");
        }
        return (E) event;
    }
}
