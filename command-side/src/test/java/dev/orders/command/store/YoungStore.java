package dev.orders.command.store;

/**
 * A store in its first minutes, for tests of what a statement costs before autovacuum's first ANALYZE of the events
 * table: autovacuum kept off it, and events written as the command side writes them, a few per transaction.
 */
public final class YoungStore {

    /** Keeps autovacuum, and so its ANALYZE, off the events table until a test asks for statistics itself. */
    public static final String NO_AUTOVACUUM = "ALTER TABLE events SET (autovacuum_enabled = false)";

    private static final String FILL = """
            DO $$
            BEGIN
              FOR i IN 1..%d LOOP
                INSERT INTO events (event_id, stream_type, stream_id, version, event_type, schema_version, data,
                                    metadata, occurred_at)
                SELECT gen_random_uuid(), 'customer', s, v, 'CreditReserved', 1,
                       '{"customerId":"00000000-0000-0000-0000-000000000000","amount":"1.00"}', '{}', now()
                  FROM (SELECT gen_random_uuid() AS s) stream, generate_series(1, 4) AS v;
                COMMIT;
              END LOOP;
            END $$""";

    private YoungStore() {
    }

    /**
     * Writes {@code transactions} transactions of four events of a new stream each, one committed after the other
     * (run it outside a transaction block).
     */
    public static String fill(int transactions) {
        return FILL.formatted(transactions);
    }
}
