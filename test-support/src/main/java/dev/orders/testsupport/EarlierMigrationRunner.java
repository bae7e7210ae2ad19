package dev.orders.testsupport;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The project's migration runner before Flyway, kept as it was so that tests can build a schema the way
 * a released build left it: each script applied once, in order, in one transaction, its version recorded
 * in {@code schema_migrations} of the connection's schema (no checksums), under an advisory lock.
 */
public final class EarlierMigrationRunner {

    private static final String CREATE_TABLE = """
            CREATE TABLE IF NOT EXISTS schema_migrations (
              version     int PRIMARY KEY,
              description text NOT NULL,
              applied_at  timestamptz NOT NULL DEFAULT now())""";
    private static final String APPLIED = "SELECT version FROM schema_migrations";
    private static final String RECORD = "INSERT INTO schema_migrations (version, description) VALUES ($1, $2)";
    private static final String LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.schema_migrations'))";

    /** One script: its version, a description, and the classpath resource holding its SQL. */
    public record Script(int version, String description, String resource) {
    }

    /** The command side's scripts as the earlier runner listed them. */
    public static final List<Script> COMMAND = List.of(
            new Script(1, "event store", "db/command/V1__event_store.sql"),
            new Script(2, "relay checkpoint", "db/command/V2__relay.sql"),
            new Script(3, "saga deadlines", "db/command/V3__saga.sql"),
            new Script(4, "idempotency keys per caller", "db/command/V4__idempotency_per_caller.sql"),
            new Script(5, "relay woken outside the appending commit", "db/command/V5__relay_wakeup_outside_commit.sql"),
            new Script(6, "deadlines armed when the saga asks", "db/command/V6__deadlines_armed_when_asked.sql"),
            new Script(7, "relay records a batch in one statement", "db/command/V7__relay_store_in_one_statement.sql"),
            new Script(8, "relay repairs both directions at takeover", "db/command/V8__relay_takeover_repair.sql"),
            new Script(10, "saga dead letters", "db/command/V10__saga_dead_letters.sql"));

    /** The query side's scripts as the earlier runner listed them. */
    public static final List<Script> QUERY = List.of(
            new Script(1, "read model", "db/query/V1__read_model.sql"),
            new Script(2, "latest order changes", "db/query/V2__latest_order_changes.sql"),
            new Script(4, "orders by status", "db/query/V4__orders_by_status.sql"));

    private EarlierMigrationRunner() {
    }

    /** Applies every one of {@code scripts} not applied yet; succeeds with the number applied. */
    public static Future<Integer> migrate(Pool pool, List<Script> scripts) {
        return pool.withTransaction(conn -> conn.query(LOCK).execute()
                .compose(ignored -> conn.query(CREATE_TABLE).execute())
                .compose(ignored -> conn.query(APPLIED).execute())
                .compose(rows -> {
                    List<Integer> applied = new ArrayList<>();
                    rows.forEach(row -> applied.add(row.getInteger(0)));
                    Future<Integer> chain = Future.succeededFuture(0);
                    for (Script script : scripts) {
                        if (!applied.contains(script.version())) {
                            chain = chain.compose(count -> apply(conn, script).map(count + 1));
                        }
                    }
                    return chain;
                }));
    }

    private static Future<Void> apply(SqlConnection conn, Script script) {
        return conn.query(read(script.resource())).execute()
                .compose(ignored -> conn.preparedQuery(RECORD).execute(Tuple.of(script.version(), script.description())))
                .mapEmpty();
    }

    private static String read(String resource) {
        try (InputStream in = EarlierMigrationRunner.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("migration script not on the classpath: " + resource);
            }
            return Buffer.buffer(in.readAllBytes()).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
