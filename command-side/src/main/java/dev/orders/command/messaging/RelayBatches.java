package dev.orders.command.messaging;

import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;

/**
 * Takes the relay's state over, reads the next safe batch and, once Kafka acknowledged it, stores its positions
 * and the checkpoint. The relay is given its instance, so that a test can stand a failing store in its place.
 */
class RelayBatches {

    /** Where a relay that took the lease resumes: after the checkpoint's position and its event's (tx, id). */
    record Takeover(long resumePosition, Cursor resumeCursor) {
    }

    /** Where a read stopped: the (tx, id) of the last row read; {@link #START} before any row of the store. */
    record Cursor(String tx, long id) {
        static final Cursor START = new Cursor("0", 0);
    }

    /**
     * Events in publication order, positions {@code after + 1 ..} assigned.
     *
     * @param rows the events' (tx, id), in the same order
     * @param end  the cursor after the batch's last row (the cursor it was read from, when empty)
     */
    record Batch(long after, List<Cursor> rows, List<Outgoing> events, Cursor end) {

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

    /** Reads where to resume (see migration V11). */
    Future<Takeover> takeOver(SqlConnection connection) {
        return connection.query(RelaySql.TAKE_OVER).execute().map(rows -> {
            Row row = rows.iterator().next();
            return new Takeover(row.getLong("resume_position"),
                    new Cursor(row.getString("resume_tx"), row.getLong("resume_id")));
        });
    }

    /**
     * What a read found: the batch, and whether committed events wait behind the transaction horizon
     * (an older transaction still runs), so that reading again soon will find more.
     */
    record Read(Batch batch, boolean blocked) {
    }

    /**
     * The next at most {@code limit} safe events past {@code from}, numbered after position {@code after};
     * same rows, same positions on a re-read from the same cursor and position.
     */
    Future<Read> next(SqlConnection connection, long after, Cursor from, int limit) {
        return connection.preparedQuery(RelaySql.READ_SAFE).execute(Tuple.of(limit, from.tx(), from.id())).map(rows -> {
            List<Cursor> read = new ArrayList<>(rows.size());
            List<Outgoing> events = new ArrayList<>(rows.size());
            long position = after;
            boolean blocked = false;
            Cursor end = from;
            for (Row row : rows) {
                blocked = row.getBoolean("blocked");
                Long id = row.getLong("id");
                if (id != null) {
                    end = new Cursor(row.getString("tx"), id);
                    read.add(end);
                    events.add(outgoing(row, ++position));
                }
            }
            return new Read(new Batch(after, read, events, end), blocked);
        });
    }

    /** A row of {@link RelaySql#READ_SAFE} as it goes to Kafka: its JSON as stored, not parsed. */
    private static Outgoing outgoing(Row row, long position) {
        return new Outgoing(EventFeed.text(row, position), row.getString("correlation_id"), row.getString("traceparent"));
    }

    /**
     * In one statement, all or nothing: advances the checkpoint from {@code batch.after()} to the batch's last
     * event and stores its anchors; writes no event row.
     */
    Future<Void> store(SqlConnection connection, Batch batch) {
        List<Long> anchorPositions = new ArrayList<>();
        List<String> anchorTxs = new ArrayList<>();
        List<Long> anchorIds = new ArrayList<>();
        for (long position = batch.first() + Math.floorMod(-batch.first(), RelaySql.ANCHOR_EVERY);
             position <= batch.last(); position += RelaySql.ANCHOR_EVERY) {
            Cursor row = batch.rows().get((int) (position - batch.first()));
            anchorPositions.add(position);
            anchorTxs.add(row.tx());
            anchorIds.add(row.id());
        }
        return connection.preparedQuery(RelaySql.RECORD_PUBLISHED)
                .execute(Tuple.tuple().addLong(batch.after()).addLong(batch.last()).addString(batch.end().tx())
                        .addLong(batch.end().id()).addArrayOfLong(anchorPositions.toArray(Long[]::new))
                        .addArrayOfString(anchorTxs.toArray(String[]::new))
                        .addArrayOfLong(anchorIds.toArray(Long[]::new)))
                .<Void>mapEmpty()
                .recover(failure -> Future.failedFuture(failure instanceof PgException pg
                        && RelaySql.FENCED.equals(pg.getSqlState()) ? new FencedException(pg.getErrorMessage()) : failure));
    }
}
