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
 * The push hub's reads of the order-change log ({@code order_changes}, in the schema of the query
 * side's connections). Each read that a subscriber's guarantees rest on is ONE statement, so that
 * the bounds it reports (newest and oldest retained position) and the rows come from one snapshot.
 */
final class PushStore {

    static final String COLUMNS = "position, order_id, customer_id, version, view::text AS view, changed_at";
    static final String BOUNDS =
            "(SELECT coalesce(max(position), 0) AS max_position, coalesce(min(position), 0) AS min_position"
                    + " FROM order_changes) b";

    static final String MAX_POSITION = "SELECT coalesce(max(position), 0) FROM order_changes";

    static final String CHANGES_AFTER = "SELECT " + COLUMNS
            + " FROM order_changes WHERE position > $1 ORDER BY position LIMIT $2";

    /** The latest change of each order of a customer, oldest first, as of the snapshot's bounds. */
    static final String CUSTOMER_STATE = "SELECT b.max_position, b.min_position, c.* FROM " + BOUNDS
            + " LEFT JOIN LATERAL (SELECT DISTINCT ON (order_id) " + COLUMNS
            + " FROM order_changes WHERE customer_id = $1 ORDER BY order_id, position DESC) c ON true"
            + " ORDER BY c.position";

    static final String ORDER_STATE = "SELECT b.max_position, b.min_position, c.* FROM " + BOUNDS
            + " LEFT JOIN LATERAL (SELECT " + COLUMNS
            + " FROM order_changes WHERE order_id = $1 ORDER BY position DESC LIMIT 1) c ON true";

    /** A customer's changes in (after, upTo], oldest first, at most $4 of them. */
    static final String CUSTOMER_REPLAY = "SELECT " + COLUMNS + " FROM order_changes"
            + " WHERE customer_id = $1 AND position > $2 AND position <= $3 ORDER BY position LIMIT $4";

    static final String ORDER_REPLAY = "SELECT " + COLUMNS + " FROM order_changes"
            + " WHERE order_id = $1 AND position > $2 AND position <= $3 ORDER BY position LIMIT $4";

    static final String CUSTOMER_HAS_ORDERS = "SELECT EXISTS (SELECT 1 FROM order_changes WHERE customer_id = $1)";

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

    Future<Snapshot> snapshot(Watch watch) {
        String sql = switch (watch) {
            case Watch.Customer ignored -> CUSTOMER_STATE;
            case Watch.Order ignored -> ORDER_STATE;
        };
        return pool.preparedQuery(sql).execute(Tuple.of(watch.id())).map(PushStore::snapshotOf);
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
    Future<List<ChangeRow>> replay(Watch watch, long after, long upTo, int limit) {
        String sql = switch (watch) {
            case Watch.Customer ignored -> CUSTOMER_REPLAY;
            case Watch.Order ignored -> ORDER_REPLAY;
        };
        return pool.preparedQuery(sql).execute(Tuple.of(watch.id(), after, upTo, limit)).map(PushStore::changes);
    }

    Future<Boolean> customerHasOrders(UUID customerId) {
        return pool.preparedQuery(CUSTOMER_HAS_ORDERS).execute(Tuple.of(customerId))
                .map(rows -> rows.iterator().next().getBoolean(0));
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
