package dev.orders.query.store;

import dev.orders.events.CustomerEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventFormatException;
import dev.orders.events.EventJson;
import dev.orders.events.OrderEvent;
import dev.orders.events.StreamType;
import dev.orders.query.model.CustomerView;
import dev.orders.query.model.OrderChange;
import dev.orders.query.model.OrderView;
import dev.orders.query.model.Projection;
import dev.orders.query.model.ReadModel;
import dev.orders.service.sql.PipelinedTransaction;
import dev.orders.service.tracing.LogFields;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Writes the read model. One batch of records is one PostgreSQL transaction: the event log, the views,
 * the order-change log, parked records and the checkpoint together, so a redelivered or duplicated event
 * changes nothing. The transaction is two pipelined round trips: BEGIN with every read (record the events,
 * lock and load their views, look up pending dead letters), then, once the batch is folded in memory,
 * every write with COMMIT (a third only when a stream must be re-folded). A batch whose views the projector
 * remembers from its own commits ({@link ViewMemory}) is one round trip: checks of what it was folded on, its
 * writes and COMMIT together; when a check finds the tables hold anything else, the transaction rolls back and
 * the batch is applied as above. After each commit the changed
 * orders' versions go to the requests waiting for them ({@link VersionWaiters}, {@code ?minVersion}; a direct
 * call, nothing is sent when none waits), the new change-log rows to this process's push follower on the event
 * bus ({@link #CHANGES_COMMITTED}), and other nodes are notified with {@code pg_notify('order_changes', position)}.
 */
public final class ProjectionStore {

    /**
     * Local event-bus address: the order changes one commit made visible, published right after it (a
     * {@link JsonObject}): {@value #LAST} the highest position, {@value #CHANGES} the rows in position order, each
     * with {@code position, orderId, customerId, version, view} (the view's text as the log answers it) and
     * {@code changedAt} (ISO-8601). Change positions are taken under a lock held until commit, so a follower whose
     * last row read is just below the first of them can take them as they are, without reading the log.
     */
    public static final String CHANGES_COMMITTED = "query.changes-committed";

    /** The highest position of a {@link #CHANGES_COMMITTED} message. */
    public static final String LAST = "last";

    /** The rows of a {@link #CHANGES_COMMITTED} message. */
    public static final String CHANGES = "changes";

    private static final Logger LOG = LoggerFactory.getLogger(ProjectionStore.class);
    /** The "topic" of an event that came from the event feed, where a dead letter files it. */
    static final String FEED = "event-feed";

    /**
     * Where a record came from. {@code streamKey} is the id of the stream it belongs to as the record says
     * it (its {@code streamId} header, else its key): what a parked record is filed under.
     */
    public record Coordinates(String topic, int partition, long offset, String streamKey) {
    }

    /**
     * A decoded event, its coordinates, and the record's value as received ({@code null} when there is
     * none to keep): the event log stores that value's {@code data} and {@code metadata} as the text they are
     * in it, so nothing is encoded again.
     */
    public record Incoming(EventEnvelope envelope, Coordinates at, byte[] value) {
    }

    /** A record that cannot be applied, with the reason and its raw value. */
    public record Parked(Coordinates at, String error, byte[] payload) {
    }

    /** The next offset to read of one topic-partition. */
    public record Checkpoint(String topic, int partition, long nextOffset) {
    }

    /**
     * What a batch did; {@code lastChangePosition} is the highest change-log position written, or 0,
     * {@code changes} the change-log rows written, in position order (see {@link #CHANGES_COMMITTED}), and
     * {@code onRemembered} whether it was folded on remembered views, in one round trip (see {@link ViewMemory}).
     */
    public record BatchResult(int fresh, int duplicates, int parked, List<OrderView> changedOrders,
                              List<CustomerView> changedCustomers, long lastChangePosition, JsonArray changes,
                              boolean onRemembered) {

        static final BatchResult NONE = new BatchResult(0, 0, 0, List.of(), List.of(), 0, new JsonArray(), false);

        /** Two transactions' results as one. */
        BatchResult plus(BatchResult other) {
            List<OrderView> orders = new ArrayList<>(changedOrders);
            orders.addAll(other.changedOrders);
            List<CustomerView> customers = new ArrayList<>(changedCustomers);
            customers.addAll(other.changedCustomers);
            return new BatchResult(fresh + other.fresh, duplicates + other.duplicates, parked + other.parked,
                    List.copyOf(orders), List.copyOf(customers), Math.max(lastChangePosition, other.lastChangePosition),
                    changes.copy().addAll(other.changes), false);
        }
    }

    /** What a re-drive did. */
    public sealed interface RedriveResult {
        record NotFound() implements RedriveResult {
        }

        record AlreadyRedriven() implements RedriveResult {
        }

        record StillUndecodable(String error) implements RedriveResult {
        }

        record Redriven(EventEnvelope envelope, BatchResult result) implements RedriveResult {
        }
    }

    private final Vertx vertx;
    private final Pool pool;
    private final VersionWaiters waiters;

    public ProjectionStore(Vertx vertx, Pool pool) {
        this.vertx = vertx;
        this.pool = pool;
        this.waiters = VersionWaiters.of(vertx);
    }

    /**
     * {@link #applyBatch(List, List, List)}, folded on the views {@code memory} holds where it can: when every
     * stream of the batch is remembered there (or begins in it) and every event applies in order, the batch is
     * one round trip, BEGIN, checks, writes and COMMIT together. The checks fail the transaction unless each
     * event is new, the views remembered are the ones stored, and no dead letter of the batch's orders waits;
     * the batch is then applied as usual, reading its views. What a committed batch wrote is remembered.
     */
    public Future<BatchResult> applyBatch(List<Incoming> events, List<Parked> parked, List<Checkpoint> checkpoints,
                                          ViewMemory memory) {
        Batch remembered = parked.isEmpty() ? Batch.onRemembered(events, checkpoints, memory) : null;
        Future<BatchResult> applied = remembered == null ? applyBatch(events, parked, checkpoints)
                : PipelinedTransaction.run(pool, tx -> remembered.write(tx.connection(), tx))
                .onSuccess(this::announce)
                .recover(missed -> {
                    LOG.debug("a batch of {} events was not applied on remembered views ({}); reading them",
                            events.size(), missed.getMessage());
                    memory.forget(remembered.streams());
                    return applyBatch(events, parked, checkpoints);
                });
        return applied.onSuccess(result -> memory.remember(result.changedOrders(), result.changedCustomers()))
                .onFailure(failure -> memory.forget(streamsOf(events)));
    }

    /**
     * Applies a batch in one transaction; on success every change is committed and announced. When the
     * transaction fails in a way one record causes ({@link RecordFailure}: a value past its column's range,
     * a global position held by another event), the batch is applied again one record at a time, the
     * record that fails alone is parked, and the rest goes on: one bad record never stalls its partitions.
     */
    public Future<BatchResult> applyBatch(List<Incoming> events, List<Parked> parked, List<Checkpoint> checkpoints) {
        return applyTogether(events, parked, checkpoints).recover(failure -> {
            if (events.isEmpty() || RecordFailure.reason(failure).isEmpty()) {
                return Future.failedFuture(failure);
            }
            LOG.warn("a batch of {} events failed ({}); applying it one record at a time", events.size(),
                    failure.getMessage());
            return applyOneByOne(events, parked, checkpoints);
        });
    }

    /**
     * Each event in its own transaction, in the batch's order; an event that fails alone in a way a record
     * causes is parked instead. The checkpoints (and the records the decoder parked) go last, so a crash
     * midway reads the batch again: what was applied is recognised by its event id, what was parked by its
     * offset.
     */
    private Future<BatchResult> applyOneByOne(List<Incoming> events, List<Parked> parked, List<Checkpoint> checkpoints) {
        Future<BatchResult> chain = Future.succeededFuture(BatchResult.NONE);
        for (Incoming in : events) {
            chain = chain.compose(sum -> applyTogether(List.of(in), List.of(), List.of())
                    .recover(failure -> RecordFailure.reason(failure)
                            .map(reason -> applyTogether(List.of(), List.of(refused(in, failure, reason)), List.of()))
                            .orElseGet(() -> Future.failedFuture(failure)))
                    .map(sum::plus));
        }
        return chain.compose(sum -> applyTogether(List.of(), parked, checkpoints).map(sum::plus));
    }

    /** A record that cannot be stored, as a dead letter; a position clash is logged as an error, not a warning. */
    private static Parked refused(Incoming in, Throwable failure, String reason) {
        EventEnvelope e = in.envelope();
        if (RecordFailure.positionTaken(failure)) {
            journey(LOG.atError(), e).log("event {} ({} v{} of {}) at {} reuses global position {}, which another"
                            + " event holds: parked (was the command side's database restored?)", e.eventId(), e.type(),
                    e.version(), e.streamId(), in.at(), e.globalPosition());
        } else {
            journey(LOG.atWarn(), e).log("parking {} v{} of {} at {}: {}", e.type(), e.version(), e.streamId(), in.at(),
                    reason);
        }
        Coordinates at = new Coordinates(in.at().topic(), in.at().partition(), in.at().offset(), e.streamId().toString());
        return new Parked(at, reason, in.value() != null ? in.value() : EventJson.encode(e));
    }

    private Future<BatchResult> applyTogether(List<Incoming> events, List<Parked> parked, List<Checkpoint> checkpoints) {
        return PipelinedTransaction.run(pool, tx -> {
            Batch batch = new Batch(events, parked, checkpoints, Map.of());
            // Through compose, so that a value the parameters cannot carry still fails the work (and rolls back).
            return Future.succeededFuture().compose(v -> batch.prepare(tx.connection(), tx.begun()))
                    .compose(v -> batch.write(tx.connection(), tx));
        }).onSuccess(this::announce);
    }

    /**
     * Applies events read from the command side's event feed (not from Kafka) in batches of at most
     * {@code batchSize}, one transaction each, exactly as the projector applies records: what a lost and
     * recreated schema is refilled with. An event already applied is recognised by its id and changes
     * nothing. No checkpoint is written: the projector's resume from Kafka is not the feed's business.
     */
    public Future<RebuildStore.PageResult> applyFromFeed(List<EventEnvelope> events, int batchSize) {
        Future<RebuildStore.PageResult> chain = Future.succeededFuture(new RebuildStore.PageResult(0, 0, 0));
        for (int from = 0; from < events.size(); from += batchSize) {
            List<Incoming> batch = events.subList(from, Math.min(events.size(), from + batchSize)).stream()
                    .map(e -> new Incoming(e, new Coordinates(FEED, 0, e.globalPosition(), e.streamId().toString()), null))
                    .toList();
            chain = chain.compose(sum -> applyBatch(batch, List.of(), List.of()).map(result -> new RebuildStore.PageResult(
                    sum.fresh() + result.fresh(), sum.ordersWritten() + result.changedOrders().size(),
                    sum.customersWritten() + result.changedCustomers().size())));
        }
        return chain;
    }

    /**
     * Moves the order-change log's next position to at least {@code floor}: a log created again after the
     * old one was lost starts above every id a client may still hold, so that such an id is older than the
     * new log (its client gets a reset) and never taken for one of the new log's positions.
     */
    public Future<Void> raiseChangePositions(long floor) {
        return pool.preparedQuery(Sql.RAISE_CHANGE_POSITIONS).execute(Tuple.of(floor)).mapEmpty();
    }

    /** Where each partition of these topics resumes: the next offsets stored with the projection. */
    public Future<List<Checkpoint>> checkpoints(Collection<String> topics) {
        return pool.preparedQuery(Sql.CHECKPOINTS_OF_TOPICS).execute(Tuple.of((Object) topics.toArray(String[]::new)))
                .map(rows -> {
                    List<Checkpoint> checkpoints = new ArrayList<>();
                    rows.forEach(row -> checkpoints.add(new Checkpoint(row.getString("topic"),
                            row.getInteger("partition"), row.getLong("next_offset"))));
                    return checkpoints;
                });
    }

    /**
     * Re-decodes a parked record (or the corrected payload given) and applies it; its stream is then
     * re-folded from the event log, so an event older than the view still lands in its place.
     */
    public Future<RedriveResult> redrive(long id, byte[] replacement) {
        return pool.<RedriveResult>withTransaction(conn -> conn.preparedQuery(Sql.LOCK_DEAD_LETTER).execute(Tuple.of(id))
                .compose(rows -> {
                    if (rows.size() == 0) {
                        return Future.succeededFuture(new RedriveResult.NotFound());
                    }
                    Row row = rows.iterator().next();
                    if (row.getOffsetDateTime("redriven_at") != null) {
                        return Future.succeededFuture(new RedriveResult.AlreadyRedriven());
                    }
                    Buffer stored = row.getBuffer("payload");
                    byte[] payload = replacement != null ? replacement : stored == null ? new byte[0] : stored.getBytes();
                    EventEnvelope envelope;
                    try {
                        envelope = EventJson.decode(payload);
                    } catch (EventFormatException | IllegalArgumentException e) {
                        String error = "re-drive failed: " + e.getMessage();
                        return conn.preparedQuery(Sql.UPDATE_DEAD_LETTER_ERROR)
                                .execute(Tuple.of(id, error, Buffer.buffer(payload)))
                                .map(new RedriveResult.StillUndecodable(error));
                    }
                    Coordinates at = new Coordinates(row.getString("topic"), row.getInteger("partition"),
                            row.getLong("offset"), row.getString("key"));
                    return conn.preparedQuery(Sql.MARK_REDRIVEN).execute(Tuple.of(id, Buffer.buffer(payload)))
                            .compose(ignored -> {
                                Batch batch = new Batch(List.of(new Incoming(envelope, at, payload)), List.of(),
                                        List.of(), Map.of(envelope.streamId(), envelope.globalPosition()));
                                return batch.prepare(conn, Future.succeededFuture()).compose(v -> batch.write(conn, null));
                            })
                            .map(result -> new RedriveResult.Redriven(envelope, result));
                }))
                .onSuccess(result -> {
                    if (result instanceof RedriveResult.Redriven redriven) {
                        journey(LOG.atInfo(), redriven.envelope()).log("dead letter {} re-driven: {} v{} of {}", id,
                                redriven.envelope().type(), redriven.envelope().version(), redriven.envelope().streamId());
                        announce(redriven.result());
                    }
                });
    }

    private void announce(BatchResult result) {
        for (OrderView view : result.changedOrders()) {
            waiters.reached(view.orderId(), view.version());
        }
        long position = result.lastChangePosition();
        if (position > 0) {
            vertx.eventBus().publish(CHANGES_COMMITTED, new JsonObject().put(LAST, position).put(CHANGES, result.changes()));
            // Other nodes' followers; not awaited: a lost notification costs them latency (their poll), not data.
            pool.preparedQuery(Sql.NOTIFY_CHANGES).execute(Tuple.of(Long.toString(position)))
                    .onFailure(e -> LOG.debug("change notification not sent: {}", e.getMessage()));
        }
    }

    /** The state of one transaction: {@link #prepare} reads and folds, {@link #write} writes. */
    private static final class Batch {
        private final List<Incoming> events;
        private final List<Parked> parked;
        private final List<Checkpoint> checkpoints;
        private final Map<UUID, Long> refoldPositions;
        private final ReadModel model = new ReadModel();
        private final List<Incoming> fresh = new ArrayList<>();
        private final Set<UUID> attentionPending = new HashSet<>();
        private int duplicates;
        /** What the batch was folded on when it was folded on remembered views, else null. */
        private Expected remembered;

        /**
         * The views a batch folded on remembered views expects: {@code orders} and {@code customers} stored
         * as they are, and no other view of the streams in {@code orderIds} and {@code customerIds}.
         */
        private record Expected(List<OrderView> orders, Set<UUID> orderIds, List<CustomerView> customers,
                                Set<UUID> customerIds) {
        }

        Batch(List<Incoming> events, List<Parked> parked, List<Checkpoint> checkpoints, Map<UUID, Long> forcedRefolds) {
            this.events = distinct(events);
            this.parked = new ArrayList<>(parked);
            this.checkpoints = checkpoints;
            this.refoldPositions = new HashMap<>(forcedRefolds);
            forcedRefolds.keySet().forEach(model::needsRefold);
        }

        /**
         * The batch folded on {@code memory}'s views, or null when it cannot be: a stream neither remembered nor
         * begun by the batch (its first event there is a creation at version 1), or an event that does not apply
         * cleanly in order (a duplicate, a gap, an event its view refuses), each of which needs the reads.
         */
        static Batch onRemembered(List<Incoming> events, List<Checkpoint> checkpoints, ViewMemory memory) {
            Batch batch = new Batch(events, List.of(), checkpoints, Map.of());
            return batch.foldRemembered(memory) ? batch : null;
        }

        private boolean foldRemembered(ViewMemory memory) {
            if (events.isEmpty()) {
                return false;
            }
            List<Incoming> inOrder = new ArrayList<>(events);
            inOrder.sort(Comparator.comparingLong(in -> in.envelope().globalPosition()));
            Expected expected = new Expected(new ArrayList<>(), new HashSet<>(), new ArrayList<>(), new HashSet<>());
            for (Incoming in : inOrder) {
                EventEnvelope e = in.envelope();
                boolean known = switch (e.event()) {
                    case OrderEvent event -> !expected.orderIds().add(event.orderId())
                            || remembered(memory.order(event.orderId()), model::load, expected.orders())
                            || (event instanceof OrderEvent.OrderCreated && e.version() == 1);
                    case CustomerEvent event -> !expected.customerIds().add(event.customerId())
                            || remembered(memory.customer(event.customerId()), model::load, expected.customers())
                            || (event instanceof CustomerEvent.CustomerCreated && e.version() == 1);
                };
                try {
                    if (!known || model.apply(e) != ReadModel.Outcome.APPLIED) {
                        return false;
                    }
                } catch (RuntimeException refused) {
                    return false;
                }
            }
            if (model.changedOrders().stream().anyMatch(OrderView::needsAttention)) {
                return false;
            }
            fresh.addAll(inOrder);
            remembered = expected;
            return true;
        }

        private static <V> boolean remembered(V view, java.util.function.Consumer<V> load, List<V> expected) {
            if (view == null) {
                return false;
            }
            load.accept(view);
            expected.add(view);
            return true;
        }

        /** Every stream the batch touches. */
        Set<UUID> streams() {
            return streamsOf(events);
        }

        /**
         * One round trip (after {@code begun}, pipelined with it): records the events, locks and loads the
         * views of every stream in the batch, and looks up their pending dead letters; then folds the new
         * events in memory, re-folding (one more round trip) the streams that need it.
         */
        Future<Void> prepare(SqlConnection conn, Future<?> begun) {
            Set<UUID> orderIds = new HashSet<>();
            Set<UUID> customerIds = new HashSet<>();
            for (Incoming in : events) {
                (in.envelope().streamType() == StreamType.ORDER ? orderIds : customerIds).add(in.envelope().streamId());
            }
            Set<String> attentionKeys = new HashSet<>();
            orderIds.forEach(id -> attentionKeys.add(id.toString()));
            refoldPositions.keySet().forEach(id -> attentionKeys.add(id.toString()));
            Future<RowSet<Row>> inserted = events.isEmpty() ? Future.succeededFuture()
                    : conn.preparedQuery(Sql.INSERT_EVENTS).execute(Rows.receivedEventParams(events));
            Future<RowSet<Row>> orders = orderIds.isEmpty() ? Future.succeededFuture()
                    : conn.preparedQuery(Sql.LOCK_ORDERS).execute(Tuple.of((Object) orderIds.toArray(UUID[]::new)));
            Future<RowSet<Row>> customers = customerIds.isEmpty() ? Future.succeededFuture()
                    : conn.preparedQuery(Sql.LOCK_CUSTOMERS).execute(Tuple.of((Object) customerIds.toArray(UUID[]::new)));
            Future<RowSet<Row>> pending = attentionKeys.isEmpty() ? Future.succeededFuture()
                    : conn.preparedQuery(Sql.PENDING_DEAD_LETTER_KEYS)
                    .execute(Tuple.of((Object) attentionKeys.toArray(String[]::new)));
            return Future.all(begun, inserted, orders, customers, pending).compose(all -> {
                recordFresh(inserted.result());
                forEach(orders.result(), row -> model.load(Rows.order(row)));
                forEach(customers.result(), row -> model.load(Rows.customer(row)));
                forEach(pending.result(), row -> addPending(row.getString(0)));
                applyInMemory();
                return refold(conn);
            }).map(v -> {
                parked.forEach(p -> addPending(p.at().streamKey()));
                markAttention();
                return null;
            });
        }

        /**
         * One round trip: every write of the batch, pipelined, then, if {@code commit} is given, its COMMIT
         * behind them (otherwise the caller's transaction ends later). Fails if any of them failed: the transaction is then
         * rolled back (PostgreSQL answers a COMMIT after a failed statement with a rollback).
         */
        Future<BatchResult> write(SqlConnection conn, PipelinedTransaction commit) {
            List<Future<?>> writes = new ArrayList<>();
            if (remembered != null) {
                expect(conn, writes);
            }
            if (!parked.isEmpty()) {
                writes.add(park(conn));
            }
            List<OrderView> orders = model.changedOrders();
            if (!orders.isEmpty()) {
                writes.add(conn.preparedQuery(Sql.UPSERT_ORDERS).execute(Rows.orderArrays(orders)));
            }
            List<CustomerView> customers = model.changedCustomers();
            if (!customers.isEmpty()) {
                writes.add(conn.preparedQuery(Sql.UPSERT_CUSTOMERS).execute(Rows.customerArrays(customers)));
            }
            List<OrderChange> changes = changes();
            Future<RowSet<Row>> positions = Future.succeededFuture();
            if (!changes.isEmpty()) {
                // The lock is held until commit: change positions are taken and made visible in one order.
                writes.add(conn.query(Sql.LOCK_CHANGE_LOG).execute());
                positions = conn.preparedQuery(Sql.INSERT_CHANGES).execute(Rows.changeArrays(changes));
                writes.add(positions);
            }
            if (!checkpoints.isEmpty()) {
                writes.add(conn.preparedQuery(Sql.UPSERT_CHECKPOINTS).execute(Rows.checkpointArrays(checkpoints, events)));
            }
            if (commit != null) {
                // Queued last on the connection, so it reaches the server after every write above.
                writes.add(commit.commit());
            }
            Future<RowSet<Row>> taken = positions;
            // join, not all: the connection is handed back only once every pipelined statement has answered.
            return Future.join(writes).map(v -> {
                List<JsonObject> written = new ArrayList<>();
                if (taken.result() != null) {
                    taken.result().forEach(row -> written.add(Rows.committedChange(row)));
                }
                written.sort(Comparator.comparingLong(change -> change.getLong("position")));
                long last = written.isEmpty() ? 0 : written.getLast().getLong("position");
                return new BatchResult(fresh.size(), duplicates, parked.size(), model.changedOrders(),
                        model.changedCustomers(), last, new JsonArray(new ArrayList<>(written)), remembered != null);
            });
        }

        /**
         * The checks of a batch folded on remembered views, sent ahead of its writes: each fails the transaction
         * unless what the batch was folded on is what is stored. They record the events and lock the views too.
         */
        private void expect(SqlConnection conn, List<Future<?>> statements) {
            statements.add(conn.preparedQuery(Sql.EXPECT_NEW_EVENTS).execute(Rows.receivedEventParams(events)));
            if (!remembered.orderIds().isEmpty()) {
                statements.add(conn.preparedQuery(Sql.EXPECT_ORDERS).execute(Rows.orderArrays(remembered.orders())
                        .addValue(remembered.orderIds().toArray(UUID[]::new))));
                statements.add(conn.preparedQuery(Sql.EXPECT_NO_PENDING_DEAD_LETTERS)
                        .execute(Tuple.of((Object) remembered.orderIds().stream().map(UUID::toString).toArray(String[]::new))));
            }
            if (!remembered.customerIds().isEmpty()) {
                statements.add(conn.preparedQuery(Sql.EXPECT_CUSTOMERS).execute(Rows.customerArrays(remembered.customers())
                        .addValue(remembered.customerIds().toArray(UUID[]::new))));
            }
        }

        private void recordFresh(RowSet<Row> inserted) {
            Set<UUID> ids = new HashSet<>();
            forEach(inserted, row -> ids.add(row.getUUID(0)));
            for (Incoming in : events) {
                if (ids.contains(in.envelope().eventId())) {
                    fresh.add(in);
                } else {
                    duplicates++;
                }
            }
            fresh.sort(Comparator.comparingLong(in -> in.envelope().globalPosition()));
        }

        private void applyInMemory() {
            for (Incoming in : fresh) {
                EventEnvelope e = in.envelope();
                try {
                    ReadModel.Outcome outcome = model.apply(e);
                    if (outcome != ReadModel.Outcome.APPLIED) {
                        // New to the event log, yet not applicable in order: its stream is re-folded.
                        model.needsRefold(e.streamId());
                        refoldPositions.merge(e.streamId(), e.globalPosition(), Math::max);
                    }
                } catch (RuntimeException failure) {
                    journey(LOG.atWarn(), e).log("cannot apply {} v{} of {} at {}: {}", e.type(), e.version(),
                            e.streamId(), in.at(), failure.getMessage());
                    Coordinates at = new Coordinates(in.at().topic(), in.at().partition(), in.at().offset(),
                            e.streamId().toString());
                    // Off the usual path: the record's own bytes when there are some, else the event encoded.
                    byte[] payload = in.value() != null ? in.value() : EventJson.encode(e);
                    parked.add(new Parked(at, "cannot apply: " + failure.getMessage(), payload));
                }
            }
        }

        private Future<Void> refold(SqlConnection conn) {
            Set<UUID> streams = model.streamsToRefold();
            if (streams.isEmpty()) {
                return Future.succeededFuture();
            }
            return conn.preparedQuery(Sql.STREAMS_EVENTS).execute(Tuple.of((Object) streams.toArray(UUID[]::new)))
                    .map(rows -> {
                        Map<UUID, List<Row>> byStream = new LinkedHashMap<>();
                        rows.forEach(row -> byStream.computeIfAbsent(row.getUUID("stream_id"), id -> new ArrayList<>())
                                .add(row));
                        for (UUID streamId : List.copyOf(streams)) {
                            refoldStream(streamId, byStream.getOrDefault(streamId, List.of()));
                        }
                        return null;
                    });
        }

        private void refoldStream(UUID streamId, List<Row> rows) {
            Rows.StreamEvents events = Rows.streamEvents(rows, streamId, LOG, "event log");
            List<EventEnvelope> orderEvents = events.orderEvents();
            List<EventEnvelope> customerEvents = events.customerEvents();
            Long position = refoldPositions.get(streamId);
            try {
                Projection.foldOrder(orderEvents).ifPresent(view -> model.replace(view, position));
                Projection.foldCustomer(customerEvents).ifPresent(model::replace);
            } catch (RuntimeException failure) {
                LOG.warn("cannot re-fold stream {}: {}", streamId, failure.getMessage());
            }
        }

        private void addPending(String key) {
            UUID id = uuidOrNull(key);
            if (id != null) {
                attentionPending.add(id);
            }
        }

        /** Orders with a pending dead letter (stored, or parked by this batch) need an operator's attention. */
        private void markAttention() {
            for (OrderView view : model.changedOrders()) {
                if (attentionPending.contains(view.orderId()) && !view.needsAttention()) {
                    model.orders().put(view.orderId(), view.withNeedsAttention(true));
                }
            }
        }

        private Future<Void> park(SqlConnection conn) {
            List<Tuple> rows = parked.stream().map(p -> Tuple.of(p.at().topic(), p.at().partition(), p.at().offset(),
                    p.at().streamKey(), p.error(), p.payload() == null ? null : Buffer.buffer(p.payload()))).toList();
            UUID[] keys = parked.stream().map(p -> uuidOrNull(p.at().streamKey())).filter(k -> k != null)
                    .toArray(UUID[]::new);
            Future<?> inserted = conn.preparedQuery(Sql.INSERT_DEAD_LETTER).executeBatch(rows);
            Future<?> marked = conn.preparedQuery(Sql.MARK_ATTENTION).execute(Tuple.of((Object) keys));
            return Future.all(inserted, marked).mapEmpty();
        }

        /** The batch's order changes, one per global position, with the attention flag of their view. */
        private List<OrderChange> changes() {
            Map<Long, OrderChange> byPosition = new LinkedHashMap<>();
            for (OrderChange change : model.changes()) {
                OrderView view = attentionPending.contains(change.view().orderId())
                        ? change.view().withNeedsAttention(true) : change.view();
                byPosition.put(change.position(), new OrderChange(change.position(), view));
            }
            return List.copyOf(byPosition.values());
        }

        private static void forEach(RowSet<Row> rows, java.util.function.Consumer<Row> action) {
            if (rows != null) {
                rows.forEach(action);
            }
        }

        private static List<Incoming> distinct(List<Incoming> events) {
            Map<UUID, Incoming> byId = new LinkedHashMap<>();
            for (Incoming in : events) {
                byId.putIfAbsent(in.envelope().eventId(), in);
            }
            return new ArrayList<>(byId.values());
        }

        private static UUID uuidOrNull(String key) {
            if (key == null) {
                return null;
            }
            try {
                return UUID.fromString(key);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
    }

    /** The streams of these events. */
    private static Set<UUID> streamsOf(List<Incoming> events) {
        Set<UUID> streams = new HashSet<>();
        events.forEach(in -> streams.add(in.envelope().streamId()));
        return streams;
    }

    /** A log line with the fields of the event's journey (see {@link LogFields}). */
    private static LoggingEventBuilder journey(LoggingEventBuilder line, EventEnvelope event) {
        return LogFields.journey(line, event.metadata().correlationId(), event.metadata().traceparent());
    }
}
