package dev.orders.app.faults;

import java.lang.ProcessBuilder.Redirect;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The packaged all-in-one jar (or a production service jar, {@link #productionJar}) as a child process,
 * pointed at the fault suite's PostgreSQL and Kafka, always on the same port, so that it can be killed and
 * started again where clients expect it.
 */
final class ServiceProcess implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private final List<String> command;
    private final Path log;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;

    /**
     * @param folder       the service's data folder; its output goes to {@code service.log} there
     * @param classArchive a class-data-sharing archive, written by the first start and read by the later ones
     * @param port         the HTTP port, the same on every start
     * @param settings     further {@code --key=value} settings
     */
    ServiceProcess(Path folder, Path classArchive, int port, List<String> settings) {
        this.port = port;
        this.log = folder.resolve("service.log");
        this.command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-Xmx384m", "-XX:TieredStopAtLevel=1", "-XX:+AutoCreateSharedArchive",
                "-XX:SharedArchiveFile=" + classArchive, "-jar", jar(), "--http.port=" + port, "--data.dir=" + folder));
        command.addAll(settings);
    }

    private ServiceProcess(Path log, int port, List<String> command) {
        this.log = log;
        this.port = port;
        this.command = command;
    }

    /**
     * A production jar (the command side's or the query side's), run as an operator runs it, {@code java -jar},
     * with a small heap: several of them share the machine with PostgreSQL and the brokers.
     *
     * @param folder   where its output goes ({@code service.log})
     * @param jar      the jar
     * @param port     the HTTP port, the same on every start
     * @param settings further {@code --key=value} settings
     */
    static ServiceProcess productionJar(Path folder, Path jar, int port, List<String> settings) {
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: the cluster test runs the production jars, made by"
                    + " mvn package in command-service and query-service");
        }
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar.toString(),
                "--http.port=" + port));
        command.addAll(settings);
        return new ServiceProcess(folder.resolve("service.log"), port, command);
    }

    String url() {
        return "http://127.0.0.1:" + port + "/";
    }

    Path log() {
        return log;
    }

    /** The last {@code count} lines of its log that warn or report an error (starts included), each cut to 300 characters. */
    String lastWarnings(int count) throws java.io.IOException {
        List<String> lines = Files.readAllLines(log).stream()
                .filter(line -> line.startsWith("---- starting") || line.contains(" WARN ") || line.contains(" ERROR "))
                .map(line -> line.length() > 300 ? line.substring(0, 300) + "..." : line)
                .toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
    }

    /** Starts the jar and waits until it answers {@code /health/live}. */
    synchronized void start() throws Exception {
        Files.writeString(log, "---- starting\n", java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(Redirect.appendTo(log.toFile()))
                .start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!live()) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the service exited with " + process.exitValue() + "; see " + log);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the service did not start within " + START_TIMEOUT + "; see " + log);
            }
            Thread.sleep(100);
        }
    }

    /** {@code kill -9}: no shutdown hook, no stop of anything. */
    synchronized void kill() throws Exception {
        process.destroyForcibly();
        process.onExit().get(30, TimeUnit.SECONDS);
    }

    private boolean live() {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url() + "health/live")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (Exception notYet) {
            return false;
        }
    }

    @Override
    public void close() throws Exception {
        stop(Duration.ofSeconds(30));
    }

    /**
     * SIGTERM, then {@code kill -9} if it has not ended within {@code wait}.
     *
     * @return false if it had to be killed
     */
    synchronized boolean stop(Duration wait) throws Exception {
        if (process == null || !process.isAlive()) {
            return true;
        }
        process.destroy();
        if (process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS)) {
            return true;
        }
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        return false;
    }

    private static String jar() {
        String jar = System.getProperty("orders.jar");
        if (jar == null || !Files.exists(Path.of(jar))) {
            throw new IllegalStateException("the fault suite runs the packaged jar (system property orders.jar, set by"
                    + " failsafe after the package phase); found " + jar);
        }
        return jar;
    }
}
