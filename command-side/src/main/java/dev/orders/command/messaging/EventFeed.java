package dev.orders.command.messaging;

import dev.orders.events.EventText;
import dev.orders.events.StreamType;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * The catch-up read of the event store by global position: what the relay has published, in the order
 * it published it. A rebuild reads pages of it where Kafka's retention does not reach back far enough.
 */
public final class EventFeed {

    /**
     * Published events by position (a function of migration V11: positions up to the relay's checkpoint, each
     * the event's place in publication order). {@code data} and {@code metadata} come as text: the feed passes
     * them on as they are ({@link #text}), and an envelope decodes them itself, so the client's own decoding of
     * {@code jsonb} into objects would be wasted work.
     */
    static final String READ_PUBLISHED = """
            SELECT event_id, stream_type, stream_id, version, global_position, event_type, schema_version,
                   data::text AS data, metadata::text AS metadata, occurred_at, """ + RelaySql.PARTITION_KEY + """
                    AS partition_key
              FROM published_events($1, $2)""";

    /**
     * Published events by position, above {@code afterPosition} (the last one the reader has; 0 for the start), at
     * most {@code limit}, gap-free: rows to pass on as they are ({@link #text}), off the event loop when there are
     * many.
     */
    public Future<RowSet<Row>> readPublishedRows(SqlClient client, long afterPosition, int limit) {
        if (limit < 1) {
            return Future.failedFuture(new IllegalArgumentException("limit must be at least 1, was " + limit));
        }
        return client.preparedQuery(READ_PUBLISHED).execute(Tuple.of(afterPosition, limit));
    }

    /**
     * One row of {@link #readPublishedRows} as stored, its JSON not parsed: written with {@code EventJson.encode},
     * the very envelope the relay published for it ({@code data} in the schema it was stored in; readers upcast).
     */
    public static EventText text(Row row) {
        return text(row, row.getLong("global_position"));
    }

    /**
     * A stored event's row (the columns of the events table, {@code data} and {@code metadata} as text, and its
     * {@code partition_key}, {@link RelaySql#PARTITION_KEY}) at a position: what the relay and the feed write out.
     */
    static EventText text(Row row, long position) {
        return new EventText(row.getUUID("event_id"), StreamType.fromWireName(row.getString("stream_type")),
                row.getUUID("stream_id"), row.getInteger("version"), position, row.getString("event_type"),
                row.getInteger("schema_version"), row.getOffsetDateTime("occurred_at").toInstant(),
                row.getUUID("partition_key"), row.getString("metadata"), row.getString("data"));
    }
}
