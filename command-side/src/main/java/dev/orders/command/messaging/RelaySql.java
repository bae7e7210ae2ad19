package dev.orders.command.messaging;

/** Every SQL statement of the relay, in one place. */
final class RelaySql {

    /** The session advisory lock that makes one relay per database the active one ("relay" in ASCII). */
    static final long LEASE_KEY = 0x72656c6179L;

    static final String TRY_LEASE = "SELECT pg_try_advisory_lock($1)";

    static final String LISTEN = "LISTEN events_appended";

    static final String CHANNEL = "events_appended";

    /** Sent in autocommit by {@link AppendNotifier}, never inside an appending transaction. */
    static final String NOTIFY = "NOTIFY events_appended";

    static final String CHECKPOINT = """
            SELECT last_position, (SELECT coalesce(max(global_position), 0) FROM events) AS max_stamped
              FROM relay_checkpoint WHERE id = 1""";

    /**
     * The next unpublished events that can no longer be preceded by another: only rows written by a
     * transaction older than the oldest one still running. A transaction that took its id early and
     * commits late holds the relay back instead of being skipped. {@code $2, $3} is the (tx, id) of the
     * last row already read (sent, not yet stamped); rows become readable in (tx, id) order, so nothing
     * is skipped. Every result has at least one row: {@code blocked} says whether committed, unpublished
     * rows wait behind the horizon (at or above it), seen in the same snapshot; a row whose {@code id}
     * is null carries only that.
     */
    static final String READ_SAFE = """
            SELECT w.blocked, e.id, e.tx::text AS tx, e.event_id, e.stream_type, e.stream_id, e.version,
                   e.event_type, e.schema_version, e.data::text AS data, e.metadata::text AS metadata,
                   e.metadata->>'correlationId' AS correlation_id, e.metadata->>'traceparent' AS traceparent,
                   e.partition_key, e.occurred_at
              FROM (SELECT EXISTS (SELECT 1 FROM events
                                    WHERE global_position IS NULL
                                      AND tx >= pg_snapshot_xmin(pg_current_snapshot())) AS blocked) w
              LEFT JOIN LATERAL (
                    SELECT id, tx, event_id, stream_type, stream_id, version, event_type, schema_version,
                           data, metadata, occurred_at,
                           -- DomainEvent.partitionKey(), read without parsing: an order's customer, else the stream
                           CASE WHEN stream_type = 'order' THEN (data->>'customerId')::uuid
                                ELSE stream_id END AS partition_key
                      FROM events
                     WHERE global_position IS NULL AND tx < pg_snapshot_xmin(pg_current_snapshot())
                       AND (tx, id) > ($2::text::xid8, $3)
                     ORDER BY tx, id
                     LIMIT $1) e ON true
             ORDER BY e.tx, e.id""";

    /**
     * Records a published batch: advances the checkpoint from the position read (fenced) and stamps every
     * event's position, all or nothing, in one statement (a function of migration V7). A fence raises
     * {@link #FENCED}.
     */
    static final String RECORD_PUBLISHED = "SELECT relay_record_published($1, $2, $3, $4)";

    /** The SQLSTATE of a batch that another relay got to first. */
    static final String FENCED = "OR001";


    /**
     * Positions above the checkpoint were stamped by a store whose checkpoint did not follow (seen once
     * when an instance was closed in the middle of storing a batch): take them back, so the batch is
     * read again, gets the same positions in the same order, and is published again (consumers dedupe).
     */
    static final String UNSTAMP_ABOVE = "UPDATE events SET global_position = NULL WHERE global_position > $1";



    static final String LAG = """
            SELECT count(*) AS unpublished,
                   coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::float8 AS seconds_behind,
                   (SELECT last_position FROM relay_checkpoint WHERE id = 1) AS last_position
              FROM events WHERE global_position IS NULL""";

    /** The oldest transaction that holds a transaction id: it holds the relay's horizon back. */
    static final String OLDEST_WRITER = """
            SELECT pid, datname, state, extract(epoch FROM now() - xact_start)::float8 AS age_seconds,
                   left(query, 200) AS query
              FROM pg_stat_activity
             WHERE backend_xid IS NOT NULL AND state <> 'idle' AND pid <> pg_backend_pid()
             ORDER BY xact_start
             LIMIT 1""";

    private RelaySql() {
    }
}
