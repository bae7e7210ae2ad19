package dev.orders.command.messaging;

import dev.orders.command.store.EventStore;
import dev.orders.events.EventEnvelope;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;

/**
 * The catch-up read of the event store by global position: what the relay has published, in the order
 * it published it. A rebuild reads pages of it where Kafka's retention does not reach back far enough.
 */
public final class EventFeed {

    /**
     * @param afterPosition the last position the reader has; 0 for the start
     * @param limit         at most this many events
     * @return published events with a position above {@code afterPosition}, by position, gap-free
     */
    public Future<List<EventEnvelope>> readPublished(SqlClient client, long afterPosition, int limit) {
        if (limit < 1) {
            return Future.failedFuture(new IllegalArgumentException("limit must be at least 1, was " + limit));
        }
        return client.preparedQuery(RelaySql.READ_PUBLISHED).execute(Tuple.of(afterPosition, limit)).map(rows -> {
            List<EventEnvelope> events = new ArrayList<>(rows.size());
            for (Row row : rows) {
                events.add(EventStore.toEnvelope(row, row.getLong("global_position")));
            }
            return events;
        });
    }
}
