package dev.orders.app.faults;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL server that the fault suite owns (zonky's binaries, as the embedded default runs them),
 * so that a test can stop it with {@code pg_ctl} in fast or immediate mode, start it again on the same
 * port and data, or freeze it with SIGSTOP.
 */
final class OwnedPostgres implements AutoCloseable {

    /** {@code pg_ctl stop -m ...}: fast rolls back open transactions and disconnects; immediate aborts. */
    enum StopMode { FAST, IMMEDIATE }

    private final Path dataDir;
    private final Path log;
    private final int port;
    private EmbeddedPostgres postgres;
    private boolean down;
    private boolean paused;

    private OwnedPostgres(Path dataDir, int port) {
        this.dataDir = dataDir;
        this.log = dataDir.resolveSibling("postgres.log");
        this.port = port;
    }

    static OwnedPostgres start(Path dataDir, int port) {
        OwnedPostgres server = new OwnedPostgres(dataDir, port);
        server.start();
        return server;
    }

    int port() {
        return port;
    }

    synchronized void start() {
        try {
            Files.createDirectories(dataDir.getParent());
            postgres = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    .setRegisterShutdownHook(true)
                    .setPort(port)
                    .setServerConfig("fsync", "off") // a process stopped or killed, not a machine: writes reach the OS
                    .setServerConfig("synchronous_commit", "on") // as any PostgreSQL by default (zonky's is off)
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("max_connections", "200")
                    .setOutputRedirector(Redirect.appendTo(log.toFile()))
                    .setErrorRedirector(Redirect.appendTo(log.toFile()))
                    .start();
            down = false;
        } catch (IOException e) {
            throw new UncheckedIOException("PostgreSQL did not start in " + dataDir + "; see " + log, e);
        }
    }

    /**
     * Stops the server with the signal {@code pg_ctl stop -m fast|immediate} sends its postmaster (SIGINT,
     * SIGQUIT), and waits until it is gone.
     */
    synchronized void stop(StopMode mode) throws Exception {
        ProcessHandle postmaster = postmaster();
        Signals.send(mode == StopMode.FAST ? "INT" : "QUIT", List.of(Long.toString(postmaster.pid())));
        postmaster.onExit().get(30, TimeUnit.SECONDS);
        postgres.close(); // its own stop finds no server (logged); this releases the data folder's lock
        down = true;
    }

    /** After a scenario, whatever it did: the server runs and is not paused. */
    synchronized void restore() throws Exception {
        if (down) {
            start();
        } else if (paused) {
            resume();
        }
    }

    /** SIGSTOP to the postmaster and every backend: a server that neither answers nor closes a connection. */
    synchronized void pause() throws Exception {
        paused = true;
        signal("STOP");
    }

    /** SIGCONT: the paused server goes on where it stood. */
    synchronized void resume() throws Exception {
        signal("CONT");
        paused = false;
    }

    private void signal(String signal) throws Exception {
        ProcessHandle postmaster = postmaster();
        List<String> pids = Stream.concat(Stream.of(postmaster), postmaster.descendants())
                .map(p -> Long.toString(p.pid())).toList();
        Signals.send(signal, pids);
    }

    private ProcessHandle postmaster() throws IOException {
        long pid = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).strip());
        return ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("no postmaster " + pid));
    }

    @Override
    public synchronized void close() throws IOException {
        postgres.close();
    }
}
