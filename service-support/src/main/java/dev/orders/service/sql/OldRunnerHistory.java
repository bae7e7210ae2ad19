package dev.orders.service.sql;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Carries a schema from the project's earlier migration runner over to Flyway, once: that runner recorded
 * the versions it applied in {@code schema_migrations} (without checksums). Each is copied into the side's
 * Flyway history as applied, with the checksum of today's script of that version, so that Flyway runs none
 * of them again and applies exactly the scripts that runner had not (including a version below its
 * highest). {@code schema_migrations} itself is left as it was.
 *
 * <p>Blocking JDBC, on the caller's connection. The caller holds {@link #lock(Connection)} around the import
 * and Flyway's migrate: the key is the earlier runner's, so that neither an instance of the earlier build
 * nor a second instance of this one migrates the schema meanwhile.
 */
final class OldRunnerHistory {

    private static final Logger LOG = LoggerFactory.getLogger(OldRunnerHistory.class);
    static final String OLD_TABLE = "schema_migrations";
    private static final String LOCK = "SELECT pg_advisory_lock(hashtext(current_schema() || '.schema_migrations'))";
    private static final String UNLOCK = "SELECT pg_advisory_unlock(hashtext(current_schema() || '.schema_migrations'))";
    private static final String TABLE_EXISTS =
            "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?";
    private static final String OLD_VERSIONS = "SELECT version, applied_at FROM schema_migrations ORDER BY version";
    /** Rows of the Flyway history besides its baseline (a table name is not a parameter: {@code %s}). */
    private static final String RECORDED = "SELECT count(*) FROM %s WHERE type <> 'BASELINE'";
    private static final String NEXT_RANK = "SELECT coalesce(max(installed_rank), 0) + 1 FROM %s";
    private static final String INSERT = "INSERT INTO %s (installed_rank, version, description, type, script, checksum,"
            + " installed_by, installed_on, execution_time, success) VALUES (?, ?, ?, 'SQL', ?, ?, current_user, ?, 0, true)";

    private OldRunnerHistory() {
    }

    static void lock(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(LOCK)) {
            statement.execute();
        }
    }

    static void unlock(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(UNLOCK)) {
            statement.execute();
        }
    }

    /**
     * Imports {@code schema_migrations} into {@code table} unless there is none, or the Flyway history
     * already records a script (imported before, or Flyway ran).
     *
     * @return how many versions were imported
     */
    static int importInto(Connection connection, Flyway flyway, String table, String side) throws SQLException {
        if (!exists(connection, OLD_TABLE)) {
            return 0;
        }
        Map<Integer, Timestamp> old = oldVersions(connection);
        if (old.isEmpty()) {
            return 0;
        }
        if (!exists(connection, table)) {
            flyway.baseline();
        } else if (count(connection, RECORDED.formatted(table)) > 0) {
            return 0;
        }
        Map<Integer, MigrationInfo> scripts = new HashMap<>();
        for (MigrationInfo info : flyway.info().all()) {
            if (info.isVersioned() && !info.isApplied()) {
                scripts.put(Integer.valueOf(info.getVersion().getVersion()), info);
            }
        }
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try (PreparedStatement insert = connection.prepareStatement(INSERT.formatted(table))) {
            int rank = (int) count(connection, NEXT_RANK.formatted(table));
            for (Map.Entry<Integer, Timestamp> entry : old.entrySet()) {
                MigrationInfo script = scripts.get(entry.getKey());
                if (script == null) {
                    throw new IllegalStateException(side + " schema: " + OLD_TABLE + " records version " + entry.getKey()
                            + ", which is not one of this side's scripts: either this build is older than the schema,"
                            + " or both sides shared one schema under the earlier runner (which could not keep them"
                            + " apart); give each side its own schema (?search_path= in its URI)");
                }
                insert.setInt(1, rank++);
                insert.setString(2, script.getVersion().getVersion());
                insert.setString(3, script.getDescription());
                insert.setString(4, script.getScript());
                insert.setInt(5, script.getChecksum());
                insert.setTimestamp(6, entry.getValue());
                insert.addBatch();
            }
            insert.executeBatch();
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(autoCommit);
        }
        LOG.info("{} schema: imported versions {} from {} (the earlier runner's history) into {}", side, old.keySet(),
                OLD_TABLE, table);
        return old.size();
    }

    private static Map<Integer, Timestamp> oldVersions(Connection connection) throws SQLException {
        Map<Integer, Timestamp> versions = new LinkedHashMap<>();
        try (PreparedStatement statement = connection.prepareStatement(OLD_VERSIONS);
             ResultSet rows = statement.executeQuery()) {
            while (rows.next()) {
                versions.put(rows.getInt(1), rows.getTimestamp(2));
            }
        }
        return versions;
    }

    private static boolean exists(Connection connection, String table) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(TABLE_EXISTS)) {
            statement.setString(1, table);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next();
            }
        }
    }

    private static long count(Connection connection, String sql) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql);
             ResultSet rows = statement.executeQuery()) {
            rows.next();
            return rows.getLong(1);
        }
    }
}
