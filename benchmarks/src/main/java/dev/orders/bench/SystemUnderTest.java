package dev.orders.bench;

import dev.orders.app.OrdersApp;
import dev.orders.devservers.Infrastructure;
import dev.orders.devservers.PgProvisioner;
import dev.orders.devservers.PgServer;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.security.Security;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The system in this JVM, exactly as the all-in-one runs it ({@link OrdersApp}): in development mode, with
 * authentication on every {@code /api} route, on the embedded PostgreSQL and Kafka it starts (whose
 * PostgreSQL superuser the benchmark keeps, for pgbench and its scratch table), on a free port chosen up
 * front (the query side's rebuild reads the command side's event feed at {@code http://127.0.0.1:<http.port>},
 * so the port cannot be 0).
 */
final class SystemUnderTest implements AutoCloseable {

    /** Long enough for the longest full-size run; a development token, signed with the development key. */
    private static final long TOKEN_SECONDS = TimeUnit.DAYS.toSeconds(1);

    private final Path dataDir;
    private final boolean ownDataDir;
    private final OrdersApp app;
    private final Connection admin;
    private final OrdersConfig config;

    private SystemUnderTest(Path dataDir, boolean ownDataDir, OrdersApp app, Connection admin, OrdersConfig config) {
        this.dataDir = dataDir;
        this.ownDataDir = ownDataDir;
        this.app = app;
        this.admin = admin;
        this.config = config;
    }

    /** Starts the system on embedded servers, with {@code settings} (configuration keys) over its defaults. */
    static SystemUnderTest start(Path requestedDataDir, Map<String, String> settings) throws IOException, SQLException {
        boolean own = requestedDataDir == null;
        Path dataDir = own ? Files.createTempDirectory("orders-bench-") : requestedDataDir;
        // embedded PostgreSQL runs as 'nobody' when this process is root: the folder must be readable by it
        dataDir.toFile().setReadable(true, false);
        dataDir.toFile().setExecutable(true, false);
        OrdersConfig config = OrdersConfig.defaults().with(Map.of(
                "data.dir", dataDir.toString(),
                "clean", "true",
                "http.port", Integer.toString(freePort()),
                "pg.pool.max-wait-queue", "2048")).with(settings);
        OrdersApp app = OrdersApp.start(config);
        try {
            Connection admin = provisioner(app).superuserConnection(Infrastructure.DATABASE);
            admin.setAutoCommit(true);
            return new SystemUnderTest(dataDir, own, app, admin, config);
        } catch (RuntimeException | SQLException e) {
            app.close();
            throw e;
        }
    }

    private static PgProvisioner provisioner(OrdersApp app) {
        return app.infrastructure().provisioner().orElseThrow(() ->
                new IllegalStateException("PostgreSQL is not embedded (pg.uri set?); the benchmark needs its superuser"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    OrdersConfig config() {
        return config;
    }

    /**
     * Whether orders settle here: false on an API-only node ({@code --set command.workers=false}), where they are
     * appended and nothing after that runs, so that only the command hop is measured.
     */
    boolean settles() {
        return config.commandWorkers();
    }

    OrdersApp app() {
        return app;
    }

    /**
     * An operator token for this system, signed as {@code POST /api/dev/token} signs it (development mode,
     * the configured development key): operators act for any customer, watch any stream, and are not
     * rate limited.
     */
    String operatorToken() {
        return Security.create(app.vertx(), config.securitySettings()).issueDevelopmentToken(null, TOKEN_SECONDS);
    }

    /** A new superuser connection to the system's database; the caller closes it. */
    Connection newAdminConnection() throws SQLException {
        return provisioner(app).superuserConnection(Infrastructure.DATABASE);
    }

    String host() {
        return "127.0.0.1";
    }

    int port() {
        return app.port();
    }

    PgServer pg() {
        return provisioner(app).server();
    }

    /** The embedded server's provisioner: scratch databases on the same server, with the service's roles and schemas. */
    PgProvisioner provisioner() {
        return provisioner(app);
    }

    synchronized long scalar(String sql) throws SQLException {
        try (Statement statement = admin.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getLong(1);
        }
    }

    synchronized String text(String sql) throws SQLException {
        try (Statement statement = admin.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getString(1);
        }
    }

    /** One row of a query, read into a value. */
    @FunctionalInterface
    interface RowReader<T> {
        T read(ResultSet row) throws SQLException;
    }

    /**
     * Runs a query with parameters ({@code UUID[]} become {@code uuid[]} arrays) and reads every row.
     */
    synchronized <T> List<T> rows(String sql, RowReader<T> reader, Object... params) throws SQLException {
        try (PreparedStatement statement = admin.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                Object param = params[i] instanceof UUID[] ids ? admin.createArrayOf("uuid", ids) : params[i];
                statement.setObject(i + 1, param);
            }
            List<T> result = new ArrayList<>();
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    result.add(reader.read(rows));
                }
            }
            return result;
        }
    }

    synchronized void execute(String sql) throws SQLException {
        try (Statement statement = admin.createStatement()) {
            statement.execute(sql);
        }
    }

    /**
     * Work still in flight: events not yet published by the relay, orders whose saga has not decided yet
     * (their deadline rows), and orders the read model still shows PENDING.
     */
    long backlog() throws SQLException {
        return scalar("select (select count(*) from command.unpublished_events)"
                + " + (select count(*) from command.saga_deadlines)"
                + " + (select count(*) from query.order_view where status = 'PENDING')");
    }

    /** Waits until nothing is in flight, so that one run's tail does not load the next; returns the millis waited. */
    long awaitQuiet(long timeoutMillis) throws SQLException, InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeoutMillis * 1_000_000;
        long left;
        while ((left = backlog()) > 0) {
            if (System.nanoTime() > deadline) {
                System.out.printf("    (still %d items in flight after %d s; going on)%n", left, timeoutMillis / 1000);
                break;
            }
            Thread.sleep(200);
        }
        Thread.sleep(300);
        return (System.nanoTime() - start) / 1_000_000;
    }

    /**
     * The durability the server runs with, read from it (the same server pgbench and the service write
     * to): fsync, synchronous_commit, full_page_writes and wal_level as this superuser session (pgbench's
     * role) sees them, plus any per-role or per-database override of them, which the service's roles would
     * run with instead.
     */
    String durability() {
        try {
            String server = text("select concat_ws(', ', 'fsync=' || current_setting('fsync'),"
                    + " 'synchronous_commit=' || current_setting('synchronous_commit'),"
                    + " 'full_page_writes=' || current_setting('full_page_writes'),"
                    + " 'wal_level=' || current_setting('wal_level'))");
            String overrides = text("select string_agg(coalesce(r.rolname, 'every role') || ' in '"
                    + " || coalesce(d.datname, 'every database') || ': ' || array_to_string(s.setconfig, ' '), '; ')"
                    + " from pg_db_role_setting s left join pg_roles r on r.oid = s.setrole"
                    + " left join pg_database d on d.oid = s.setdatabase"
                    + " where array_to_string(s.setconfig, ' ') ~ '(fsync|synchronous_commit|full_page_writes)'");
            return server + (overrides == null ? " (no per-role or per-database override of them)"
                    : " (overridden: " + overrides + ")");
        } catch (SQLException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    String postgresVersion() {
        try {
            return text("select version()");
        } catch (SQLException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    /** The broker's version, from the name of its jar in the extracted library folder. */
    String kafkaVersion() {
        try (Stream<Path> jars = Files.list(dataDir.resolve("kafka-lib"))) {
            return jars.map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("kafka_2\\.13-.*\\.jar") || n.matches("kafka-server-\\d.*\\.jar"))
                    .sorted()
                    .findFirst()
                    .map(n -> n.replaceAll("^kafka_2\\.13-|^kafka-server-", "").replace(".jar", "")
                            + " (KRaft, single node, child JVM)")
                    .orElse("unknown");
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        try {
            admin.close();
        } catch (SQLException ignored) {
            // closing anyway
        }
        app.close();
        if (ownDataDir) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temporary folder
            }
        }
    }
}
