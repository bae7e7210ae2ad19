package dev.orders.query.store;

/** Every SQL statement of the query side's store, by name. The schema is in {@code db/query/V*.sql}. */
final class Sql {

    private Sql() {
    }

    static final String ORDER_COLUMNS =
            "order_id, customer_id, status, total_amount, currency, reason, version, created_at, updated_at, needs_attention";
    static final String CUSTOMER_COLUMNS = "customer_id, name, credit_limit, currency, credit_reserved, version";
    static final String EVENT_COLUMNS =
            "global_position, event_id, stream_type, stream_id, version, type, schema_version, occurred_at, data, metadata";

    // --- the projector's transaction ---------------------------------------------------------------

    /**
     * Records events once; answers the ids that were new. Arrays: one element per event. A duplicate is
     * the same event id; another event at a position already held fails the statement (the primary key),
     * it is never taken for a duplicate.
     */
    static final String INSERT_EVENTS = """
            INSERT INTO event_log (global_position, event_id, stream_type, stream_id, version, type, schema_version,
                                   occurred_at, data, metadata)
            SELECT p, e, st, s, v, t, sv, o, d::jsonb, m::jsonb
              FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::uuid[], $5::int[], $6::text[], $7::int[],
                          $8::timestamptz[], $9::text[], $10::text[]) AS x(p, e, st, s, v, t, sv, o, d, m)
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id""";

    // --- a batch folded on remembered views: checks sent ahead of its writes (V5, projection_expect) -------

    /** {@link #INSERT_EVENTS}, failing unless every event of the batch was new. */
    static final String EXPECT_NEW_EVENTS = "WITH recorded AS (" + INSERT_EVENTS + ")\n"
            + "SELECT projection_expect(count(*) = cardinality($1::bigint[]), 'an event of the batch was recorded before')"
            + " FROM recorded";

    /**
     * Locks the order views of {@code $11} (every order of the batch) like {@link #LOCK_ORDERS}, failing unless
     * they are exactly the views {@code $1..$10} ({@link #UPSERT_ORDERS}'s arrays): none more, none fewer, none
     * different.
     */
    static final String EXPECT_ORDERS = "WITH locked AS (SELECT " + ORDER_COLUMNS + """
             FROM order_view WHERE order_id = ANY($11::uuid[]) ORDER BY order_id FOR UPDATE
            ), expected AS (
              SELECT o, c, s, a::numeric AS a, cur, r, v, ca, ua, na
                FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                            $8::timestamptz[], $9::timestamptz[], $10::bool[]) AS x(o, c, s, a, cur, r, v, ca, ua, na)
            )
            SELECT projection_expect(NOT EXISTS (
              SELECT 1 FROM locked l FULL JOIN expected e ON l.order_id = e.o
               WHERE l.order_id IS NULL OR e.o IS NULL
                  OR (l.customer_id, l.status, l.total_amount, l.currency, l.reason, l.version, l.created_at,
                      l.updated_at, l.needs_attention) IS DISTINCT FROM (e.c, e.s, e.a, e.cur, e.r, e.v, e.ca, e.ua, e.na)
            ), 'an order view is not the one remembered')""";

    /** {@link #EXPECT_ORDERS} for customer views: {@code $7} every customer, {@code $1..$6} the views expected. */
    static final String EXPECT_CUSTOMERS = "WITH locked AS (SELECT " + CUSTOMER_COLUMNS + """
             FROM customer_view WHERE customer_id = ANY($7::uuid[]) ORDER BY customer_id FOR UPDATE
            ), expected AS (
              SELECT c, n, l::numeric AS l, cur, r::numeric AS r, v
                FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[]) AS x(c, n, l, cur, r, v)
            )
            SELECT projection_expect(NOT EXISTS (
              SELECT 1 FROM locked k FULL JOIN expected e ON k.customer_id = e.c
               WHERE k.customer_id IS NULL OR e.c IS NULL
                  OR (k.name, k.credit_limit, k.currency, k.credit_reserved, k.version)
                     IS DISTINCT FROM (e.n, e.l, e.cur, e.r, e.v)
            ), 'a customer view is not the one remembered')""";

