package dev.orders.query.push;

import dev.orders.query.QuerySide;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Plays the projector in tests: appends order changes to the log (and each order's newest change) with
 * their NOTIFY in one transaction, one transaction at a time, so that positions commit in increasing order
 * (the log's contract). Positions start at 1, as the log's sequence does, and then skip a few numbers now
 * and then, as the customer events between order events do. The tables are the query side's own, from its migrations.
 */
final class ChangeLog {

    private static final String INSERT = "INSERT INTO order_changes (position, global_position, order_id, customer_id,"
            + " version, view, changed_at) VALUES ($1, $1, $2, $3, $4, $5, now())";
    private static final String UPSERT_LATEST = "INSERT INTO latest_order_changes (position, order_id, customer_id,"
            + " version, view, changed_at) VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (order_id) DO UPDATE SET"
            + " position = EXCLUDED.position, version = EXCLUDED.version, view = EXCLUDED.view,"
            + " changed_at = EXCLUDED.changed_at";
    private static final String NOTIFY = "SELECT pg_notify('order_changes', $1)";

    private final Pool pool;
    private long position;
    private Future<?> tail = Future.succeededFuture();

    ChangeLog(Pool pool) {
        this.pool = pool;
    }

    static Future<Void> createTables(Vertx vertx, PgConnectOptions db) {
        return QuerySide.MIGRATIONS.migrate(vertx, db).mapEmpty();
    }

    /** Appends the order's change to {@code version} (status by version); succeeds with its position. */
    synchronized Future<Long> append(UUID orderId, UUID customerId, int version) {
        position += position > 0 && ThreadLocalRandom.current().nextInt(10) == 0 ? 3 : 1;
        long at = position;
        JsonObject view = view(orderId, customerId, version);
        Tuple row = Tuple.of(at, orderId, customerId, version, view);
        Future<Long> appended = tail.transform(ignored -> pool.withTransaction(conn -> conn.preparedQuery(INSERT)
                        .execute(row)
                        .compose(done -> conn.preparedQuery(UPSERT_LATEST).execute(row))
                        .compose(done -> conn.preparedQuery(NOTIFY).execute(Tuple.of(Long.toString(at))))))
                .map(at);
        tail = appended;
        return appended;
    }

    /** One change to append: the order's change to {@code version}. */
    record Change(UUID orderId, UUID customerId, int version) {
    }

    /**
     * Appends several changes in ONE transaction, in the given order, with one NOTIFY (of the last
     * position), as a projector committing a batch does; succeeds with their positions.
     */
    synchronized Future<List<Long>> appendAll(List<Change> changes) {
        List<Tuple> rows = new ArrayList<>(changes.size());
        List<Long> positions = new ArrayList<>(changes.size());
        for (Change change : changes) {
            position += position > 0 && ThreadLocalRandom.current().nextInt(10) == 0 ? 3 : 1;
            positions.add(position);
            rows.add(Tuple.of(position, change.orderId(), change.customerId(), change.version(),
                    view(change.orderId(), change.customerId(), change.version())));
        }
        String last = Long.toString(position);
        Future<List<Long>> appended = tail.transform(ignored -> pool.withTransaction(conn -> conn.preparedQuery(INSERT)
                        .executeBatch(rows)
                        .compose(done -> conn.preparedQuery(UPSERT_LATEST).executeBatch(rows))
                        .compose(done -> conn.preparedQuery(NOTIFY).execute(Tuple.of(last)))))
                .map(List.copyOf(positions));
        tail = appended;
        return appended;
    }

    static JsonObject view(UUID orderId, UUID customerId, int version) {
        String status = switch (version) {
            case 1 -> "PENDING";
            case 2 -> "APPROVED";
            default -> "CANCELLED";
        };
        String now = Instant.now().toString();
        return new JsonObject().put("orderId", orderId.toString()).put("customerId", customerId.toString())
                .put("status", status).put("total", new JsonObject().put("amount", "25.00").put("currency", "EUR"))
                .put("version", version).put("createdAt", now).put("updatedAt", now);
    }
}
