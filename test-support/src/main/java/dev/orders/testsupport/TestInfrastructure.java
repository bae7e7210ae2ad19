package dev.orders.testsupport;

import dev.orders.devservers.Infrastructure;
import dev.orders.devservers.PgDatabase;
import dev.orders.devservers.PgProvisioner;
import dev.orders.infra.config.OrdersConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

/**
 * The PostgreSQL and Kafka shared by all tests of one JVM, and configurations isolated per test: each
 * {@link #isolatedConfig()} has a fresh database and its own topic prefix. Get it as a parameter
 * from {@link SharedInfrastructure}.
 */
public final class TestInfrastructure {

    private final Infrastructure infrastructure;
    private final PgProvisioner provisioner;
    private final Path root;

    TestInfrastructure(Infrastructure infrastructure, Path root) {
        this.infrastructure = infrastructure;
        this.provisioner = infrastructure.provisioner().orElseThrow(() ->
                new IllegalStateException("the test infrastructure must run its own PostgreSQL"));
        this.root = root;
    }

    /**
     * A configuration that points at the shared servers and is isolated from every other one: a fresh
     * database {@code t_<random>} (with the command and query roles' schemas), a unique
     * {@code kafka.topic.prefix}, {@code http.port=0} and a fresh {@code data.dir}.
     *
     * @return the configuration; override more with {@link OrdersConfig#with(Map)}
     */
    public OrdersConfig isolatedConfig() {
        String id = "t_" + PgProvisioner.randomToken(12);
        PgDatabase database = provisioner.provision(id);
        Path dataDir = root.resolve(id);
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return OrdersConfig.defaults().with(Map.of(
                "command.pg.uri", database.commandPgUri(),
                "query.pg.uri", database.queryPgUri(),
                "kafka.bootstrap", infrastructure.kafkaBootstrap(),
                "kafka.topic.prefix", id.replace('_', '-'),
                "http.port", "0",
                "data.dir", dataDir.toString()));
    }

    /** @return the command side's URI of the default database {@value Infrastructure#DATABASE} */
    public String commandPgUri() {
        return infrastructure.commandPgUri();
    }

    /** @return the query side's URI of the default database {@value Infrastructure#DATABASE} */
    public String queryPgUri() {
        return infrastructure.queryPgUri();
    }

    /** @return the Kafka bootstrap servers */
    public String kafkaBootstrap() {
        return infrastructure.kafkaBootstrap();
    }

    /**
     * @param database a database name, e.g. from {@link #databaseOf(OrdersConfig)}
     * @return a JDBC URL with superuser rights on it, for assertions
     */
    public String superuserJdbcUrl(String database) {
        return provisioner.server().superuserJdbcUrl(database);
    }

    /**
     * @param database a database name
     * @return a new superuser JDBC connection; the caller closes it
     * @throws SQLException if it cannot connect
     */
    public Connection superuserConnection(String database) throws SQLException {
        return provisioner.superuserConnection(database);
    }

    /**
     * @param config a configuration from {@link #isolatedConfig()}
     * @return the name of its database
     */
    public static String databaseOf(OrdersConfig config) {
        String path = java.net.URI.create(config.effectiveCommandPgUri()).getPath();
        return path.substring(1);
    }

    /** @return the underlying infrastructure */
    public Infrastructure infrastructure() {
        return infrastructure;
    }
}