    /** Fails when a dead letter of one of these streams ({@code $1}, their ids as text) waits for a re-drive. */
    static final String EXPECT_NO_PENDING_DEAD_LETTERS = """
            SELECT projection_expect(NOT EXISTS (
              SELECT 1 FROM dead_letters WHERE redriven_at IS NULL AND key = ANY($1::text[])
            ), 'a dead letter of the batch''s orders waits for a re-drive')""";

    /** Locks in id order, so that two transactions over the same views wait instead of deadlocking. */
    static final String LOCK_ORDERS = "SELECT " + ORDER_COLUMNS
            + " FROM order_view WHERE order_id = ANY($1::uuid[]) ORDER BY order_id FOR UPDATE";
    static final String LOCK_CUSTOMERS = "SELECT " + CUSTOMER_COLUMNS
            + " FROM customer_view WHERE customer_id = ANY($1::uuid[]) ORDER BY customer_id FOR UPDATE";

    static final String STREAM_EVENTS = "SELECT " + EVENT_COLUMNS + " FROM event_log WHERE stream_id = $1 ORDER BY version";

    /** The events of several streams, for re-folds: by stream, oldest first. */
    static final String STREAMS_EVENTS = "SELECT " + EVENT_COLUMNS
            + " FROM event_log WHERE stream_id = ANY($1::uuid[]) ORDER BY stream_id, version";

    // --- a rebuild's fold (on its own tables, see RebuildStore.onNext) -------------------------------

    /** Views of a page's streams, without row locks: only the rebuild writes its tables. */
    static final String ORDERS_BY_IDS = "SELECT " + ORDER_COLUMNS + " FROM order_view WHERE order_id = ANY($1::uuid[])";
    static final String CUSTOMERS_BY_IDS = "SELECT " + CUSTOMER_COLUMNS
            + " FROM customer_view WHERE customer_id = ANY($1::uuid[])";

    /** Order views, many rows in one statement. Arrays: one element per view; amounts as text. */
    static final String UPSERT_ORDERS = "INSERT INTO order_view (" + ORDER_COLUMNS + ")\n" + """
            SELECT o, c, s, a::numeric, cur, r, v, ca, ua, na
              FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                          $8::timestamptz[], $9::timestamptz[], $10::bool[]) AS x(o, c, s, a, cur, r, v, ca, ua, na)
            ON CONFLICT (order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, status = EXCLUDED.status,
              total_amount = EXCLUDED.total_amount, currency = EXCLUDED.currency, reason = EXCLUDED.reason,
              version = EXCLUDED.version, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
              needs_attention = EXCLUDED.needs_attention""";

    /** Customer views, many rows in one statement. Arrays: one element per view; amounts as text. */
    static final String UPSERT_CUSTOMERS = """
            INSERT INTO customer_view (customer_id, name, credit_limit, currency, credit_reserved, version)
            SELECT c, n, l::numeric, cur, r::numeric, v
              FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[]) AS x(c, n, l, cur, r, v)
            ON CONFLICT (customer_id) DO UPDATE SET name = EXCLUDED.name, credit_limit = EXCLUDED.credit_limit,
              currency = EXCLUDED.currency, credit_reserved = EXCLUDED.credit_reserved, version = EXCLUDED.version""";

