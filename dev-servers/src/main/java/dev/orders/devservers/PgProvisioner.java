package dev.orders.devservers;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;

/**
 * Sets up databases on a PostgreSQL server that this process administers, so that each side owns its
 * data: the roles {@value #COMMAND_ROLE} and {@value #QUERY_ROLE}, and in each database the schemas
 * {@value #COMMAND_SCHEMA} and {@value #QUERY_SCHEMA}, each owned by its role and first on that role's
 * {@code search_path}. Neither role can use the other's schema. The command role may read every session's
 * activity ({@code pg_read_all_stats}), so that the relay can name a transaction that holds it back.
 * Everything is idempotent.
 *
 * <p>Blocking (JDBC): call it before Vert.x starts or from a worker, never on an event loop.
 */
public final class PgProvisioner {

    /** The command side's role. */
    public static final String COMMAND_ROLE = "orders_command";
    /** The query side's role. */
    public static final String QUERY_ROLE = "orders_query";
    /** The command side's schema. */
    public static final String COMMAND_SCHEMA = "command";
    /** The query side's schema. */
    public static final String QUERY_SCHEMA = "query";

    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final PgServer server;
    private final String commandPassword = randomToken(24);
    private final String queryPassword = randomToken(24);

    private PgProvisioner(PgServer server) {
        this.server = server;
    }

    /**
     * Creates the two roles if missing and gives them fresh passwords.
     *
     * @param server the server, reachable as its superuser
     * @return a provisioner for databases on that server
     */
    public static PgProvisioner connect(PgServer server) {
        PgProvisioner provisioner = new PgProvisioner(server);
        provisioner.ensureRoles();
        return provisioner;
    }

    /** @return the server */
    public PgServer server() {
        return server;
    }

    /**
     * Creates the database if missing and, in it, the two schemas; never drops anything.
     *
     * @param database a lower-case SQL name, e.g. {@code orders}
     * @return the URIs of both sides for this database
     */
    public synchronized PgDatabase provision(String database) {
        requireName(database);
        try (Connection admin = superuserConnection("postgres")) {
            if (!exists(admin, "select 1 from pg_database where datname = ?", database)) {
                execute(admin, "create database " + database);
            }
            execute(admin, "revoke all on database " + database + " from public");
            execute(admin, "grant connect, temporary on database " + database + " to " + COMMAND_ROLE + ", " + QUERY_ROLE);
        } catch (SQLException e) {
            throw failure("create database " + database, e);
        }
        try (Connection db = superuserConnection(database)) {
            execute(db, "revoke create on schema public from public");
            execute(db, "create schema if not exists " + COMMAND_SCHEMA + " authorization " + COMMAND_ROLE);
            execute(db, "create schema if not exists " + QUERY_SCHEMA + " authorization " + QUERY_ROLE);
            execute(db, "revoke all on schema " + COMMAND_SCHEMA + ", " + QUERY_SCHEMA + " from public");
        } catch (SQLException e) {
            throw failure("set up the schemas of database " + database, e);
        }
        return new PgDatabase(database,
                uri(COMMAND_ROLE, commandPassword, database, COMMAND_SCHEMA),
                uri(QUERY_ROLE, queryPassword, database, QUERY_SCHEMA));
    }

    /**
     * @param database a database name
     * @return a new JDBC connection to it as the superuser; the caller closes it
     * @throws SQLException if the server cannot be reached
     */
    public Connection superuserConnection(String database) throws SQLException {
        return DriverManager.getConnection(server.superuserJdbcUrl(database));
    }

    /**
     * @param length how many characters
     * @return a random lower-case alphanumeric token, safe in SQL names and URIs
     */
    public static String randomToken(int length) {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder token = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            token.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return token.toString();
    }

    private void ensureRoles() {
        try (Connection admin = superuserConnection("postgres")) {
            ensureRole(admin, COMMAND_ROLE, commandPassword, COMMAND_SCHEMA);
            ensureRole(admin, QUERY_ROLE, queryPassword, QUERY_SCHEMA);
            // the relay names the session that holds its transaction horizon back, whoever's it is
            execute(admin, "grant pg_read_all_stats to " + COMMAND_ROLE);
        } catch (SQLException e) {
            throw failure("create the roles " + COMMAND_ROLE + " and " + QUERY_ROLE, e);
        }
    }

    private static void ensureRole(Connection admin, String role, String password, String schema) throws SQLException {
        String verb = exists(admin, "select 1 from pg_roles where rolname = ?", role) ? "alter" : "create";
        execute(admin, verb + " role " + role + " login nosuperuser nocreatedb nocreaterole password '" + password + "'");
        execute(admin, "alter role " + role + " set search_path = " + schema);
    }

    private String uri(String role, String password, String database, String schema) {
        return "postgresql://" + role + ":" + password + "@" + server.host() + ":" + server.port() + "/" + database
                + "?search_path=" + schema;
    }

    private static boolean exists(Connection connection, String sql, String value) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setString(1, value);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next();
            }
        }
    }

    private static void execute(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    private static void requireName(String database) {
        if (!NAME.matcher(database).matches()) {
            throw new IllegalArgumentException("'" + database + "' is not a plain lower-case database name");
        }
    }

    private InfrastructureException failure(String what, SQLException e) {
        return new InfrastructureException("could not " + what + " on PostgreSQL " + server.host() + ":"
                + server.port() + ": " + e.getMessage(), e);
    }
}
