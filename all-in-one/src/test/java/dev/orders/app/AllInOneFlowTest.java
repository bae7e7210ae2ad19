package dev.orders.app;

import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The all-in-one system end to end over plain HTTP, no browser: the command API, the query API with its
 * consistency token, the SSE push and the health endpoints, all on the one port of {@link OrdersApp}.
 * Callers sign in as users of the development mode do ({@code POST /api/dev/token}): an operator
 * creates the customer, the customer places its order with its bearer token and follows it on a
 * stream authenticated by its session cookie, as the browser's EventSource is.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The all-in-one system over HTTP")
class AllInOneFlowTest {

    private OrdersApp app;
    private Vertx vertx;
    private WebClient client;
    private HttpClient http;
    private String operator;

    @BeforeAll
    void start(TestInfrastructure infra) {
        app = OrdersApp.start(infra.isolatedConfig());
        vertx = Vertx.vertx();
        client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("localhost").setDefaultPort(app.port()));
        http = vertx.createHttpClient();
        operator = signIn(new JsonObject().put("role", "operator")).bodyAsJsonObject().getString("token");
    }

    @AfterAll
    void stop() {
        try {
            if (vertx != null) {
                await(vertx.close());
            }
        } finally {
            if (app != null) {
                app.close();
            }
        }
    }

    @Test
    @DisplayName("GET /health/live and /health/ready answer 200")
    void health_answers_live_and_ready() {
        HttpResponse<Buffer> live = await(client.get("/health/live").send());
        assertThat(live.statusCode()).as(live.bodyAsString()).isEqualTo(200);

        HttpResponse<Buffer> ready = eventually("ready", () -> await(client.get("/health/ready").send()),
                r -> r.statusCode() == 200);
        assertThat(ready.statusCode()).as(ready.bodyAsString()).isEqualTo(200);
    }

    @Test
    @DisplayName("/api answers 401 without a token while health stays open, and every response carries the security headers")
    void the_api_needs_a_token_and_every_response_carries_the_security_headers() {
        HttpResponse<Buffer> anonymous = await(client.get("/api/customers/" + java.util.UUID.randomUUID()).send());
        assertThat(anonymous.statusCode()).as(anonymous.bodyAsString()).isEqualTo(401);
        assertThat(anonymous.getHeader("WWW-Authenticate")).startsWith("Bearer");
        assertThat(anonymous.getHeader("Content-Type")).startsWith("application/problem+json");
        assertThat(anonymous.bodyAsJsonObject().getInteger("status")).isEqualTo(401);

        HttpResponse<Buffer> page = await(client.get("/").send());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.getHeader("Content-Security-Policy")).contains("default-src 'none'").contains("script-src 'self'");
        assertThat(page.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(anonymous.getHeader("Content-Security-Policy")).as("on errors too").isNotBlank();
        assertThat(await(client.get("/health/live").send()).statusCode()).isEqualTo(200);

        HttpResponse<Buffer> session = await(client.get("/api/session").putHeader("Authorization", "Bearer " + operator).send());
        assertThat(session.statusCode()).as(session.bodyAsString()).isEqualTo(200);
        assertThat(session.bodyAsJsonObject().getString("role")).isEqualTo("operator");
    }

    @Test
    @DisplayName("an order placed over HTTP is read back APPROVED through minVersion and pushed PENDING then APPROVED on the stream")
    void an_order_placed_over_http_is_read_back_approved_and_pushed_on_the_stream() {
        // A customer, created by an operator.
        HttpResponse<Buffer> created = await(client.post("/api/customers").putHeader("Authorization", "Bearer " + operator)
                .sendJsonObject(new JsonObject().put("name", "Ada").put("creditLimit", money("1000.00", "EUR"))));
        assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
        String customerId = created.bodyAsJsonObject().getString("customerId");
        assertThat(created.getHeader("Location")).isEqualTo("/api/customers/" + customerId);
        assertThat(created.bodyAsJsonObject().getInteger("version")).isPositive();

        // The customer signs in: a bearer token, and the HttpOnly session cookie a browser keeps.
        HttpResponse<Buffer> signedIn = signIn(new JsonObject().put("customerId", customerId));
        String token = signedIn.bodyAsJsonObject().getString("token");
        String cookie = signedIn.cookies().stream().filter(c -> c.startsWith("orders_session=")).findFirst()
                .orElseThrow(() -> new AssertionError("no session cookie: " + signedIn.cookies()));
        assertThat(cookie).containsIgnoringCase("HttpOnly").containsIgnoringCase("SameSite=Strict");
        customerToken = token;
        eventually("the customer in the read model", () -> await(client.get("/api/customers/" + customerId)
                        .putHeader("Authorization", "Bearer " + token).send()),
                r -> r.statusCode() == 200);

        // Its order stream, opened before the order exists, authenticated by the cookie as EventSource is.
        SseStream stream = await(SseStream.open(http, app.port(), "/api/customers/" + customerId + "/orders/stream",
                cookie.substring(0, cookie.indexOf(';'))));
        assertThat(stream.response.statusCode()).isEqualTo(200);
        assertThat(stream.response.getHeader("Content-Type")).startsWith("text/event-stream");

        // An order, placed by the customer.
        HttpResponse<Buffer> placed = await(client.post("/api/orders").putHeader("Authorization", "Bearer " + token)
                .sendJsonObject(new JsonObject().put("customerId", customerId).put("total", money("250.00", "EUR"))));
        assertThat(placed.statusCode()).as(placed.bodyAsString()).isEqualTo(202);
        JsonObject accepted = placed.bodyAsJsonObject();
        String orderId = accepted.getString("orderId");
        assertThat(placed.getHeader("Location")).isEqualTo("/api/orders/" + orderId);
        assertThat(accepted.getString("status")).isEqualTo("PENDING");
        int acceptedVersion = accepted.getInteger("version");

        // Read back with the consistency token until the saga has settled it.
        JsonObject order = readUntilApproved(orderId, acceptedVersion);
        assertThat(order.getString("orderId")).isEqualTo(orderId);
        assertThat(order.getString("customerId")).isEqualTo(customerId);
        assertThat(order.getJsonObject("total")).isEqualTo(money("250.00", "EUR"));
        assertThat(order.getInteger("version")).isGreaterThan(acceptedVersion);
        assertThat(order.getString("createdAt")).isNotBlank();
        assertThat(order.getString("updatedAt")).isNotBlank();

        // The stream pushed the order as PENDING, then as APPROVED.
        eventually("APPROVED on the stream", () -> stream.statusesOf(orderId), s -> s.contains("APPROVED"));
        assertThat(stream.statusesOf(orderId)).containsExactly("PENDING", "APPROVED");
        List<SseStream.Event> pushed = stream.eventsOf(orderId);
        assertThat(pushed).allSatisfy(e -> {
            assertThat(e.event()).isEqualTo("order");
            assertThat(e.id()).as("a resume id").isNotBlank();
        });
        assertThat(pushed.getFirst().json().getInteger("version")).isEqualTo(acceptedVersion);
        JsonObject last = pushed.getLast().json();
        assertThat(last.getInteger("version")).isEqualTo(order.getInteger("version"));
        assertThat(last.getJsonObject("total")).isEqualTo(order.getJsonObject("total"));
        assertThat(last.getString("customerId")).isEqualTo(customerId);

        // And the credit it reserved.
        JsonObject customer = eventually("250.00 reserved", () -> await(client.get("/api/customers/" + customerId)
                        .putHeader("Authorization", "Bearer " + token).send()),
                r -> r.statusCode() == 200 && amount(r.bodyAsJsonObject().getJsonObject("creditReserved")).compareTo(new BigDecimal("250")) == 0)
                .bodyAsJsonObject();
        assertThat(amount(customer.getJsonObject("availableCredit"))).isEqualByComparingTo("750.00");
        stream.close();
    }

    @Test
    @DisplayName("the operators' status stream shows both sides' stages and dead letters where they share a process")
    void the_status_stream_shows_both_sides_in_one_process() {
        SseStream status = await(SseStream.open(http, app.port(), "/api/admin/status/stream", "orders_session=" + operator));
        assertThat(status.response().statusCode()).isEqualTo(200);
        eventually("a status event", () -> status.events().stream().anyMatch(e -> "status".equals(e.event())), found -> found);
        JsonObject figures = status.events().stream().filter(e -> "status".equals(e.event())).findFirst().orElseThrow().json();
        assertThat(figures.getJsonObject("stages").getJsonObject("relay").getBoolean("known")).isTrue();
        assertThat(figures.getJsonObject("stages").getJsonObject("saga").getBoolean("known")).isTrue();
        assertThat(figures.getJsonObject("deadLetters").fieldNames()).containsExactlyInAnyOrder("projector", "saga");
        assertThat(figures.getJsonObject("deadLetters").getLong("saga")).isNotNegative();
        status.close();
    }

    /** GET /api/orders/{id}?minVersion=N, asking for the next version while it is still PENDING. */
    private JsonObject readUntilApproved(String orderId, int acceptedVersion) {
        Instant deadline = Instant.now().plusSeconds(30);
        int minVersion = acceptedVersion;
        List<String> seen = new ArrayList<>();
        while (Instant.now().isBefore(deadline)) {
            HttpResponse<Buffer> read = await(client.get("/api/orders/" + orderId)
                    .putHeader("Authorization", "Bearer " + customerToken)
                    .addQueryParam("minVersion", Integer.toString(minVersion)).send());
            seen.add(read.statusCode() + (read.statusCode() == 200 ? " " + read.bodyAsJsonObject().getString("status") : ""));
            if (read.statusCode() == 503) {
                assertThat(read.getHeader("Retry-After")).as("503 says when to retry").isNotBlank();
                continue;
            }
            assertThat(read.statusCode()).as(read.bodyAsString()).isEqualTo(200);
            JsonObject order = read.bodyAsJsonObject();
            assertThat(order.getInteger("version")).as("minVersion is honoured").isGreaterThanOrEqualTo(minVersion);
            if ("APPROVED".equals(order.getString("status"))) {
                return order;
            }
            assertThat(order.getString("status")).isEqualTo("PENDING");
            minVersion = order.getInteger("version") + 1;
        }
        throw new AssertionError("order " + orderId + " never read back APPROVED; answers: " + seen);
    }

    // ------------------------------------------------------------------ helpers

    /** The token of the customer the flow test signed in as. */
    private String customerToken;

    /** {@code POST /api/dev/token}, as the development mode's sign-in page does. */
    private HttpResponse<Buffer> signIn(JsonObject who) {
        HttpResponse<Buffer> signedIn = await(client.post("/api/dev/token").sendJsonObject(who));
        assertThat(signedIn.statusCode()).as("sign in as %s: %s", who, signedIn.bodyAsString()).isEqualTo(200);
        assertThat(signedIn.bodyAsJsonObject().getString("token")).isNotBlank();
        return signedIn;
    }

    private static JsonObject money(String amount, String currency) {
        return new JsonObject().put("amount", amount).put("currency", currency);
    }

    private static BigDecimal amount(JsonObject money) {
        return new BigDecimal(money.getString("amount"));
    }

    private static <T> T eventually(String what, Supplier<T> read, java.util.function.Predicate<T> done) {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        T last = null;
        while (Instant.now().isBefore(deadline)) {
            last = read.get();
            if (done.test(last)) {
                return last;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("not " + what + " within 20 s; last: " + describe(last));
    }

    private static String describe(Object value) {
        return value instanceof HttpResponse<?> r ? r.statusCode() + " " + r.bodyAsString() : String.valueOf(value);
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("no answer: " + e, e);
        }
    }

    /** A real HTTP client reading a server-sent event stream into events, as EventSource parses it. */
    static final class SseStream {

        record Event(String event, String id, String data) {
            JsonObject json() {
                return new JsonObject(data);
            }
        }

        final List<Event> events = new CopyOnWriteArrayList<>();
        private final StringBuilder pending = new StringBuilder();
        private HttpClientResponse response;

        /** Opens the stream with a {@code Cookie} header ({@code name=value}), as EventSource sends it. */
        static Future<SseStream> open(HttpClient http, int port, String path, String cookie) {
            SseStream stream = new SseStream();
            RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost("localhost").setPort(port)
                    .setURI(path).putHeader("Accept", "text/event-stream").putHeader("Cookie", cookie);
            return http.request(options)
                    .compose(request -> request.send())
                    .map(response -> {
                        stream.response = response;
                        response.handler(stream::onData);
                        return stream;
                    });
        }

        HttpClientResponse response() {
            return response;
        }

        List<Event> events() {
            return events;
        }

        List<Event> eventsOf(String orderId) {
            return events.stream().filter(e -> "order".equals(e.event()))
                    .filter(e -> orderId.equals(e.json().getString("orderId"))).toList();
        }

        /** The statuses pushed for the order, consecutive repeats folded. */
        List<String> statusesOf(String orderId) {
            List<String> statuses = new ArrayList<>();
            for (Event e : eventsOf(orderId)) {
                String status = e.json().getString("status");
                if (statuses.isEmpty() || !statuses.getLast().equals(status)) {
                    statuses.add(status);
                }
            }
            return statuses;
        }

        void close() {
            response.request().connection().close();
        }

        private synchronized void onData(Buffer chunk) {
            pending.append(chunk.toString().replace("\r\n", "\n"));
            int end;
            while ((end = pending.indexOf("\n\n")) >= 0) {
                String block = pending.substring(0, end);
                pending.delete(0, end + 2);
                String event = null;
                String id = null;
                StringBuilder data = null;
                for (String line : block.split("\n")) {
                    if (line.startsWith(":")) {
                        continue;
                    }
                    int colon = line.indexOf(':');
                    String field = colon < 0 ? line : line.substring(0, colon);
                    String value = colon < 0 ? "" : line.substring(colon + 1).replaceFirst("^ ", "");
                    switch (field) {
                        case "event" -> event = value;
                        case "id" -> id = value;
                        case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                        default -> {
                        }
                    }
                }
                if (data != null) {
                    events.add(new Event(event == null ? "message" : event, id, data.toString()));
                }
            }
        }
    }
}