    /** The order-change log (the push hub's contract), and its notification in the same transaction. */
    static final String LOCK_CHANGE_LOG = "SELECT pg_advisory_xact_lock(hashtext('query.order_changes'))";
    /**
     * Many changes in one statement, positions taken in the order given (ordinality), and the newest of each
     * order made its latest change, never moving an order back to an older one. Arrays: one element per change.
     * Answers the rows written as the push hub reads them from the log (the view as jsonb's text), so that this
     * process's follower can push them straight after the commit. One statement, not two: the latest changes
     * are taken from the rows just written, with no second look-up of the log, and the plan does not depend on
     * the arrays, so PostgreSQL keeps one generic plan for it instead of planning every call.
     */
    static final String INSERT_CHANGES = """
            WITH written AS (
              INSERT INTO order_changes (global_position, order_id, customer_id, version, view, changed_at)
              SELECT g, o, c, v, w::jsonb, now()
                FROM unnest($1::bigint[], $2::uuid[], $3::uuid[], $4::int[], $5::text[]) WITH ORDINALITY AS x(g, o, c, v, w, n)
               ORDER BY n
              ON CONFLICT (global_position) DO NOTHING
              RETURNING position, order_id, customer_id, version, view, changed_at
            ), latest AS (
              INSERT INTO latest_order_changes (order_id, customer_id, position, version, view, changed_at)
              SELECT DISTINCT ON (order_id) order_id, customer_id, position, version, view, changed_at
                FROM written
               ORDER BY order_id, position DESC
              ON CONFLICT (order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, position = EXCLUDED.position,
                version = EXCLUDED.version, view = EXCLUDED.view, changed_at = EXCLUDED.changed_at
               WHERE latest_order_changes.position < EXCLUDED.position
            )
            SELECT position, order_id, customer_id, version, view::text AS view, changed_at FROM written""";
    /**
     * A wake-up for other nodes' followers, sent after commit (not inside the transaction, where NOTIFY
     * serialises commits): the highest position committed; followers read every position after theirs.
     */
    static final String NOTIFY_CHANGES = "SELECT pg_notify('order_changes', $1)";

    static final String INSERT_DEAD_LETTER = """
            INSERT INTO dead_letters (topic, partition, "offset", key, error, payload)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (topic, partition, "offset") DO NOTHING""";
    static final String MARK_ATTENTION = "UPDATE order_view SET needs_attention = true WHERE order_id = ANY($1::uuid[])";
    static final String PENDING_DEAD_LETTER_KEYS =
            "SELECT DISTINCT key FROM dead_letters WHERE redriven_at IS NULL AND key = ANY($1::text[])";

    /**
     * Every partition's checkpoint of a batch in one statement. Arrays: one element per topic-partition, each
     * partition once (a statement may not update one row twice).
     */
    static final String UPSERT_CHECKPOINTS = """
            INSERT INTO projector_checkpoint (topic, partition, next_offset, last_position, last_occurred_at, updated_at)
            SELECT t, p, n, l, o, now()
              FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::timestamptz[]) AS x(t, p, n, l, o)
            ON CONFLICT (topic, partition) DO UPDATE SET
              next_offset = GREATEST(projector_checkpoint.next_offset, EXCLUDED.next_offset),
              last_position = GREATEST(projector_checkpoint.last_position, EXCLUDED.last_position),
              last_occurred_at = GREATEST(projector_checkpoint.last_occurred_at, EXCLUDED.last_occurred_at),
              updated_at = now()""";

    // --- dead letters ----------------------------------------------------------------------------------

    static final String DEAD_LETTER_COLUMNS = "id, topic, partition, \"offset\", key, error, payload, parked_at, redriven_at";
    static final String PENDING_DEAD_LETTERS = "SELECT count(*) FROM dead_letters WHERE redriven_at IS NULL";
    static final String LIST_DEAD_LETTERS = "SELECT " + DEAD_LETTER_COLUMNS
            + " FROM dead_letters WHERE id > $1 ORDER BY id LIMIT $2";
    static final String LOCK_DEAD_LETTER = "SELECT " + DEAD_LETTER_COLUMNS + " FROM dead_letters WHERE id = $1 FOR UPDATE";
    static final String MARK_REDRIVEN = "UPDATE dead_letters SET redriven_at = now(), payload = $2 WHERE id = $1";
    static final String UPDATE_DEAD_LETTER_ERROR = "UPDATE dead_letters SET error = $2, payload = $3 WHERE id = $1";

    // --- queries ---------------------------------------------------------------------------------------

    static final String ORDER_BY_ID = "SELECT " + ORDER_COLUMNS + " FROM order_view WHERE order_id = $1";
    static final String ORDER_VERSION = "SELECT version FROM order_view WHERE order_id = $1";
    static final String CUSTOMER_BY_ID = "SELECT " + CUSTOMER_COLUMNS + " FROM customer_view WHERE customer_id = $1";
    static final String CUSTOMER_EXISTS = "SELECT 1 FROM customer_view WHERE customer_id = $1";

