package dev.orders.service.sql;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Versioned schema migrations, applied by the service at start: each side lists its SQL scripts
 * (classpath resources), and each script runs once, in order, in its own transaction, recorded in
 * {@code schema_migrations} of the connection's schema. An advisory lock keeps two instances that
 * start together from applying the same script twice.
 */
public final class Migrations {

    private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);
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

    private final String side;
    private final List<Script> scripts;

    public Migrations(String side, List<Script> scripts) {
        this.side = side;
        this.scripts = List.copyOf(scripts);
    }

    /** Applies every script not applied yet; succeeds with the number applied. */
    public Future<Integer> migrate(Pool pool) {
        List<Script> loaded = new ArrayList<>(scripts);
        return pool.withTransaction(conn -> conn.query(LOCK).execute()
                .compose(ignored -> conn.query(CREATE_TABLE).execute())
                .compose(ignored -> conn.query(APPLIED).execute())
                .compose(rows -> {
                    List<Integer> applied = new ArrayList<>();
                    rows.forEach(row -> applied.add(row.getInteger(0)));
                    Future<Integer> chain = Future.succeededFuture(0);
                    for (Script script : loaded) {
                        if (!applied.contains(script.version())) {
                            chain = chain.compose(count -> apply(conn, script).map(count + 1));
                        }
                    }
                    return chain;
                }))
                .onSuccess(count -> LOG.info("{} schema: {} migration(s) applied, {} known", side, count, loaded.size()));
    }

    private Future<Void> apply(SqlConnection conn, Script script) {
        String sql = read(script.resource());
        LOG.info("{} schema: applying V{} {}", side, script.version(), script.description());
        return conn.query(sql).execute()
                .compose(ignored -> conn.preparedQuery(RECORD).execute(Tuple.of(script.version(), script.description())))
                .mapEmpty();
    }

    private static String read(String resource) {
        try (InputStream in = Migrations.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("migration script not on the classpath: " + resource);
            }
            return Buffer.buffer(in.readAllBytes()).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
