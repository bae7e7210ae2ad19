package dev.orders.query.store;

import dev.orders.events.EventEnvelope;
import dev.orders.events.StreamType;
import dev.orders.query.model.CustomerView;
import dev.orders.query.model.OrderView;
import dev.orders.query.model.Projection;
import dev.orders.query.model.ReadModel;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The SQL of a zero-downtime rebuild, on one dedicated connection: the rebuild's own copies of the
 * rebuildable tables ({@code event_log_next}, {@code order_view_next}, {@code customer_view_next}), the
 * fold of pages of events into them with the projector's own pure logic ({@link ReadModel},
 * {@link Projection}), and the switch.
 *
 * <p><b>What is rebuilt, what is kept.</b> The views and the event log are rebuilt. The order-change log
 * ({@code order_changes} and its {@code order_change_position} sequence), the projector's checkpoints
 * and the dead letters are kept as they are: the change log is the push hub's contract (its positions
 * are clients' {@code Last-Event-ID}s), so it must never be reset, and the checkpoints say where the live
 * projector, which goes on consuming Kafka throughout, stands.
 *
 * <p><b>The switch</b> ({@link #swap}) is one transaction. It takes {@code EXCLUSIVE} locks on the live
 * tables, which stop the projectors' transactions (in every process) while readers go on; then it makes
 * the rebuilt event set equal to the live one: events the live projector has applied that the rebuild
 * lacks (applied after the feed was read, or never in the feed) are copied from the live event log;
 * events the rebuild has that the live projector has not applied yet are removed again, so that the
 * projector applies them later and writes their change-log rows (else it would find them already in
 * the event log and push nothing); the streams touched are re-folded. Orders with a pending dead letter
 * are marked as needing attention, as the projector marks them. Then it renames the tables
 * ({@code T -> T_old}, {@code T_next -> T}), drops the old ones and gives the new indexes the canonical
 * names. Readers see the old tables or the new ones, never a mix: a statement that waited for the
 * rename's lock resolves the table name again after it and reads the new table.
 *
 * <p><b>Prepared statements.</b> PostgreSQL keeps a prepared statement's query text and re-analyses it
 * when a table it uses is altered, so a statement prepared before the switch (even one cached by name
 * on a connection, {@code cachePreparedStatements}) reads the new table after it; the rebuilt tables
 * have the same columns and types ({@code LIKE ... INCLUDING ALL}), so its result type does not change.
 * The rebuild test checks this with a caching connection.
 */
public final class RebuildStore {

    private static final Logger LOG = LoggerFactory.getLogger(RebuildStore.class);

    /** The rebuilt tables, in the order they are locked (the projector's transaction writes event_log first). */
    public static final List<String> TABLES = List.of("event_log", "order_view", "customer_view");
    public static final String NEXT = "_next";
    private static final String OLD = "_old";
    private static final Pattern TABLE_NAME = Pattern.compile("\\b(event_log|order_view|customer_view)\\b");
    private static final Pattern INDEX_DEF = Pattern.compile("^(CREATE (?:UNIQUE )?INDEX) \\S+ ON (?:ONLY )?(\\S+) (USING .*)$");

    private static final String TRY_LOCK = "SELECT pg_try_advisory_lock(hashtext('query.rebuild'))";
    private static final String UNLOCK = "SELECT pg_advisory_unlock(hashtext('query.rebuild'))";
    private static final String LOCK_LIVE = "LOCK TABLE event_log, order_view, customer_view IN EXCLUSIVE MODE";
    private static final String INDEXES = """
            SELECT i.relname AS index_name, t.relname AS table_name, pg_get_indexdef(i.oid) AS definition
              FROM pg_index x
              JOIN pg_class i ON i.oid = x.indexrelid
              JOIN pg_class t ON t.oid = x.indrelid
              JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE n.nspname = current_schema() AND t.relname = ANY($1::text[])""";

    /**
     * Statistics of the rebuilt tables. The event log's {@code data} and {@code metadata} are left out: no
     * query filters, joins or sorts on them, and sampling and sorting thousands of {@code jsonb} values was
     * most of the statement's time; autovacuum's next analyze of the table covers them.
     */
    private static final String ANALYZE = "ANALYZE event_log" + NEXT + " (global_position, event_id, stream_type,"
            + " stream_id, version, type, schema_version, occurred_at), order_view" + NEXT + ", customer_view" + NEXT;
    /** Live events the rebuild lacks, copied in; answers their streams. */
    private static final String COPY_FROM_LIVE = """
            INSERT INTO event_log_next
            SELECT l.* FROM event_log l
             WHERE NOT EXISTS (SELECT 1 FROM event_log_next n WHERE n.event_id = l.event_id)
            ON CONFLICT DO NOTHING
            RETURNING stream_id""";
    /** Rebuilt events the live projector has not applied yet: left to it. Answers their streams. */
    private static final String DROP_NOT_LIVE = """
            DELETE FROM event_log_next n
             WHERE NOT EXISTS (SELECT 1 FROM event_log l WHERE l.event_id = n.event_id)
            RETURNING stream_id""";
    private static final String MARK_PARKED = """
            UPDATE order_view_next SET needs_attention = true
             WHERE NOT needs_attention
               AND order_id::text IN (SELECT key FROM dead_letters WHERE redriven_at IS NULL AND key IS NOT NULL)""";
    private static final String ORDERS_DIFFERING = """
            SELECT count(*) FROM order_view o FULL JOIN order_view_next n ON n.order_id = o.order_id
             WHERE ROW(o.*) IS DISTINCT FROM ROW(n.*)""";
    private static final String CUSTOMERS_DIFFERING = """
            SELECT count(*) FROM customer_view o FULL JOIN customer_view_next n ON n.customer_id = o.customer_id
             WHERE ROW(o.*) IS DISTINCT FROM ROW(n.*)""";
    private static final String DELETE_ORDER_NEXT = "DELETE FROM order_view_next WHERE order_id = $1";
    private static final String DELETE_CUSTOMER_NEXT = "DELETE FROM customer_view_next WHERE customer_id = $1";

    /**
     * A page of events, in global-position order, with the parameters of its event-log insert: made off the
     * event loop ({@link #prepare}), folded on it ({@link #applyPage}).
     */
    public record PreparedPage(List<EventEnvelope> events, Tuple eventLogParams) {
    }

    /** What one page did. */
    public record PageResult(int fresh, int ordersWritten, int customersWritten) {
    }

    /** What the switch did. */
    public record SwapResult(int copiedFromLive, int leftToProjector, int streamsRefolded, long ordersDiffering,
                             long customersDiffering) {
        public JsonObject toJson() {
            return new JsonObject().put("copiedFromLive", copiedFromLive).put("leftToProjector", leftToProjector)
                    .put("streamsRefolded", streamsRefolded).put("ordersDiffering", ordersDiffering)
                    .put("customersDiffering", customersDiffering);
        }
    }

    private final SqlConnection conn;

    public RebuildStore(SqlConnection conn) {
        this.conn = conn;
    }

    /** A statement of the live tables, on the rebuild's tables. */
    static String onNext(String sql) {
        return TABLE_NAME.matcher(sql).replaceAll("$1" + NEXT);
    }

    /** Only one rebuild at a time, across processes: a session advisory lock on this connection. */
    public Future<Boolean> tryLock() {
        return conn.query(TRY_LOCK).execute().map(rows -> rows.iterator().next().getBoolean(0));
    }

    public Future<Void> unlock() {
        return conn.query(UNLOCK).execute().mapEmpty();
    }

    /** Fresh, empty copies of the rebuilt tables (columns, defaults, constraints, indexes). */
    public Future<Void> createTables() {
        Future<Void> chain = dropTables();
        for (String table : TABLES) {
            chain = chain.compose(v -> conn.query("CREATE TABLE " + table + NEXT + " (LIKE " + table
                    + " INCLUDING ALL)").execute().mapEmpty());
        }
        return chain;
    }

    /** Drops the rebuild's tables (a failed or abandoned rebuild). */
    public Future<Void> dropTables() {
        return conn.query("DROP TABLE IF EXISTS " + String.join(", ", TABLES.stream().map(t -> t + NEXT).toList()))
                .execute().mapEmpty();
    }

    /** A page of events made ready for {@link #applyPage}: CPU work only, for a worker thread. */
    public static PreparedPage prepare(List<EventEnvelope> events) {
        return new PreparedPage(List.copyOf(events), Rows.eventParams(events));
    }

    /**
     * Folds one page of events (in global-position order) into the rebuild's tables, in one transaction,
     * with the projector's logic: event log once per event id, views loaded, events applied, streams
     * whose events arrive out of order re-folded from the rebuild's event log. A handful of statements
     * per page, whatever its size: one insert of the events, one read of each kind of view, one upsert
     * of each kind of view.
     */
    public Future<PageResult> applyPage(PreparedPage page) {
        if (page.events().isEmpty()) {
            return Future.succeededFuture(new PageResult(0, 0, 0));
        }
        return conn.begin().compose(tx -> foldPage(page)
                .compose(result -> tx.commit().map(result))
                .recover(failure -> tx.rollback().transform(ignored -> Future.failedFuture(failure))));
    }

    private Future<PageResult> foldPage(PreparedPage page) {
        ReadModel model = new ReadModel();
        return conn.preparedQuery(onNext(Sql.INSERT_EVENTS)).execute(page.eventLogParams()).compose(rows -> {
            Set<UUID> inserted = new java.util.HashSet<>();
            rows.forEach(row -> inserted.add(row.getUUID(0)));
            List<EventEnvelope> fresh = page.events().stream().filter(e -> inserted.contains(e.eventId())).toList();
            Set<UUID> orderIds = new LinkedHashSet<>();
            Set<UUID> customerIds = new LinkedHashSet<>();
            fresh.forEach(e -> (e.streamType() == StreamType.ORDER ? orderIds : customerIds).add(e.streamId()));
            return loadViews(model, orderIds, customerIds).compose(v -> {
                for (EventEnvelope e : fresh) {
                    try {
                        if (model.apply(e) != ReadModel.Outcome.APPLIED) {
                            model.needsRefold(e.streamId());
                        }
                    } catch (RuntimeException failure) {
                        // The live projector parks such an event; the switch leaves the sets equal again.
                        LOG.warn("rebuild: cannot apply {} v{} of {} at {}: {}", e.type(), e.version(), e.streamId(),
                                e.globalPosition(), failure.getMessage());
                    }
                }
                return refold(model, Set.copyOf(model.streamsToRefold()));
            }).compose(v -> writeViews(model)).map(v -> new PageResult(fresh.size(), model.changedOrders().size(),
                    model.changedCustomers().size()));
        });
    }

    private Future<Void> loadViews(ReadModel model, Set<UUID> orderIds, Set<UUID> customerIds) {
        Future<Void> orders = orderIds.isEmpty() ? Future.succeededFuture()
                : conn.preparedQuery(onNext(Sql.ORDERS_BY_IDS)).execute(Tuple.of(orderIds.toArray(UUID[]::new)))
                .map(rows -> {
                    rows.forEach(row -> model.load(Rows.order(row)));
                    return null;
                });
        return orders.compose(v -> customerIds.isEmpty() ? Future.succeededFuture()
                : conn.preparedQuery(onNext(Sql.CUSTOMERS_BY_IDS)).execute(Tuple.of(customerIds.toArray(UUID[]::new)))
                .map(rows -> {
                    rows.forEach(row -> model.load(Rows.customer(row)));
                    return null;
                }));
    }

    /** Re-folds whole streams from the rebuild's event log; a stream left without a view loses its row. */
    private Future<Void> refold(ReadModel model, Set<UUID> streams) {
        Future<Void> chain = Future.succeededFuture();
        for (UUID streamId : streams) {
            chain = chain.compose(v -> conn.preparedQuery(onNext(Sql.STREAM_EVENTS)).execute(Tuple.of(streamId))
                    .compose(rows -> {
                        Rows.StreamEvents events = Rows.streamEvents(rows, streamId, LOG, "rebuild");
                        List<EventEnvelope> orderEvents = events.orderEvents();
                        List<EventEnvelope> customerEvents = events.customerEvents();
                        var order = Projection.foldOrder(orderEvents);
                        var customer = Projection.foldCustomer(customerEvents);
                        order.ifPresent(view -> model.replace(view, null));
                        customer.ifPresent(model::replace);
                        if (order.isEmpty() && customer.isEmpty()) {
                            model.orders().remove(streamId);
                            model.customers().remove(streamId);
                            return conn.preparedQuery(DELETE_ORDER_NEXT).execute(Tuple.of(streamId))
                                    .compose(ignored -> conn.preparedQuery(DELETE_CUSTOMER_NEXT).execute(Tuple.of(streamId)))
                                    .<Void>mapEmpty();
                        }
                        return Future.<Void>succeededFuture();
                    }));
        }
        return chain;
    }

    private Future<Void> writeViews(ReadModel model) {
        List<OrderView> orders = model.changedOrders().stream().filter(v -> v != null).toList();
        List<CustomerView> customers = model.changedCustomers().stream().filter(c -> c != null).toList();
        Future<Void> first = orders.isEmpty() ? Future.succeededFuture()
                : conn.preparedQuery(onNext(Sql.UPSERT_ORDERS)).execute(Rows.orderArrays(orders)).mapEmpty();
        return first.compose(v -> customers.isEmpty() ? Future.succeededFuture()
                : conn.preparedQuery(onNext(Sql.UPSERT_CUSTOMERS)).execute(Rows.customerArrays(customers)).mapEmpty());
    }

    /**
     * Copies the live events the rebuild lacks, without locking the live tables: most of the catch-up,
     * done before the switch so that the switch's locked part stays short.
     */
    public Future<Integer> copyFromLive() {
        return conn.begin().compose(tx -> syncWithLive(false)
                .compose(counts -> tx.commit().map(counts[0]))
                .recover(failure -> tx.rollback().transform(ignored -> Future.failedFuture(failure))));
    }

    /** {copied, dropped, refolded}; {@code dropNotLive} only under the live tables' lock. */
    private Future<int[]> syncWithLive(boolean dropNotLive) {
        Set<UUID> touched = new LinkedHashSet<>();
        int[] counts = new int[3];
        return conn.query(COPY_FROM_LIVE).execute().compose(copied -> {
            copied.forEach(row -> touched.add(row.getUUID(0)));
            counts[0] = copied.rowCount();
            if (!dropNotLive) {
                return Future.succeededFuture();
            }
            return conn.query(DROP_NOT_LIVE).execute().map(dropped -> {
                dropped.forEach(row -> touched.add(row.getUUID(0)));
                counts[1] = dropped.rowCount();
                return null;
            });
        }).compose(v -> {
            counts[2] = touched.size();
            ReadModel model = new ReadModel();
            return refold(model, touched).compose(ignored -> writeViews(model));
        }).map(counts);
    }

    /** The switch: one transaction, see the class comment. */
    public Future<SwapResult> swap() {
        return conn.begin().compose(tx -> conn.query("SET LOCAL lock_timeout = '10s'").execute()
                .compose(v -> conn.query(LOCK_LIVE).execute())
                .compose(v -> syncWithLive(true))
                .compose(counts -> conn.query(MARK_PARKED).execute()
                        .compose(v -> count(ORDERS_DIFFERING))
                        .compose(orders -> count(CUSTOMERS_DIFFERING).map(customers ->
                                new SwapResult(counts[0], counts[1], counts[2], orders, customers))))
                .compose(result -> rename().map(result))
                .compose(result -> tx.commit().map(result))
                .recover(failure -> tx.rollback().transform(ignored -> Future.failedFuture(failure))));
    }

    private Future<Long> count(String sql) {
        return conn.query(sql).execute().map(rows -> rows.iterator().next().getLong(0));
    }

    /** Renames T to T_old and T_next to T, drops T_old and gives the new indexes the old ones' names. */
    private Future<Void> rename() {
        List<String> names = new ArrayList<>(TABLES);
        TABLES.forEach(t -> names.add(t + NEXT));
        return conn.preparedQuery(INDEXES).execute(Tuple.of((Object) names.toArray(String[]::new))).compose(rows -> {
            Map<String, String> liveByShape = new HashMap<>();
            Map<String, String> nextByShape = new HashMap<>();
            for (Row row : rows) {
                String table = row.getString("table_name");
                boolean next = table.endsWith(NEXT);
                String shape = shape(row.getString("definition"), next ? table.substring(0, table.length() - NEXT.length())
                        : table);
                (next ? nextByShape : liveByShape).put(shape, row.getString("index_name"));
            }
            Future<Void> chain = Future.succeededFuture();
            for (String table : TABLES) {
                chain = chain
                        .compose(v -> ddl("ALTER TABLE " + table + " RENAME TO " + table + OLD))
                        .compose(v -> ddl("ALTER TABLE " + table + NEXT + " RENAME TO " + table))
                        .compose(v -> ddl("DROP TABLE " + table + OLD));
            }
            for (var entry : nextByShape.entrySet()) {
                String canonical = liveByShape.get(entry.getKey());
                if (canonical != null && !canonical.equals(entry.getValue())) {
                    chain = chain.compose(v -> ddl("ALTER INDEX " + entry.getValue() + " RENAME TO " + canonical));
                }
            }
            return chain;
        });
    }

    /** An index definition without its name, on the base table's name. */
    static String shape(String definition, String baseTable) {
        Matcher m = INDEX_DEF.matcher(definition);
        if (!m.matches()) {
            return definition;
        }
        return m.group(1) + " ON " + baseTable + " " + m.group(3);
    }

    private Future<Void> ddl(String sql) {
        return conn.query(sql).execute().mapEmpty();
    }

    /**
     * Statistics for the rebuilt tables before the switch: the switch's anti-joins plan well, and the
     * statistics move with the tables when they are renamed, so queries plan well right after it.
     */
    public Future<Void> analyze() {
        return ddl(ANALYZE);
    }
}
