package dev.orders.command.service;

import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.ServiceJar;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A rolling restart of one of two command processes (the production jar, as child JVMs on one
 * PostgreSQL and Kafka): commands flow through a balancer that, like a real one, sends to a process
 * only while its {@code /health/ready} answers 200. Process A gets SIGTERM under load. Every command
 * in flight on A is answered (no 5xx, no connection cut), every command answered 201 is stored (its
 * {@code Idempotency-Key} replayed on B returns the same customer), and A's readiness turned 503
 * before its port closed.
 */
@ExtendWith(SharedInfrastructure.class)
@DisplayName("A command process stops on SIGTERM without losing an in-flight command")
class GracefulStopIT {

    private static final Pattern CUSTOMER_ID = Pattern.compile("\"customerId\":\"([0-9a-f-]{36})\"");
    private static final int CLIENTS = 8;

    private final ServiceJar jar = ServiceJar.packaged();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** One command's outcome: where it went, its key, its status (or the failure), and when it ended. */
    private record Outcome(String node, String key, int status, String body, String failure, long endedNanos) {
    }

    @Test
    @DisplayName("readiness 503 first, in-flight commands answered, nothing lost, no 5xx")
    void no_in_flight_command_is_lost_or_answered_5xx_when_one_of_two_processes_stops(TestInfrastructure infra)
            throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        List<String> args = List.of("--command.pg.uri=" + config.commandPgUri(), "--query.pg.uri=" + config.queryPgUri(),
                "--kafka.bootstrap=" + config.kafkaBootstrap(), "--kafka.topic.prefix=" + config.kafkaTopicPrefix(),
                "--http.port=0", "--rate.command-burst=100000",
                "--rate.commands-per-second=100000");
        Vertx vertx = Vertx.vertx();
        String token = new TestTokens(vertx).operator();
        vertx.close();
        ServiceJar.Started a = jar.start(args);
        ServiceJar.Started b = jar.start(args);
        String nodeA = "http://127.0.0.1:" + a.port();
        String nodeB = "http://127.0.0.1:" + b.port();

        for (String node : List.of(nodeA, nodeB)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (status(node + "/health/ready") != 200) {
                assertThat(System.nanoTime()).as(node + " ready within 60 s").isLessThan(deadline);
                sleep(200);
            }
        }
        // The balancer's view of A: ready until its readiness answers anything but 200.
        AtomicBoolean aReady = new AtomicBoolean(true);
        List<Integer> aReadiness = new CopyOnWriteArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread prober = new Thread(() -> {
            while (running.get() && aReady.get()) {
                int status = status(nodeA + "/health/ready");
                aReadiness.add(status);
                if (status != 200) {
                    aReady.set(false);
                }
                sleep(50);
            }
        }, "balancer-probe");
        prober.start();

        List<Outcome> outcomes = new CopyOnWriteArrayList<>();
        AtomicInteger sequence = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> loops = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            loops.add(clients.submit(() -> {
                while (running.get()) {
                    String node = aReady.get() && sequence.incrementAndGet() % 2 == 0 ? nodeA : nodeB;
                    outcomes.add(createCustomer(node, token, UUID.randomUUID().toString()));
                }
                return null;
            }));
        }
        Thread.sleep(3_000);
        long sigterm = System.nanoTime();
        a.process().destroy();
        assertThat(a.process().waitFor(60, TimeUnit.SECONDS)).as("A stopped within 60 s of SIGTERM").isTrue();
        Thread.sleep(500);
        running.set(false);
        for (Future<?> loop : loops) {
            loop.get(60, TimeUnit.SECONDS);
        }
        clients.shutdown();
        prober.join(10_000);

        try {
            String aOutput = String.join("\n", a.output());
            assertThat(a.process().exitValue()).as("A's exit status; output:\n" + aOutput).isEqualTo(143);
            assertThat(outcomes.stream().filter(o -> o.failure() != null || o.status() >= 500).toList())
                    .as("commands cut off or answered 5xx").isEmpty();
            assertThat(outcomes.stream().filter(o -> o.node().equals(nodeA) && o.endedNanos() > sigterm).count())
                    .as("commands on A answered after its SIGTERM (the case under test)").isPositive();
            List<Outcome> created = outcomes.stream().filter(o -> o.status() == 201).toList();
            assertThat(created.size()).as("commands answered 201").isGreaterThan(CLIENTS);
            Map<String, String> lost = new ConcurrentHashMap<>();
            for (Outcome done : created) {
                Outcome replay = createCustomer(nodeB, token, done.key());
                if (replay.status() != 201 || !customerId(replay).equals(customerId(done))) {
                    lost.put(done.key(), done.node() + " answered " + customerId(done) + ", the replay on B "
                            + replay.status() + " " + replay.body());
                }
            }
            assertThat(lost).as("acknowledged commands that the store does not have").isEmpty();
            assertThat(aReadiness.stream().filter(status -> status != 200).findFirst())
                    .as("A's readiness turned 503 while A still answered, before its port closed").contains(503);
        } finally {
            b.process().destroy();
            b.process().waitFor(60, TimeUnit.SECONDS);
        }
    }

    private Outcome createCustomer(String node, String token, String key) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(node + "/api/customers"))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + token)
                .header("Idempotency-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"name\":\"Drain " + key.substring(0, 8) + "\",\"creditLimit\":{\"amount\":\"100.00\",\"currency\":\"EUR\"}}"))
                .timeout(Duration.ofSeconds(30)).build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Outcome(node, key, response.statusCode(), response.body(), null, System.nanoTime());
        } catch (IOException e) {
            return new Outcome(node, key, -1, "", e.toString(), System.nanoTime());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(node, key, -1, "", e.toString(), System.nanoTime());
        }
    }

    private static String customerId(Outcome outcome) {
        Matcher id = CUSTOMER_ID.matcher(outcome.body());
        return id.find() ? id.group(1) : "(none in " + outcome.body() + ")";
    }

    private int status(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
