package dev.orders.command.messaging;

import dev.orders.command.store.EventStore;
import dev.orders.events.EventEnvelope;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;

/** Reads the next safe batch and, once Kafka acknowledged it, stores its positions and the checkpoint. */
final class RelayBatches {

    /** What a checkpoint read found: the stored checkpoint and the highest position stamped on an event. */
    record Checkpoint(long lastPosition, long maxStamped) {
    }

    /**
     * Events in publication order, positions {@code after + 1 ..} assigned.
     *
     * @param rowIds the events' row ids, in the same order
     */
    record Batch(long after, List<Long> rowIds, List<EventEnvelope> events) {

        long first() {
            return after + 1;
        }

        long last() {
            return after + events.size();
        }

        int size() {
            return events.size();
        }
    }

    /** Positions were taken meanwhile by someone else: this relay is not (any more) the only one. */
    static final class FencedException extends RuntimeException {
        FencedException(String message) {
            super(message, null, false, false);
        }
    }

    Future<Checkpoint> checkpoint(SqlConnection connection) {
        return connection.query(RelaySql.CHECKPOINT).execute().map(rows -> {
            Row row = rows.iterator().next();
            return new Checkpoint(row.getLong("last_position"), row.getLong("max_stamped"));
        });
    }

    /** Takes back positions stamped above the checkpoint; succeeds with how many there were. */
    Future<Integer> unstampAbove(SqlConnection connection, long checkpoint) {
        return connection.preparedQuery(RelaySql.UNSTAMP_ABOVE).execute(Tuple.of(checkpoint)).map(rows -> rows.rowCount());
    }

    /** The next at most {@code limit} safe events after position {@code after}; same rows, same positions on a re-read. */
    Future<Batch> next(SqlConnection connection, long after, int limit) {
        return connection.preparedQuery(RelaySql.READ_SAFE).execute(Tuple.of(limit)).map(rows -> {
            List<Long> ids = new ArrayList<>(rows.size());
            List<EventEnvelope> events = new ArrayList<>(rows.size());
            long position = after;
            for (Row row : rows) {
                ids.add(row.getLong("id"));
                events.add(EventStore.toEnvelope(row, ++position));
            }
            return new Batch(after, ids, events);
        });
    }

    /** In one transaction: stamps the batch's positions and advances the checkpoint from {@code batch.after()}. */
    Future<Void> store(SqlConnection connection, Batch batch) {
        Long[] ids = batch.rowIds().toArray(Long[]::new);
        Long[] positions = batch.events().stream().map(EventEnvelope::globalPosition).toArray(Long[]::new);
        return connection.begin().compose(tx -> connection.preparedQuery(RelaySql.STAMP)
                .execute(Tuple.tuple().addArrayOfLong(ids).addArrayOfLong(positions))
                .compose(stamped -> stamped.rowCount() == ids.length ? Future.succeededFuture()
                        : Future.failedFuture(new FencedException((ids.length - stamped.rowCount())
                        + " events of the batch were stamped by another relay")))
                .compose(ignored -> connection.preparedQuery(RelaySql.ADVANCE)
                        .execute(Tuple.of(batch.after(), batch.last())))
                .compose(advanced -> advanced.rowCount() == 1 ? tx.commit()
                        : Future.failedFuture(new FencedException("the checkpoint moved away from " + batch.after())))
                .recover(failure -> tx.rollback().transform(ignored -> Future.failedFuture(failure))));
    }
}
