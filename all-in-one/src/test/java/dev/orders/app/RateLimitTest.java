package dev.orders.app;

import dev.orders.app.HttpProbe.Answer;
import dev.orders.app.HttpProbe.Request;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The per-customer command rate: with a quota of {@value #PER_SECOND} commands a second (burst
 * {@value #BURST}), customer A sending at fifty times its quota gets 429 with Retry-After for what is
 * over it, and nothing of the refused commands is appended; customer B, within its quota at the same
 * time, is served throughout; operators are not limited.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The command rate limit refuses a flooding customer with 429 and leaves the others served")
class RateLimitTest {

    private static final int PER_SECOND = 2;
    private static final int BURST = 2;
    private static final int FLOOD_SECONDS = 4;
    /** Fifty times the quota. */
    private static final int FLOOD_PER_SECOND = 50 * PER_SECOND;

    private SecuredApp secured;
    private OrdersApp app;
    private HttpProbe probe;
    private Vertx tokenVertx;
    private TestTokens tokens;
    private String operator;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void start(TestInfrastructure infra) {
        secured = SecuredApp.start(infra.isolatedConfig().with(Map.of(
                "rate.commands-per-second", Integer.toString(PER_SECOND), "rate.command-burst", Integer.toString(BURST))));
        app = secured.app();
        probe = secured.probe();
        tokenVertx = secured.tokenVertx();
        tokens = secured.tokens();
        operator = tokens.operator();
    }

    @AfterAll
    void stop() {
        if (secured != null) {
            secured.close();
        }
    }

    @Test
    @DisplayName("A at 50x its quota gets 429 with Retry-After, while B's commands at the same time all succeed")
    void a_flooding_customer_gets_429_while_another_is_served() throws Exception {
        String customerA = createCustomer("Flooder");
        String customerB = createCustomer("Bystander");
        String tokenA = tokens.customer(UUID.fromString(customerA));
        String tokenB = tokens.customer(UUID.fromString(customerB));

        ScheduledExecutorService clock = Executors.newScheduledThreadPool(2);
        List<CompletableFuture<HttpResponse<String>>> ofA = new ArrayList<>();
        List<CompletableFuture<HttpResponse<String>>> ofB = new ArrayList<>();
        long started = System.nanoTime();
        try {
            for (int i = 0; i < FLOOD_SECONDS * FLOOD_PER_SECOND; i++) {
                long at = i * 1_000_000_000L / FLOOD_PER_SECOND;
                CompletableFuture<HttpResponse<String>> sent = new CompletableFuture<>();
                clock.schedule(() -> placeOrder(customerA, tokenA).whenComplete((r, e) -> {
                    if (e != null) {
                        sent.completeExceptionally(e);
                    } else {
                        sent.complete(r);
                    }
                }), at, TimeUnit.NANOSECONDS);
                ofA.add(sent);
            }
            // B: one command every 1.2 s, well within its quota of 2 a second (burst 2) even when two arrive together
            for (long at = 0; at < FLOOD_SECONDS * 1_000L; at += 1_200) {
                CompletableFuture<HttpResponse<String>> sent = new CompletableFuture<>();
                clock.schedule(() -> placeOrder(customerB, tokenB).whenComplete((r, e) -> {
                    if (e != null) {
                        sent.completeExceptionally(e);
                    } else {
                        sent.complete(r);
                    }
                }), at, TimeUnit.MILLISECONDS);
                ofB.add(sent);
            }
            CompletableFuture.allOf(ofA.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            CompletableFuture.allOf(ofB.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        } finally {
            clock.shutdownNow();
        }
        double elapsed = (System.nanoTime() - started) / 1e9;

        List<HttpResponse<String>> answersOfA = ofA.stream().map(CompletableFuture::join).toList();
        List<HttpResponse<String>> answersOfB = ofB.stream().map(CompletableFuture::join).toList();
        List<HttpResponse<String>> acceptedOfA = answersOfA.stream().filter(r -> r.statusCode() == 202).toList();
        List<HttpResponse<String>> limitedOfA = answersOfA.stream().filter(r -> r.statusCode() == 429).toList();

        assertThat(answersOfA).as("A's answers: accepted or limited, nothing else")
                .allSatisfy(r -> assertThat(r.statusCode()).as(r.body()).isIn(202, 429));
        assertThat(acceptedOfA.size()).as("A's accepted commands: at most the burst and the quota over %.1f s", elapsed)
                .isBetween(BURST, BURST + (int) Math.ceil(PER_SECOND * elapsed) + 1);
        assertThat(limitedOfA.size()).as("A's refused commands").isGreaterThanOrEqualTo(answersOfA.size() * 9 / 10);
        assertThat(limitedOfA).allSatisfy(r -> {
            assertThat(r.headers().firstValue("Retry-After")).as("Retry-After on a 429")
                    .hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isBetween(1, 60));
            assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
            assertThat(new JsonObject(r.body()).getInteger("status")).isEqualTo(429);
        });
        assertThat(answersOfB).as("B's commands, within its quota, during A's flood")
                .allSatisfy(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(202));

        // Only what was accepted is there: the refused commands appended nothing.
        assertThat(HttpProbe.within(Duration.ofSeconds(20), () -> ordersOf(customerA) == acceptedOfA.size()))
                .as("A's orders in the read model = its accepted commands (%d); now %d", acceptedOfA.size(), ordersOf(customerA))
                .isTrue();
        assertThat(HttpProbe.await(app.commandSide().pool().query(
                "SELECT count(*) FROM events WHERE event_type = 'OrderCreated'").execute()).iterator().next().getLong(0))
                .as("orders placed in the event store").isEqualTo((long) acceptedOfA.size() + answersOfB.size());

        // A's reads are not limited, and after Retry-After A may command again.
        Answer read = probe.send(Request.get("/api/customers/" + customerA).with("Authorization", TestTokens.bearer(tokenA)));
        assertThat(read.status()).as("A reads while limited: %s", read).isEqualTo(200);
        int retryAfter = limitedOfA.stream().mapToInt(r -> Integer.parseInt(r.headers().firstValue("Retry-After").orElseThrow()))
                .max().orElse(1);
        HttpProbe.pause(retryAfter * 1_000L + 200);
        assertThat(placeOrder(customerA, tokenA).get(30, TimeUnit.SECONDS).statusCode()).as("A after Retry-After").isEqualTo(202);
    }

    @Test
    @DisplayName("an operator is not limited: ten commands at once all succeed")
    void an_operator_is_not_limited() {
        List<Answer> created = new ArrayList<>();
        for (int i = 0; i < 5 * BURST; i++) {
            created.add(probe.send(customerRequest("Operator's customer " + i)));
        }
        assertThat(created).allSatisfy(a -> assertThat(a.status()).as("%s", a).isEqualTo(201));
    }

    private Request customerRequest(String name) {
        return Request.post("/api/customers", new JsonObject().put("name", name)
                        .put("creditLimit", new JsonObject().put("amount", "1000000.00").put("currency", "EUR")))
                .with("Authorization", TestTokens.bearer(operator));
    }

    private String createCustomer(String name) {
        Answer created = probe.send(customerRequest(name));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        String id = created.json().getString("customerId");
        assertThat(HttpProbe.within(Duration.ofSeconds(20), () -> probe.send(Request.get("/api/customers/" + id)
                .with("Authorization", TestTokens.bearer(operator))).status() == 200)).as("customer in the read model").isTrue();
        return id;
    }

    private CompletableFuture<HttpResponse<String>> placeOrder(String customerId, String token) {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://localhost:" + app.port() + "/api/orders"))
                .header("Content-Type", "application/json")
                .header("Authorization", TestTokens.bearer(token))
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("customerId", customerId)
                        .put("total", new JsonObject().put("amount", "1.00").put("currency", "EUR")).encode()))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A's orders in the read model, as an operator reads them. */
    private int ordersOf(String customerId) {
        Answer page = probe.send(Request.get("/api/customers/" + customerId + "/orders?limit=500")
                .with("Authorization", TestTokens.bearer(operator)));
        return page.status() == 200 ? page.json().getJsonArray("items").size() : -1;
    }
}
