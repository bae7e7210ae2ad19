package dev.orders.command.store;

/** Every SQL statement of the event store, in one place. */
final class EventStoreSql {

    static final String APPEND = """
            INSERT INTO events (event_id, stream_type, stream_id, version, event_type, schema_version,
                                data, metadata, occurred_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8::text::jsonb, $9)""";

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
            SELECT version, schema_version, state::text AS state FROM snapshots WHERE stream_id = $1""";

    static final String SAVE_SNAPSHOT = """
            INSERT INTO snapshots (stream_id, stream_type, version, schema_version, state)
            VALUES ($1, $2, $3, $4, $5::text::jsonb)
            ON CONFLICT (stream_id) DO UPDATE
               SET version = excluded.version, schema_version = excluded.schema_version,
                   state = excluded.state, taken_at = now()
             WHERE snapshots.version < excluded.version OR snapshots.schema_version <> excluded.schema_version""";

    static final String COUNT_STREAM_EVENTS = "SELECT count(*) FROM events WHERE stream_id = $1";

    private EventStoreSql() {
    }
}
