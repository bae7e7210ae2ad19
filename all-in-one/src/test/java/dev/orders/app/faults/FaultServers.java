package dev.orders.app.faults;

import dev.orders.devservers.PgDatabase;
import dev.orders.devservers.PgProvisioner;
import dev.orders.devservers.PgServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;

/**
 * The PostgreSQL server and the Kafka broker of the fault suite, started once per test JVM and owned by
 * it (not the shared test infrastructure, which other tests rely on staying up). Each scenario gets a
 * database and a topic prefix of its own.
 */
final class FaultServers {

    /**
     * The name of these servers as a resource of the tests (failsafe runs two test classes at a time): a
     * scenario that stops, kills or freezes them takes it for writing and runs alone among the users of
     * the servers; one that only uses them takes it for reading.
     */
    static final String LOCK = "fault-servers";

    private static FaultServers running;

    final OwnedPostgres postgres;
    final OwnedKafka kafka;
    private final PgProvisioner provisioner;
    private final Path root;

    private FaultServers(Path root) {
        this.root = root;
        this.postgres = OwnedPostgres.start(root.resolve("pg").resolve("data"), freePort());
        this.kafka = OwnedKafka.start(root.resolve("kafka"), freePort());
        this.provisioner = PgProvisioner.connect(new PgServer("127.0.0.1", postgres.port(), "postgres", "",
                "the fault suite's PostgreSQL"));
    }

    static synchronized FaultServers get() {
        if (running == null) {
            running = new FaultServers(createRoot());
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                running.kafka.close();
                try {
                    running.postgres.close();
                } catch (IOException ignored) {
                    // the JVM ends anyway
                }
                running.deleteAllButLogs();
            }, "fault-servers-stop"));
        }
        return running;
    }

    /** A fresh database with both sides' schemas and roles. */
    PgDatabase newDatabase(String name) {
        return provisioner.provision(name);
    }

    Connection superuser(String database) throws SQLException {
        return provisioner.superuserConnection(database);
    }

    Path newFolder(String name) {
        try {
            return Files.createDirectories(root.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Under /tmp, traversable by the user PostgreSQL may run as; its logs stay there for a look after a failure. */
    private static Path createRoot() {
        try {
            return Files.createTempDirectory(Path.of("/tmp"), "orders-faults-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path root() {
        return root;
    }

    /** The servers' and services' data (some 200 MB a run) goes; their logs stay for a look after a failure. */
    private void deleteAllButLogs() {
        try (java.util.stream.Stream<Path> files = Files.walk(root)) {
            files.sorted(java.util.Comparator.reverseOrder())
                    .filter(p -> !Set.of("postgres.log", "broker.log", "service.log").contains(p.getFileName().toString()))
                    .forEach(p -> p.toFile().delete()); // a folder that still holds a log stays
        } catch (IOException | UncheckedIOException e) {
            // what is left in /tmp is harmless
        }
    }
}
