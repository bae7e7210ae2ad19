package dev.orders.app.faults;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * HTTP to the service as a patient client: a command carries an {@code Idempotency-Key} and is sent again
 * with the same key after a {@code 503}, a refused or broken connection, until the service answers it.
 * What a client must never see is kept in {@link #problems()}: a {@code 5xx} other than {@code 503}, a
 * {@code 503} without {@code Retry-After}, or no answer within {@link #ANSWER_TIMEOUT} (a hang).
 * In front of several processes it is its own balancer: commands go to the command nodes and reads to the
 * query nodes in turn, and a command not answered by one node is sent again to the next.
 */
final class ServiceClient {

    /** A request the service has not answered by then counts as a hang. */
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(15);
    /** How long a command is retried before the client gives up on it. */
    private static final Duration GIVE_UP = Duration.ofSeconds(150);

    private final String url;
    private final List<String> commandNodes;
    private final List<String> queryNodes;
    private final AtomicInteger turn = new AtomicInteger();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final Queue<String> problems = new ConcurrentLinkedQueue<>();
    final AtomicInteger unavailable = new AtomicInteger();
    final AtomicInteger unreachable = new AtomicInteger();
    /** The slowest answer so far, for the report: how long it took, what it answered and when it was asked. */
    private final AtomicReference<Slowest> slowest = new AtomicReference<>(new Slowest(0, "none", Instant.EPOCH));

    /** A request that took {@code millis} to answer; {@code asked} is when it was sent, to find it in the service's log. */
    record Slowest(long millis, String what, Instant asked) {
        @Override
        public String toString() {
            return millis + " ms (" + what + ", asked at " + asked + ")";
        }
    }

    ServiceClient(String url) {
        this(List.of(url), List.of(url));
    }

    /**
     * @param commandNodes the base URLs of the command side's processes; readiness and metrics are the first one's
     * @param queryNodes   the base URLs of the query side's processes
     */
    ServiceClient(List<String> commandNodes, List<String> queryNodes) {
        this.url = commandNodes.get(0);
        this.commandNodes = List.copyOf(commandNodes);
        this.queryNodes = List.copyOf(queryNodes);
    }

    /** The next of these nodes, in turn, as a round-robin balancer picks them. */
    private String next(List<String> nodes) {
        return nodes.get(Math.floorMod(turn.getAndIncrement(), nodes.size()));
    }

    /** An answer: status and JSON body. */
    record Answer(int status, JsonObject body) {
    }

    String operatorToken() throws Exception {
        return token(new JsonObject().put("role", "operator"));
    }

    String customerToken(UUID customerId) throws Exception {
        return token(new JsonObject().put("customerId", customerId.toString()));
    }

    private String token(JsonObject who) throws Exception {
        return command("POST", "api/dev/token", null, who).body().getString("token");
    }

    /** A command, sent until answered; the answer's status may be any the service gives on purpose (2xx, 409, ...). */
    Answer command(String method, String path, String token, JsonObject body) throws Exception {
        String key = UUID.randomUUID().toString();
        long giveUp = System.nanoTime() + GIVE_UP.toNanos();
        while (true) {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(next(commandNodes) + path)).timeout(ANSWER_TIMEOUT)
                    .header("Content-Type", "application/json").header("Idempotency-Key", key)
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body.encode()));
            if (token != null) {
                request.header("Authorization", "Bearer " + token);
            }
            Optional<Answer> answer = send(request.build());
            if (answer.isPresent()) {
                return answer.get();
            }
            if (System.nanoTime() > giveUp) {
                problems.add(method + " " + path + " still unanswered after " + GIVE_UP.toSeconds() + " s of retries");
                return new Answer(0, new JsonObject());
            }
            Thread.sleep(200);
        }
    }

    /** A read; an answer the service could not give for now (503, no connection) is empty. */
    Optional<Answer> get(String path, String token) throws InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(next(queryNodes) + path)).timeout(ANSWER_TIMEOUT)
                .header("Authorization", "Bearer " + token).GET().build());
    }

    /** {@code GET /health/ready}'s status; 0 when the service does not answer at all. */
    int readiness() {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url + "health/ready")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /**
     * The sum of the samples of one metric on {@code /metrics} whose labels contain a text, e.g.
     * {@code ("orders_commands_total", "outcome=\"failed\"")}; empty if the service did not answer.
     */
    Optional<Double> metric(String name, String labelsContaining) {
        try {
            String text = http.send(HttpRequest.newBuilder(URI.create(url + "metrics")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            return Optional.of(text.lines()
                    .filter(line -> line.startsWith(name + " ") || line.startsWith(name + "{"))
                    .filter(line -> line.contains(labelsContaining))
                    .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum());
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private Optional<Answer> send(HttpRequest request) throws InterruptedException {
        String what = request.method() + " " + request.uri().getPath();
        Instant asked = Instant.now();
        long started = System.nanoTime();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            int status = response.statusCode();
            long millis = (System.nanoTime() - started) / 1_000_000;
            slowest.accumulateAndGet(new Slowest(millis, what + " " + status, asked),
                    (was, now) -> now.millis() > was.millis() ? now : was);
            if (status == 503) {
                unavailable.incrementAndGet();
                if (response.headers().firstValue("Retry-After").isEmpty()) {
                    problems.add(what + ": 503 without Retry-After: " + response.body());
                }
                return Optional.empty();
            }
            if (status >= 500) {
                problems.add(what + ": " + status + " " + response.body());
                return Optional.empty();
            }
            String body = response.body();
            return Optional.of(new Answer(status, body.startsWith("{") ? new JsonObject(body) : new JsonObject()));
        } catch (java.net.http.HttpConnectTimeoutException e) {
            unreachable.incrementAndGet();
            return Optional.empty();
        } catch (HttpTimeoutException e) {
            problems.add(what + ": no answer within " + ANSWER_TIMEOUT.toSeconds() + " s (asked at " + asked + ")");
            return Optional.empty();
        } catch (IOException e) {
            unreachable.incrementAndGet();
            return Optional.empty();
        }
    }

    /** The slowest request answered so far. */
    Slowest slowest() {
        return slowest.get();
    }

    List<String> problems() {
        return List.copyOf(problems);
    }
}
