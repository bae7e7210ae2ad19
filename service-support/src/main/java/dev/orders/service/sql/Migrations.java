package dev.orders.service.sql;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.exception.FlywayValidateException;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One side's schema migrations, run by Flyway before the side starts: the SQL scripts
 * {@code V<n>__<description>.sql} under a classpath folder, each applied once (those pending together, in one
 * transaction, so a failing script leaves the schema as it was), recorded with its checksum in the side's own
 * history table {@code <side>_schema_history} in the
 * connection's schema (the first of its {@code search_path}), so that both sides keep separate histories
 * even in one schema. A script changed after it was applied fails the start, naming the script.
 * Versions are handed out to parallel work, so a lower version may arrive after a higher one was applied:
 * it is applied then (out of order). A schema that the project's earlier runner migrated gets its
 * history imported first ({@link OldRunnerHistory}).
 *
 * <p>Flyway is blocking JDBC: {@link #migrate(Vertx, PgConnectOptions)} runs it on a worker thread, with the
 * host, database, role, password, TLS mode and {@code search_path} of the same URI that the side's pool uses.
 */
public final class Migrations {

    private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);
    private static final Pattern SIDE = Pattern.compile("[a-z]{1,30}");
    /** Below every script, so that a schema holding only the other side's tables gets all of them. */
    private static final String BASELINE = "0";

    private final String side;
    private final String location;
    private final String table;

    /**
     * @param side     {@code command} or {@code query}: names the history table and the log lines
     * @param location the classpath folder of the scripts, e.g. {@code db/command}
     */
    public Migrations(String side, String location) {
        if (!SIDE.matcher(side).matches()) {
            throw new IllegalArgumentException("'" + side + "' is not a plain lower-case side name");
        }
        this.side = side;
        this.location = Objects.requireNonNull(location, "location");
        this.table = side + "_schema_history";
    }

    /** @return the history table, {@code <side>_schema_history} */
    public String historyTable() {
        return table;
    }

    /** As {@link #migrate(Vertx, PgConnectOptions)} for a {@code postgresql://} URI. */
    public Future<Integer> migrate(Vertx vertx, String pgUri) {
        return migrate(vertx, PgPools.connectOptions(pgUri));
    }

    /**
     * Applies every script not applied yet, on a worker thread; succeeds with the number applied, fails
     * (applying nothing more) if an applied script was changed or a script fails.
     */
    public Future<Integer> migrate(Vertx vertx, PgConnectOptions connect) {
        return vertx.executeBlocking(() -> migrateNow(connect), false);
    }

    private int migrateNow(PgConnectOptions connect) throws SQLException {
        JdbcTarget target = JdbcTarget.of(connect, PgSessions.applicationName(side + "-migrations"));
        Flyway flyway = Flyway.configure(Migrations.class.getClassLoader())
                .dataSource(target.url(), target.user(), target.password())
                .locations("classpath:" + location)
                .failOnMissingLocations(true)
                .table(table)
                .baselineOnMigrate(true)
                .baselineVersion(BASELINE)
                .outOfOrder(true)
                .group(true)
                .placeholderReplacement(false)
                .load();
        try (Connection connection = DriverManager.getConnection(target.url(), target.properties())) {
            OldRunnerHistory.lock(connection);
            try {
                OldRunnerHistory.importInto(connection, flyway, table, side);
                MigrateResult result = flyway.migrate();
                LOG.info("{} schema: {} migration(s) applied (history in {})", side, result.migrationsExecuted, table);
                return result.migrationsExecuted;
            } catch (FlywayValidateException e) {
                throw new IllegalStateException(side + " schema: " + changed(flyway) + e.getMessage(), e);
            } catch (FlywayException e) {
                throw new IllegalStateException(side + " schema: migration failed: " + e.getMessage(), e);
            } finally {
                OldRunnerHistory.unlock(connection);
            }
        }
    }

    /** Names the applied scripts whose file no longer matches the checksum recorded when it ran. */
    private String changed(Flyway flyway) {
        List<String> changed = new ArrayList<>();
        for (MigrationInfo info : flyway.info().all()) {
            if (info.isApplied() && info.getResolvedChecksum() != null
                    && !Objects.equals(info.getAppliedChecksum(), info.getResolvedChecksum())) {
                changed.add(info.getScript() + " (version " + info.getVersion() + ", checksum " + info.getAppliedChecksum()
                        + " in " + table + ", " + info.getResolvedChecksum() + " now)");
            }
        }
        return changed.isEmpty() ? "" : "changed after it was applied: " + String.join(", ", changed)
                + "; an applied script is never edited: restore it and put the change in a new script. ";
    }
}
