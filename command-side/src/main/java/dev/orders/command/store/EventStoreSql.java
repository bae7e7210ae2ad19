package dev.orders.command.store;

/** Every SQL statement of the event store, in one place. */
final class EventStoreSql {

    static final String APPEND = """
            INSERT INTO events (event_id, stream_type, stream_id, version, event_type, schema_version,
                                data, metadata, occurred_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8::text::jsonb, $9)""";

    /**
     * Events of many streams in one statement, in the order given (the relay publishes a transaction's
     * rows in id order, so each stream's events must take their ids in version order).
     */
    static final String APPEND_MANY = """
            INSERT INTO events (event_id, stream_type, stream_id, version, event_type, schema_version,
                                data, metadata, occurred_at)
            SELECT e, t, s, v, y, sv, d::jsonb, m::jsonb, o
              FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::int[], $5::text[], $6::int[], $7::text[],
                          $8::text[], $9::timestamptz[]) WITH ORDINALITY AS u(e, t, s, v, y, sv, d, m, o, n)
             ORDER BY n""";

    /** The events of many streams, each after its own version, ordered by stream and version. */
    static final String LOAD_MANY_AFTER = """
            SELECT e.stream_id, e.event_id, e.version, e.global_position, e.event_type, e.schema_version,
                   e.data::text AS data, e.metadata::text AS metadata, e.occurred_at
              FROM unnest($1::uuid[], $2::int[]) AS a(stream_id, after)
              JOIN events e ON e.stream_id = a.stream_id AND e.version > a.after
             ORDER BY e.stream_id, e.version""";

    /**
     * Fails (a function of migration V9) when one of the event ids is stored already ({@link #APPLIED_BEFORE}), or
     * when one of the streams is not at the version given ({@link #MOVED}); sent inside an appending transaction.
     */
    static final String REQUIRE_CURRENT = "SELECT batch_require_current($1, $2, $3)";

    /** The SQLSTATE of {@link #REQUIRE_CURRENT} when a command was applied before. */
    static final String APPLIED_BEFORE = "OR002";

    /** The SQLSTATE of {@link #REQUIRE_CURRENT} when a stream moved; its detail names the stream. */
    static final String MOVED = "OR003";

    /** Which of these event ids are stored already. */
    static final String EXISTING_EVENT_IDS = "SELECT event_id FROM events WHERE event_id = ANY($1::uuid[])";

    static final String LOAD_SNAPSHOTS = """
            SELECT stream_id, version, schema_version, state FROM snapshots
             WHERE stream_id = ANY($1::uuid[])""";

    static final String LOAD_AFTER = """
            SELECT event_id, version, global_position, event_type, schema_version, data::text AS data,
                   metadata::text AS metadata, occurred_at
              FROM events
             WHERE stream_id = $1 AND version > $2
             ORDER BY version""";

    static final String FIRST_EVENT = """
            SELECT event_id, version, global_position, event_type, schema_version, data::text AS data,
                   metadata::text AS metadata, occurred_at
              FROM events
             WHERE stream_id = $1 AND version = 1""";

    static final String CURRENT_VERSION = "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1";

    static final String LOAD_SNAPSHOT = """
            SELECT version, schema_version, state FROM snapshots WHERE stream_id = $1""";

    static final String SAVE_SNAPSHOT = """
            INSERT INTO snapshots (stream_id, stream_type, version, schema_version, state)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (stream_id) DO UPDATE
               SET version = excluded.version, schema_version = excluded.schema_version,
                   state = excluded.state, taken_at = now()
             WHERE snapshots.version < excluded.version OR snapshots.schema_version <> excluded.schema_version""";

    private EventStoreSql() {
    }
}
