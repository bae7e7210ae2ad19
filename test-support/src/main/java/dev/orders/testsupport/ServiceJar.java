package dev.orders.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A packaged service jar (its path in the system property {@code orders.jar}, set by the failsafe
 * configuration): what it holds, and runs of it as an operator starts it, {@code java -jar}.
 */
public final class ServiceJar {

    /**
     * What only a development process needs, and a production jar must not carry: embedded PostgreSQL,
     * Testcontainers, the Kafka broker (its Scala classes and the jars the embedded broker runs), the
     * servers' provisioning, and nested jars or PostgreSQL binaries of any kind.
     */
    private static final List<String> DEVELOPMENT_ONLY = List.of("io/zonky/", "org/testcontainers/",
            "kafka/server/", "kafka/log/", "kafka/raft/", "kafka/cluster/", "kafka/Kafka", "scala/",
            "org/apache/kafka/raft/", "org/apache/kafka/metadata/", "org/apache/kafka/storage/",
            "kafka-broker-lib/", "dev/orders/kafkabroker/", "dev/orders/devservers/");
    private static final Pattern RUNNING = Pattern.compile("is running on http://[^:]+:(\\d+)/");

    private final Path jar;

    private ServiceJar(Path jar) {
        this.jar = jar;
    }

    /** @return the jar named by the system property {@code orders.jar} */
    public static ServiceJar packaged() {
        String path = System.getProperty("orders.jar");
        if (path == null) {
            throw new IllegalStateException("system property orders.jar is not set: run this test through failsafe");
        }
        return new ServiceJar(Path.of(path));
    }

    public Path path() {
        return jar;
    }

    /** @return the names of its entries */
    public List<String> entries() {
        try (JarFile file = new JarFile(jar.toFile())) {
            return Collections.list(file.entries()).stream().map(e -> e.getName()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return the entries that only a development process needs (see {@link #DEVELOPMENT_ONLY}) */
    public List<String> developmentOnlyEntries() {
        return entries().stream().filter(name -> DEVELOPMENT_ONLY.stream().anyMatch(name::startsWith)
                || name.endsWith(".jar") || name.endsWith(".txz")).toList();
    }

    /** @return the {@code Main-Class} of its manifest */
    public String mainClass() {
        try (JarFile file = new JarFile(jar.toFile())) {
            return file.getManifest().getMainAttributes().getValue("Main-Class");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A finished run: its exit status and what it wrote. */
    public record Exited(int status, List<String> stdout, List<String> stderr) {
    }

    /** Runs the jar to its end (at most {@code timeout}) with these arguments and environment variables. */
    public Exited run(Duration timeout, List<String> args) throws IOException, InterruptedException {
        Path stdout = Files.createTempFile("service-jar-", ".out");
        Path stderr = Files.createTempFile("service-jar-", ".err");
        try {
            Process process = new ProcessBuilder(command(args)).redirectOutput(stdout.toFile())
                    .redirectError(stderr.toFile()).start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new IllegalStateException("the jar did not end within " + timeout + "; output: "
                        + Files.readString(stdout) + Files.readString(stderr));
            }
            return new Exited(process.exitValue(), Files.readAllLines(stdout), Files.readAllLines(stderr));
        } finally {
            Files.deleteIfExists(stdout);
            Files.deleteIfExists(stderr);
        }
    }

    /** A started service: its process, everything it printed, and the port it announced. */
    public record Started(Process process, List<String> output, int port) {
    }

    /** Starts the jar and waits until it prints the port it serves (at most 120 s). */
    public Started start(List<String> args) throws Exception {
        List<String> command = command(args);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        List<String> output = collect(process.getInputStream(), port);
        Integer announced = port.get(120, TimeUnit.SECONDS);
        if (announced == null) {
            throw new IllegalStateException("the service ended without serving; output:\n" + String.join("\n", output));
        }
        return new Started(process, output, announced);
    }

    private List<String> command(List<String> args) {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-jar", jar.toString()));
        command.addAll(args);
        return command;
    }

    private static List<String> collect(InputStream stream, CompletableFuture<Integer> port) {
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                    Matcher running = RUNNING.matcher(line);
                    if (port != null && running.find()) {
                        port.complete(Integer.parseInt(running.group(1)));
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
            if (port != null) {
                port.complete(null);
            }
        }, "service-jar-output");
        reader.setDaemon(true);
        reader.start();
        return lines;
    }
}
