package dev.orders.query.store;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventFormatException;
import dev.orders.events.EventJson;
import dev.orders.events.StreamType;
import dev.orders.query.model.CustomerView;
import dev.orders.query.model.OrderChange;
import dev.orders.query.model.OrderView;
import dev.orders.query.model.Projection;
import dev.orders.query.model.ReadModel;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.OffsetDateTime;
import java.util.ArrayList;
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
 * the order-change log (with {@code pg_notify('order_changes', position)}), parked records and the
 * checkpoint together, so a redelivered or duplicated event changes nothing. After each commit the
 * changed orders are announced on the event bus ({@link #ORDER_CHANGED}), which is what
 * {@code ?minVersion} waits on.
 */
public final class ProjectionStore {

    /** Event-bus address: {@code {"orderId", "version"}} of each order view a commit changed. */
    public static final String ORDER_CHANGED = "query.order-changed";

    private static final Logger LOG = LoggerFactory.getLogger(ProjectionStore.class);

    /** Where a record came from. */
    public record Coordinates(String topic, int partition, long offset, String key) {
    }

    /** A decoded event and its coordinates. */
    public record Incoming(EventEnvelope envelope, Coordinates at) {
    }

    /** A record that cannot be applied, with the reason and its raw value. */
    public record Parked(Coordinates at, String error, byte[] payload) {
    }

    /** The next offset to read of one topic-partition. */
    public record Checkpoint(String topic, int partition, long nextOffset) {
    }

    /** What a batch did. */
    public record BatchResult(int fresh, int duplicates, int parked, List<OrderView> changedOrders,
                              List<CustomerView> changedCustomers) {
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

    public ProjectionStore(Vertx vertx, Pool pool) {
        this.vertx = vertx;
        this.pool = pool;
    }

    /** Applies a batch in one transaction; on success every change is committed and announced. */
    public Future<BatchResult> applyBatch(List<Incoming> events, List<Parked> parked, List<Checkpoint> checkpoints) {
        return pool.withTransaction(conn -> new Batch(conn, events, parked, checkpoints, Map.of()).run())
                .onSuccess(this::announce);
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
                            .compose(ignored -> new Batch(conn, List.of(new Incoming(envelope, at)), List.of(), List.of(),
                                    Map.of(envelope.streamId(), envelope.globalPosition())).run())
                            .map(result -> new RedriveResult.Redriven(envelope, result));
                }))
                .onSuccess(result -> {
                    if (result instanceof RedriveResult.Redriven redriven) {
                        LOG.info("dead letter {} re-driven: {} v{} of {} [correlationId={}]", id, redriven.envelope().type(),
                                redriven.envelope().version(), redriven.envelope().streamId(),
                                redriven.envelope().metadata().correlationId());
                        announce(redriven.result());
                    }
                });
    }

    private void announce(BatchResult result) {
        for (OrderView view : result.changedOrders()) {
            vertx.eventBus().publish(ORDER_CHANGED,
                    new JsonObject().put("orderId", view.orderId().toString()).put("version", view.version()));
        }
    }

    /** The state of one transaction. */
    private static final class Batch {
        private final SqlConnection conn;
        private final List<Incoming> events;
        private final List<Parked> parked;
        private final List<Checkpoint> checkpoints;
        private final Map<UUID, Long> refoldPositions;
        private final ReadModel model = new ReadModel();
        private final List<Incoming> fresh = new ArrayList<>();
        private int duplicates;

        Batch(SqlConnection conn, List<Incoming> events, List<Parked> parked, List<Checkpoint> checkpoints,
              Map<UUID, Long> forcedRefolds) {
            this.conn = conn;
            this.events = distinct(events);
            this.parked = new ArrayList<>(parked);
            this.checkpoints = checkpoints;
            this.refoldPositions = new HashMap<>(forcedRefolds);
            forcedRefolds.keySet().forEach(model::needsRefold);
        }

        Future<BatchResult> run() {
            return insertEvents()
                    .compose(v -> loadViews())
                    .compose(v -> applyInMemory())
                    .compose(v -> park())
                    .compose(v -> refold())
                    .compose(v -> markAttention())
                    .compose(v -> writeViews())
                    .compose(v -> writeChanges())
                    .compose(v -> writeCheckpoints())
                    .map(v -> new BatchResult(fresh.size(), duplicates, parked.size(), model.changedOrders(),
                            model.changedCustomers()));
        }

        private Future<Void> insertEvents() {
            if (events.isEmpty()) {
                return Future.succeededFuture();
            }
            Tuple params = Rows.eventParams(events.stream().map(Incoming::envelope).toList());
            return conn.preparedQuery(Sql.INSERT_EVENTS).execute(params).map(rows -> {
                Set<UUID> inserted = new HashSet<>();
                rows.forEach(row -> inserted.add(row.getUUID(0)));
                for (Incoming in : events) {
                    if (inserted.contains(in.envelope().eventId())) {
                        fresh.add(in);
                    } else {
                        duplicates++;
                    }
                }
                fresh.sort(Comparator.comparingLong(in -> in.envelope().globalPosition()));
                return null;
            });
        }

        private Future<Void> loadViews() {
            Set<UUID> orderIds = new HashSet<>();
            Set<UUID> customerIds = new HashSet<>();
            for (Incoming in : fresh) {
                (in.envelope().streamType() == StreamType.ORDER ? orderIds : customerIds).add(in.envelope().streamId());
            }
            Future<Void> orders = orderIds.isEmpty() ? Future.succeededFuture()
                    : conn.preparedQuery(Sql.LOCK_ORDERS).execute(Tuple.of(orderIds.toArray(UUID[]::new)))
                    .map(rows -> {
                        rows.forEach(row -> model.load(Rows.order(row)));
                        return null;
                    });
            return orders.compose(v -> customerIds.isEmpty() ? Future.succeededFuture()
                    : conn.preparedQuery(Sql.LOCK_CUSTOMERS).execute(Tuple.of(customerIds.toArray(UUID[]::new)))
                    .map(rows -> {
                        rows.forEach(row -> model.load(Rows.customer(row)));
                        return null;
                    }));
        }

        private Future<Void> applyInMemory() {
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
                    LOG.warn("cannot apply {} v{} of {} at {}: {} [correlationId={}]", e.type(), e.version(),
                            e.streamId(), in.at(), failure.getMessage(), e.metadata().correlationId());
                    parked.add(new Parked(in.at(), "cannot apply: " + failure.getMessage(), EventJson.encode(e)));
                }
            }
            return Future.succeededFuture();
        }

        private Future<Void> park() {
            if (parked.isEmpty()) {
                return Future.succeededFuture();
            }
            List<Tuple> rows = parked.stream().map(p -> Tuple.of(p.at().topic(), p.at().partition(), p.at().offset(),
                    p.at().key(), p.error(), p.payload() == null ? null : Buffer.buffer(p.payload()))).toList();
            UUID[] keys = parked.stream().map(p -> uuidOrNull(p.at().key())).filter(k -> k != null).toArray(UUID[]::new);
            return conn.preparedQuery(Sql.INSERT_DEAD_LETTER).executeBatch(rows)
                    .compose(v -> conn.preparedQuery(Sql.MARK_ATTENTION).execute(Tuple.of((Object) keys)))
                    .mapEmpty();
        }

        private Future<Void> refold() {
            Future<Void> chain = Future.succeededFuture();
            for (UUID streamId : model.streamsToRefold()) {
                chain = chain.compose(v -> conn.preparedQuery(Sql.STREAM_EVENTS).execute(Tuple.of(streamId))
                        .map(rows -> {
                            refoldStream(streamId, rows);
                            return null;
                        }));
            }
            return chain;
        }

        private void refoldStream(UUID streamId, RowSet<Row> rows) {
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

        private Future<Void> markAttention() {
            List<OrderView> changed = model.changedOrders();
            if (changed.isEmpty()) {
                return Future.succeededFuture();
            }
            String[] keys = changed.stream().map(v -> v.orderId().toString()).toArray(String[]::new);
            return conn.preparedQuery(Sql.PENDING_DEAD_LETTER_KEYS).execute(Tuple.of((Object) keys)).map(rows -> {
                Set<UUID> pending = new HashSet<>();
                rows.forEach(row -> pending.add(UUID.fromString(row.getString(0))));
                for (OrderView view : changed) {
                    if (pending.contains(view.orderId()) && !view.needsAttention()) {
                        model.orders().put(view.orderId(), view.withNeedsAttention(true));
                    }
                }
                attentionPending = pending;
                return null;
            });
        }

        private Set<UUID> attentionPending = Set.of();

        private Future<Void> writeViews() {
            List<Tuple> orders = model.changedOrders().stream().map(Rows::orderParams).toList();
            List<Tuple> customers = model.changedCustomers().stream().map(Rows::customerParams).toList();
            Future<Void> first = orders.isEmpty() ? Future.succeededFuture()
                    : conn.preparedQuery(Sql.UPSERT_ORDER).executeBatch(orders).mapEmpty();
            return first.compose(v -> customers.isEmpty() ? Future.succeededFuture()
                    : conn.preparedQuery(Sql.UPSERT_CUSTOMER).executeBatch(customers).mapEmpty());
        }

        private Future<Void> writeChanges() {
            Map<Long, OrderChange> byPosition = new LinkedHashMap<>();
            for (OrderChange change : model.changes()) {
                OrderView view = attentionPending.contains(change.view().orderId())
                        ? change.view().withNeedsAttention(true) : change.view();
                byPosition.put(change.position(), new OrderChange(change.position(), view));
            }
            if (byPosition.isEmpty()) {
                return Future.succeededFuture();
            }
            List<Tuple> rows = byPosition.values().stream().map(c -> Tuple.of(c.position(), c.view().orderId(),
                    c.view().customerId(), Math.toIntExact(c.view().version()), c.view().toJson())).toList();
            // The lock is held until commit: change positions are taken and made visible in one order.
            return conn.query(Sql.LOCK_CHANGE_LOG).execute()
                    .compose(v -> conn.preparedQuery(Sql.INSERT_CHANGE).executeBatch(rows))
                    .compose(v -> conn.query(Sql.NOTIFY_CHANGES).execute())
                    .mapEmpty();
        }

        private Future<Void> writeCheckpoints() {
            if (checkpoints.isEmpty()) {
                return Future.succeededFuture();
            }
            Map<String, long[]> last = new HashMap<>();
            Map<String, OffsetDateTime> lastTime = new HashMap<>();
            for (Incoming in : events) {
                String key = in.at().topic() + "/" + in.at().partition();
                long position = in.envelope().globalPosition();
                if (!last.containsKey(key) || last.get(key)[0] < position) {
                    last.put(key, new long[]{position});
                    lastTime.put(key, Rows.time(in.envelope().occurredAt()));
                }
            }
            List<Tuple> rows = checkpoints.stream().map(c -> {
                String key = c.topic() + "/" + c.partition();
                return Tuple.of(c.topic(), c.partition(), c.nextOffset(), last.containsKey(key) ? last.get(key)[0] : 0L,
                        lastTime.get(key));
            }).toList();
            return conn.preparedQuery(Sql.UPSERT_CHECKPOINT).executeBatch(rows).mapEmpty();
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
}
