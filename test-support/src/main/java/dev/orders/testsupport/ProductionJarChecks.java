package dev.orders.testsupport;

import dev.orders.infra.config.OrdersConfig;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every production jar must do, inherited by each service module's {@code *IT}: carry its
 * side and nothing of a development process, refuse to start without the external PostgreSQL and
 * Kafka in one line naming the missing key, and, given them, serve the probes that the deployment
 * files point at, then stop on SIGTERM.
 */
@ExtendWith(SharedInfrastructure.class)
public abstract class ProductionJarChecks {

    private final ServiceJar jar = ServiceJar.packaged();

    /** @return the class the jar's manifest must name */
    protected abstract String mainClass();

    /** @return the package folder of the other side, which this jar must not carry */
    protected abstract String otherSide();

    /** @return the module that builds the jar, also the folder of its Dockerfile under deploy/ */
    protected abstract String module();

    @Test
    @DisplayName("its Dockerfile copies this jar and runs its main class")
    void its_dockerfile_copies_this_jar_and_runs_its_main_class() throws Exception {
        String dockerfile = Files.readString(Path.of(System.getProperty("orders.deploy"), module(), "Dockerfile"));
        Matcher copy = Pattern.compile("(?m)^COPY (\\S+) (\\S+)$").matcher(dockerfile);
        assertTrue(copy.find(), "a COPY line");
        assertEquals(module() + "/target/" + jar.path().getFileName(), copy.group(1));
        Matcher entrypoint = Pattern.compile("(?m)^ENTRYPOINT \\[(.*)]$").matcher(dockerfile);
        assertTrue(entrypoint.find(), "an exec-form ENTRYPOINT");
        List<String> words = Pattern.compile("\"([^\"]*)\"").matcher(entrypoint.group(1)).results()
                .map(m -> m.group(1)).toList();
        int classpath = words.indexOf("-cp");
        assertEquals("java", words.get(0));
        assertEquals(copy.group(2), words.get(classpath + 1), "the class path is the copied jar");
        String mainClass = words.get(classpath + 2);
        assertEquals(jar.mainClass(), mainClass);
        assertTrue(jar.entries().contains(mainClass.replace('.', '/') + ".class"), mainClass + " is in the jar");
        ServiceJar.Exited help = jar.run(Duration.ofSeconds(60), List.of("--help"));
        assertEquals(0, help.status(), "--help: " + help.stderr());
        assertTrue(String.join("\n", help.stdout()).contains("kafka.replication-factor"), "--help lists the keys");
    }

    @Test
    @DisplayName("carries its side, and no embedded PostgreSQL, Testcontainers, Kafka broker or the other side")
    void carries_its_side_and_nothing_of_a_development_process() {
        assertEquals(mainClass(), jar.mainClass());
        List<String> entries = jar.entries();
        assertTrue(entries.contains(mainClass().replace('.', '/') + ".class"), "the main class is in the jar");
        assertTrue(entries.contains("org/apache/kafka/clients/consumer/KafkaConsumer.class"), "the Kafka client is in");
        assertTrue(entries.contains("logback.xml"), "the logging configuration is in");
        assertEquals(List.of(), jar.developmentOnlyEntries());
        assertEquals(List.of(), entries.stream().filter(e -> e.startsWith(otherSide())).toList());
    }

    @Test
    @DisplayName("refuses to start without pg.uri or kafka.bootstrap, in one line naming the missing key")
    void refuses_to_start_without_external_servers_naming_the_missing_key() throws Exception {
        assertRefused(List.of("--kafka.bootstrap=127.0.0.1:9092"), "'pg.uri' is missing");
        assertRefused(List.of("--mode=production", "--pg.uri=postgresql://orders:secret@127.0.0.1:5432/orders"),
                "'kafka.bootstrap' is missing");
        assertRefused(List.of("--command.pg.uri=postgresql://c:secret@127.0.0.1:5432/orders",
                "--kafka.bootstrap=127.0.0.1:9092"), "'query.pg.uri' is missing");
    }

    private void assertRefused(List<String> args, String expected) throws Exception {
        ServiceJar.Exited exited = jar.run(Duration.ofSeconds(60), args);
        assertEquals(2, exited.status(), "exit status; stderr " + exited.stderr());
        assertEquals(1, exited.stderr().size(), "one line on stderr: " + exited.stderr());
        assertTrue(exited.stderr().get(0).contains(expected), exited.stderr().get(0));
        assertTrue(!exited.stderr().get(0).contains("secret"), "no password in the message");
    }

    @Test
    @DisplayName("given PostgreSQL and Kafka it serves /health/live and /health/ready, and stops on SIGTERM")
    void serves_the_probes_and_stops_on_sigterm(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        ServiceJar.Started started = jar.start(List.of("--command.pg.uri=" + config.commandPgUri(),
                "--query.pg.uri=" + config.queryPgUri(), "--kafka.bootstrap=" + config.kafkaBootstrap(),
                "--kafka.topic.prefix=" + config.kafkaTopicPrefix(), "--http.port=0"));
        try {
            HttpClient http = HttpClient.newHttpClient();
            assertEquals(200, get(http, started.port(), "/health/live").statusCode());
            HttpResponse<String> ready = get(http, started.port(), "/health/ready");
            assertEquals(200, ready.statusCode(), ready.body());
            assertTrue(ready.body().contains("kafka-topics"), ready.body());
        } finally {
            ChildProcesses.sigterm(started.process());
            assertTrue(started.process().waitFor(60, TimeUnit.SECONDS), "stopped within 60 s of SIGTERM");
        }
        assertEquals(143, started.process().exitValue(), "exit status after SIGTERM; output "
                + String.join("\n", started.output()));
        assertTrue(ChildProcesses.awaitLine(started.output(), line -> line.contains("stopped in"), Duration.ofSeconds(30)),
                "the graceful stop's last line; output " + String.join("\n", started.output()));
    }

    private static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