    static final String ORDER_EVENTS = "SELECT " + EVENT_COLUMNS
            + " FROM event_log WHERE stream_id = $1 AND stream_type = 'order' ORDER BY version";
    /**
     * An order's events as of an instant: every version up to the newest one stamped at or before it.
     * {@code occurred_at} comes from the clock of whichever node wrote the event, so it may go backwards
     * between versions; the writer of version k had seen versions 1..k-1, so they all happened by then.
     * The answer is always a prefix of the stream in version order, never a fold with a version left out.
     */
    static final String ORDER_EVENTS_AS_OF = "SELECT " + EVENT_COLUMNS + """
             FROM event_log
            WHERE stream_id = $1 AND stream_type = 'order'
              AND version <= (SELECT max(version) FROM event_log
                               WHERE stream_id = $1 AND stream_type = 'order' AND occurred_at <= $2)
            ORDER BY version""";

    /** Newest first; keyset paging on (created_at, order_id). */
    static final String ORDERS_OF_CUSTOMER = "SELECT " + ORDER_COLUMNS + """
             FROM order_view
            WHERE customer_id = $1
              AND ($2::text IS NULL OR status = $2::text)
              AND ($3::timestamptz IS NULL OR (created_at, order_id) < ($3::timestamptz, $4::uuid))
            ORDER BY created_at DESC, order_id DESC
            LIMIT $5""";

    /** Every customer's orders, newest first, optionally of one status; keyset paging on (created_at, order_id). */
    static final String ORDERS_NEWEST_FIRST = "SELECT " + ORDER_COLUMNS + """
             FROM order_view
            WHERE ($1::text IS NULL OR status = $1::text)
              AND ($2::timestamptz IS NULL OR (created_at, order_id) < ($2::timestamptz, $3::uuid))
            ORDER BY created_at DESC, order_id DESC
            LIMIT $4""";

    /** How many orders each status has. */
    static final String ORDER_COUNTS_BY_STATUS = "SELECT status, count(*) AS orders FROM order_view GROUP BY status";

    /** Highest available credit first; keyset paging on (available credit, customer_id). */
    static final String CUSTOMERS_BY_AVAILABLE_CREDIT = "SELECT " + CUSTOMER_COLUMNS + """
             FROM customer_view
            WHERE (credit_limit - credit_reserved) >= $1::numeric
              AND ($2::text IS NULL OR currency = $2::text)
              AND ($3::numeric IS NULL OR ((credit_limit - credit_reserved), customer_id) < ($3::numeric, $4::uuid))
            ORDER BY (credit_limit - credit_reserved) DESC, customer_id DESC
            LIMIT $5""";

    // --- lag ---------------------------------------------------------------------------------------------

    /** The projector's checkpoints of some topics: where a newly assigned partition resumes. */
    static final String CHECKPOINTS_OF_TOPICS =
            "SELECT topic, partition, next_offset FROM projector_checkpoint WHERE topic = ANY($1::text[])";
    static final String CHECKPOINTS = "SELECT topic, partition, next_offset, last_position, last_occurred_at FROM projector_checkpoint";
    static final String PING = "SELECT 1";

    // --- a lost schema (see SchemaRecovery) ----------------------------------------------------------

    /**
     * Whether the connection's schema exists ({@code current_schema()} is the first schema of the search
     * path that does) and holds the tables the query side cannot run without (the views, the order-change
     * log).
     */
    static final String SCHEMA_STATE = """
            SELECT current_schema() IS NOT NULL AS present,
                   to_regclass('order_view') IS NOT NULL AND to_regclass('order_changes') IS NOT NULL AND to_regclass('latest_order_changes') IS NOT NULL
                   AS intact""";

    /** Whether the read model has projected nothing yet: no checkpoint, no event (a new or recreated schema). */
    static final String PROJECTED_NOTHING = """
            SELECT NOT EXISTS (SELECT 1 FROM projector_checkpoint) AND NOT EXISTS (SELECT 1 FROM event_log)
                   AS nothing""";

    /** Moves the order-change log's next position past {@code $1} (never back): a recreated log's first ids. */
    static final String RAISE_CHANGE_POSITIONS = """
            SELECT setval('order_change_position',
                          GREATEST($1::bigint, (SELECT coalesce(max(position), 0) FROM order_changes)))""";
}
