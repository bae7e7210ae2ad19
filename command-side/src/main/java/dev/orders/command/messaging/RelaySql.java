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

    /**
     * The first statement of a relay that took the lease: where to resume, the checkpoint's position and the
     * (tx, id) of its event (a function of migration V11).
     */
    static final String TAKE_OVER = "SELECT resume_position, resume_tx, resume_id FROM relay_take_over()";

    /**
     * {@code DomainEvent.partitionKey()} of a stored event, read without parsing it: an order's customer, else the
     * stream. The Kafka key of what the relay publishes, and the key of the event feed's texts.
     */
    static final String PARTITION_KEY = "CASE WHEN stream_type = 'order' THEN (data->>'customerId')::uuid ELSE stream_id END";

    /**
     * The next unpublished events that can no longer be preceded by another: only rows written by a
     * transaction older than the oldest one still running, past the (tx, id) {@code $2, $3} of the last row
     * already read (the checkpoint's, or the last one sent). Every transaction below that horizon has ended,
     * so no row can appear before a row read: the rows in (tx, id) order are a fixed sequence, the same on
     * every read, and an event's position is its place in it. A transaction that took its id early and commits
     * late holds the relay back instead of being skipped. Every result has at least one row: {@code blocked}
     * says whether committed rows wait behind the horizon (at or above it), seen in the same snapshot; a row
     * whose {@code id} is null carries only that. It is asked as the newest row's {@code tx} (one step down the
     * (tx, id) index), not as {@code EXISTS (... WHERE tx >= horizon)}: the planner cannot know the horizon, guesses
     * that a third of the table matches, and answers that with a sequential scan of the whole store, on every read.
     */
    static final String READ_SAFE = """
            SELECT w.blocked, e.id, e.tx::text AS tx, e.event_id, e.stream_type, e.stream_id, e.version,
                   e.event_type, e.schema_version, e.data::text AS data, e.metadata::text AS metadata,
                   e.metadata->>'correlationId' AS correlation_id, e.metadata->>'traceparent' AS traceparent,
                   e.partition_key, e.occurred_at
              FROM (SELECT coalesce((SELECT max(tx) FROM events) >= pg_snapshot_xmin(pg_current_snapshot()),
                                    false) AS blocked) w
              LEFT JOIN LATERAL (
                    SELECT id, tx, event_id, stream_type, stream_id, version, event_type, schema_version,
                           data, metadata, occurred_at, """ + PARTITION_KEY + """
                           AS partition_key
                      FROM events
                     WHERE tx < pg_snapshot_xmin(pg_current_snapshot()) AND (tx, id) > ($2::text::xid8, $3)
                     ORDER BY tx, id
                     LIMIT $1) e ON true
             ORDER BY e.tx, e.id""";

    /**
     * Records a published batch: advances the checkpoint from the position read to the batch's last position
     * and the (tx, id) of its event, fenced, and stores the batch's anchors (the (tx, id) of each event at a
     * multiple of {@link #ANCHOR_EVERY}), all or nothing, in one statement (a function of migration V11). No
     * event row is written. A fence raises {@link #FENCED}.
     */
    static final String RECORD_PUBLISHED = "SELECT relay_record_published($1, $2, $3, $4, $5, $6, $7)";

    /** Every this many positions the relay stores where the event is, so that a read by position starts near it. */
    static final int ANCHOR_EVERY = 100;

    /** The SQLSTATE of a batch that another relay got to first. */
    static final String FENCED = "OR001";


    /** {@code blocked}: committed events that wait behind the transaction horizon (an older transaction runs). */
    static final String LAG = """
            SELECT count(*) AS unpublished,
                   count(*) FILTER (WHERE tx >= pg_snapshot_xmin(pg_current_snapshot())) AS blocked,
                   coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::float8 AS seconds_behind,
                   (SELECT last_position FROM relay_checkpoint WHERE id = 1) AS last_position
              FROM unpublished_events""";

    /**
     * The oldest transaction that holds a transaction id anywhere on the server: it holds the relay's horizon
     * back. A session (any database, any application; seeing other roles' sessions takes
     * {@code pg_read_all_stats}) or a prepared transaction, whichever holds the oldest id.
     */
    static final String HORIZON_HOLDER = """
            SELECT pid, application_name, datname, state, gid,
                   extract(epoch FROM now() - since)::float8 AS age_seconds, query
              FROM (SELECT pid, application_name, datname, state, NULL::text AS gid, xact_start AS since,
                           left(query, 200) AS query, age(backend_xid) AS xid_age
                      FROM pg_stat_activity
                     WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
                    UNION ALL
                    SELECT NULL, NULL, database, 'prepared', gid, prepared, NULL, age(transaction)
                      FROM pg_prepared_xacts) holders
             ORDER BY xid_age DESC
             LIMIT 1""";

    private RelaySql() {
    }
}
