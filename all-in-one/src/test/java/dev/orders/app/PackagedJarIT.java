package dev.orders.app;

import dev.orders.testsupport.ChildProcesses;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packaged jar as a user runs it: {@code java -jar}, the URL it prints, the system answering
 * there (the page with its Content-Security-Policy, the API only with a token, got by signing in at
 * {@code POST /api/dev/token} as the development mode's page does), a second start on the same data,
 * a taken port, and SIGTERM leaving no PostgreSQL or Kafka process behind, after a stop that turns
 * readiness 503 first and tells the open streams to reconnect.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@DisplayName("The packaged all-in-one jar")
@Order(5) // its own servers: it runs beside the fault suite's scenarios (see the failsafe configuration)
class PackagedJarIT {

    private static final Pattern RUNNING = Pattern.compile("Orders is running: open (http://\\S+/)");
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Path dataDir;
    private String customerId;

    @BeforeAll
    void dataDir() throws IOException {
        dataDir = Files.createTempDirectory(Path.of("/tmp"), "orders-jar-it-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    }

    @AfterAll
    void noneOfOurProcessesRemain() {
        assertThat(processesUsing(dataDir)).as("processes using " + dataDir).isEmpty();
    }

    /** A started jar: its process, the lines it printed, and the URL it announced. */
    private record Running(Process process, List<String> output, String url) {
    }

    /** Starts the jar and waits until it announces its URL; fails with everything it printed if it does not. */
    private Running serving(String... args) throws Exception {
        Running running = start(args);
        assertThat(running.url()).as("the URL the jar announces; it printed: %s", running.output()).isNotNull();
        return running;
    }

    private Running start(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-jar", System.getProperty("orders.jar"), "--data.dir=" + dataDir));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> output = new CopyOnWriteArrayList<>();
        CompletableFuture<String> url = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = lines.readLine()) != null; ) {
                    output.add(line);
                    Matcher running = RUNNING.matcher(line);
                    if (running.find()) {
                        url.complete(running.group(1));
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
            url.complete(null);
        }, "jar-output");
        reader.setDaemon(true);
        reader.start();
        return new Running(process, output, url.get(180, TimeUnit.SECONDS));
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String url, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Signs in as an operator at {@code POST /api/dev/token}; returns the token. */
    private String signInAsOperator(String url) throws Exception {
        HttpResponse<String> signedIn = http.send(HttpRequest.newBuilder(URI.create(url + "api/dev/token"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"role\":\"operator\"}"))
                        .timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(signedIn.statusCode()).as(signedIn.body()).isEqualTo(200);
        assertThat(signedIn.headers().allValues("Set-Cookie")).as("the HttpOnly session cookie")
                .anyMatch(c -> c.startsWith("orders_session=") && c.toLowerCase(java.util.Locale.ROOT).contains("httponly"));
        String token = signedIn.body().replaceAll(".*\"token\":\"([^\"]+)\".*", "$1");
        assertThat(token).as(signedIn.body()).matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");
        return token;
    }

    /** SIGTERM ({@link ChildProcesses#sigterm}); then the graceful stop's first and last lines must arrive. */
    private static void stop(Running running) throws Exception {
        ChildProcesses.sigterm(running.process());
        assertThat(running.process().waitFor(90, TimeUnit.SECONDS)).as("stopped after SIGTERM").isTrue();
        ChildProcesses.awaitLine(running.output(), line -> line.contains("GracefulStop") && line.contains("stopped in"),
                Duration.ofSeconds(30));
        assertThat(running.output()).as("the graceful stop's lines; the jar printed: %s", running.output())
                .anyMatch(line -> line.contains("GracefulStop") && line.contains("stopping: readiness answers 503"))
                .anyMatch(line -> line.contains("GracefulStop") && line.contains("stopped in"));
    }

    @Test
    @Order(1)
    void starts_prints_its_url_serves_the_ui_and_the_api_and_stops_on_sigterm_without_leftovers() throws Exception {
        Running running = serving("--http.port=0");
        HttpResponse<String> page = get(running.url());
        assertThat(page.body()).contains("<html");
        assertThat(page.headers().firstValue("Content-Security-Policy")).as("the page's CSP header")
                .hasValueSatisfying(csp -> assertThat(csp).contains("default-src 'none'").contains("script-src 'self'")
                        .contains("frame-ancestors 'none'"));
        assertThat(get(running.url() + "health/ready").statusCode()).isEqualTo(200);
        HttpResponse<String> anonymous = get(running.url() + "api/customers/" + java.util.UUID.randomUUID());
        assertThat(anonymous.statusCode()).as("/api without a token: " + anonymous.body()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));

        String operator = signInAsOperator(running.url());
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(running.url() + "api/customers"))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + operator)
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"name\":\"Jar\",\"creditLimit\":{\"amount\":\"10.00\",\"currency\":\"EUR\"}}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        customerId = created.body().replaceAll(".*\"customerId\":\"([^\"]+)\".*", "$1");
        waitUntil(() -> get(running.url() + "api/customers/" + customerId, operator).statusCode() == 200);
        stop(running);
        waitUntil(() -> processesUsing(dataDir).isEmpty());
    }

    @Test
    @Order(2)
    void a_second_start_on_the_same_data_keeps_the_first_ones_events() throws Exception {
        Running running = serving("--http.port=0");
        HttpResponse<String> customer = get(running.url() + "api/customers/" + customerId, signInAsOperator(running.url()));
        assertThat(customer.statusCode()).isEqualTo(200);
        assertThat(customer.body()).contains("\"name\":\"Jar\"");
        stop(running);
        waitUntil(() -> processesUsing(dataDir).isEmpty());
    }

    @Test
    @Order(3)
    void a_port_already_taken_ends_the_start_with_one_clear_line_and_a_nonzero_exit() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Running running = start("--http.port=" + taken.getLocalPort());
            assertThat(running.url()).isNull();
            assertThat(running.process().waitFor(90, TimeUnit.SECONDS)).isTrue();
            assertThat(running.process().exitValue()).isNotZero();
            List<String> problems = running.output().stream().filter(line -> line.startsWith("orders: ")).toList();
            assertThat(problems).hasSize(1);
            assertThat(problems.get(0)).contains("cannot listen").contains(Integer.toString(taken.getLocalPort()));
        }
        waitUntil(() -> processesUsing(dataDir).isEmpty());
    }

    @Test
    @Order(4)
    void a_bad_configuration_value_ends_the_start_naming_the_key() throws Exception {
        Running running = start("--http.port=eighty");
        assertThat(running.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(running.process().exitValue()).isEqualTo(2);
        assertThat(running.output()).anyMatch(line -> line.startsWith("orders: bad configuration") && line.contains("http.port"));
    }

    @Test
    @Order(5)
    void version_prints_the_builds_version_and_starts_nothing() throws Exception {
        Running running = start("--version");
        assertThat(running.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(running.process().exitValue()).isZero();
        assertThat(running.url()).as("no URL: nothing was started").isNull();
        assertThat(running.output()).anyMatch(line -> line.matches("orders-all-in-one \\d+\\.\\d+\\.\\d+\\S* \\(Vert\\.x 5\\..*"));
        assertThat(processesUsing(dataDir)).isEmpty();
    }

    @Test
    @Order(6)
    void sigterm_turns_readiness_503_first_tells_streams_to_reconnect_then_stops_without_leftovers() throws Exception {
        Running running = serving("--http.port=0", "--shutdown.notice=PT2S");
        String operator = signInAsOperator(running.url());
        HttpResponse<java.io.InputStream> stream = http.send(HttpRequest.newBuilder(
                        URI.create(running.url() + "api/customers/" + customerId + "/orders/stream"))
                .header("Authorization", "Bearer " + operator).header("Accept", "text/event-stream").build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stream.statusCode()).isEqualTo(200);
        CompletableFuture<String> streamed = CompletableFuture.supplyAsync(() -> {
            try (java.io.InputStream body = stream.body()) {
                return new String(body.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "broken: " + e;
            }
        });
        List<String> readiness = new CopyOnWriteArrayList<>();
        ChildProcesses.sigterm(running.process());
        while (running.process().isAlive() && !readiness.contains("closed")) {
            try {
                HttpResponse<String> ready = get(running.url() + "health/ready");
                readiness.add(ready.statusCode() + (ready.body().contains("DRAINING") ? " DRAINING" : ""));
            } catch (IOException closed) {
                readiness.add("closed");
            }
            Thread.sleep(50);
        }
        assertThat(running.process().waitFor(90, TimeUnit.SECONDS)).as("stopped after SIGTERM").isTrue();
        assertThat(readiness.stream().filter(status -> !status.equals("200")).findFirst())
                .as("readiness after SIGTERM, before the port closed: " + readiness).contains("503 DRAINING");
        assertThat(streamed.get(30, TimeUnit.SECONDS)).as("the SSE stream's end").contains("event: reconnect");
        waitUntil(() -> processesUsing(dataDir).isEmpty());
    }

    /** Processes whose command line names the folder: the embedded PostgreSQL and the Kafka broker. */
    private static List<ProcessHandle> processesUsing(Path folder) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(line -> line.contains(folder.toString())).orElse(false))
                .toList();
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void waitUntil(Condition condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 30 s");
            }
            Thread.sleep(200);
        }
    }
}
