package dev.orders.query.push;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

import java.util.List;

/**
 * The operators' stream's reads of the order-change log: every customer's changes. Like
 * {@link PushStore}, each read that the stream's guarantees rest on is one statement, so that the bounds
 * and the rows come from one snapshot.
 */
final class OperatorStore {

    /** The newest $1 changes of the whole log, oldest first, with the log's bounds. */
    static final String RECENT = "SELECT b.max_position, b.min_position, c.* FROM " + PushStore.BOUNDS
            + " LEFT JOIN LATERAL (SELECT " + PushStore.COLUMNS
            + " FROM order_changes ORDER BY position DESC LIMIT $1) c ON true"
            + " ORDER BY c.position";

    /** Every change in (after, upTo], oldest first, at most $3 of them. */
    static final String REPLAY = "SELECT " + PushStore.COLUMNS + " FROM order_changes"
            + " WHERE position > $1 AND position <= $2 ORDER BY position LIMIT $3";

    private final Pool pool;

    OperatorStore(Pool pool) {
        this.pool = pool;
    }

    /** The newest {@code limit} changes as of the snapshot's newest position. */
    Future<PushStore.Snapshot> recent(int limit) {
        return pool.preparedQuery(RECENT).execute(Tuple.of(limit)).map(PushStore::snapshotOf);
    }

    Future<List<ChangeRow>> replay(long after, long upTo, int limit) {
        return pool.preparedQuery(REPLAY).execute(Tuple.of(after, upTo, limit)).map(PushStore::changes);
    }
}
