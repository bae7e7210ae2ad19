package dev.orders.query.push;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The push hub's reads of the order-change log ({@code order_changes}) and of each order's newest change
 * ({@code latest_order_changes}, written in the same transactions), in the schema of the query side's
 * connections, and the log's pruning. Each read that a subscriber's guarantees rest on is ONE statement,
 * so that the bounds it reports (newest and oldest retained position) and the rows come from one snapshot.
 * <p>
 * Where a stream is restricted to one customer's orders (its caller is that customer), every read takes
 * that customer as {@code owner} and returns nothing of another's: an order of another customer reads
 * exactly as an unknown one. A null owner reads everything (an operator).
 * <p>
 * A new subscription's state comes from {@code latest_order_changes}: one row per watched order, however
 * long the log or the orders' histories are; so the log can be pruned to a window without losing any
 * order's state, and only the replay of an id older than the window is lost (answered with a reset).
 */
final class PushStore {

    static final String COLUMNS = "position, order_id, customer_id, version, view::text AS view, changed_at";
    static final String BOUNDS =
            "(SELECT coalesce(max(position), 0) AS max_position, coalesce(min(position), 0) AS min_position"
                    + " FROM order_changes) b";
    private static final String OWNED = " AND ($2::uuid IS NULL OR customer_id = $2::uuid)";

    static final String MAX_POSITION = "SELECT coalesce(max(position), 0) FROM order_changes";

    static final String CHANGES_AFTER = "SELECT " + COLUMNS
            + " FROM order_changes WHERE position > $1 ORDER BY position LIMIT $2";

    /** The newest change of each order of a customer, oldest first, as of the snapshot's bounds. */
    static final String CUSTOMER_STATE = state("customer_id = $1");

    static final String ORDER_STATE = state("order_id = $1");

    /** A customer's changes in ($3, $4], oldest first, at most $5 of them, with the oldest retained position. */
    static final String CUSTOMER_REPLAY = replay("customer_id = $1");

    static final String ORDER_REPLAY = replay("order_id = $1");

    private static String state(String watched) {
        return "SELECT b.max_position, b.min_position, c.* FROM " + BOUNDS + " LEFT JOIN LATERAL (SELECT " + COLUMNS
                + " FROM latest_order_changes WHERE " + watched + OWNED + ") c ON true ORDER BY c.position";
    }

    private static String replay(String watched) {
        return "SELECT b.min_position, c.* FROM " + BOUNDS + " LEFT JOIN LATERAL (SELECT " + COLUMNS
                + " FROM order_changes WHERE " + watched + OWNED
                + " AND position > $3 AND position <= $4 ORDER BY position LIMIT $5) c ON true ORDER BY c.position";
    }

    /**
     * Where the window starts: the oldest position to keep. Changes older than {@code $1} milliseconds, or
     * beyond the newest {@code $2}, are outside it; the newest change never is. The first change inside the
     * time window is found by walking the primary key from the bottom, so the cost is that of the changes
     * about to be deleted.
     */
    static final String WINDOW_START = """
            WITH newest AS (SELECT coalesce(max(position), 0) AS p FROM order_changes)
            SELECT LEAST(n.p, GREATEST(n.p - $2::bigint + 1,
                     coalesce((SELECT position FROM order_changes
                                WHERE changed_at >= now() - $1::bigint * interval '1 millisecond'
                                ORDER BY position LIMIT 1), n.p)))
              FROM newest n""";

    /** Deletes at most {@code $2} of the oldest changes below position {@code $1}: strictly from below. */
    static final String DELETE_BELOW = """
            DELETE FROM order_changes
             WHERE position IN (SELECT position FROM order_changes WHERE position < $1 ORDER BY position LIMIT $2)""";

    /**
     * The current state of what a stream watches.
     *
     * @param asOf        the newest position of the whole log in the snapshot: every change at or below
     *                    it is reflected in {@code latest}; later ones reach the subscriber live
     * @param minRetained the oldest position still in the log: an id below it may have lost changes
     * @param latest      the newest change of each watched order, by position
     */
    record Snapshot(long asOf, long minRetained, List<ChangeRow> latest) {
    }

    /** Replayed changes, and the oldest position the log still held when they were read. */
    record Replay(long minRetained, List<ChangeRow> changes) {
    }

    private final Pool pool;

    PushStore(Pool pool) {
        this.pool = pool;
    }

    Future<Long> maxPosition() {
        return pool.query(MAX_POSITION).execute().map(rows -> rows.iterator().next().getLong(0));
    }

    Future<List<ChangeRow>> changesAfter(long position, int limit) {
        return pool.preparedQuery(CHANGES_AFTER).execute(Tuple.of(position, limit)).map(PushStore::changes);
    }

    /** What {@code watch} shows now, restricted to {@code owner}'s orders unless it is null. */
    Future<Snapshot> snapshot(Watch watch, UUID owner) {
        String sql = switch (watch) {
            case Watch.Customer ignored -> CUSTOMER_STATE;
            case Watch.Order ignored -> ORDER_STATE;
        };
        return pool.preparedQuery(sql).execute(Tuple.of(watch.id(), owner)).map(PushStore::snapshotOf);
    }

    /** A snapshot from rows of the log's bounds joined with the changes it holds (none: one row of nulls). */
    static Snapshot snapshotOf(RowSet<Row> rows) {
        long asOf = 0;
        long minRetained = 0;
        List<ChangeRow> latest = new ArrayList<>();
        for (Row row : rows) {
            asOf = row.getLong("max_position");
            minRetained = row.getLong("min_position");
            if (row.getValue("position") != null) {
                latest.add(change(row));
            }
        }
        return new Snapshot(asOf, minRetained, List.copyOf(latest));
    }

    /** The changes after {@code after} up to and including {@code upTo}; at most {@code limit}. */
    Future<Replay> replay(Watch watch, UUID owner, long after, long upTo, int limit) {
        String sql = switch (watch) {
            case Watch.Customer ignored -> CUSTOMER_REPLAY;
            case Watch.Order ignored -> ORDER_REPLAY;
        };
        return pool.preparedQuery(sql).execute(Tuple.of(watch.id(), owner, after, upTo, limit)).map(rows -> {
            long minRetained = 0;
            List<ChangeRow> changes = new ArrayList<>();
            for (Row row : rows) {
                minRetained = row.getLong("min_position");
                if (row.getValue("position") != null) {
                    changes.add(change(row));
                }
            }
            return new Replay(minRetained, List.copyOf(changes));
        });
    }

    /** The oldest position the retention window keeps (see {@link #WINDOW_START}). */
    Future<Long> windowStart(PushSettings.Retention retention) {
        return pool.preparedQuery(WINDOW_START).execute(Tuple.of(retention.window().toMillis(), (long) retention.maxChanges()))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    /** Deletes one chunk of the changes below {@code position}, oldest first; answers how many were deleted. */
    Future<Integer> deleteBelow(long position, int chunk) {
        return pool.preparedQuery(DELETE_BELOW).execute(Tuple.of(position, (long) chunk)).map(RowSet::rowCount);
    }

    static List<ChangeRow> changes(RowSet<Row> rows) {
        List<ChangeRow> changes = new ArrayList<>(rows.size());
        rows.forEach(row -> changes.add(change(row)));
        return changes;
    }

    static ChangeRow change(Row row) {
        OffsetDateTime changedAt = row.getOffsetDateTime("changed_at");
        return new ChangeRow(row.getLong("position"), row.getUUID("order_id"), row.getUUID("customer_id"),
                row.getInteger("version"), row.getString("view"),
                changedAt == null ? null : changedAt.toInstant());
    }
}
