package dev.orders.query;

import dev.orders.events.CustomerEvent;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.EventMetadata;
import dev.orders.events.EventTypes;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import dev.orders.events.StreamType;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.events.Topics;
import dev.orders.service.http.ApiRouter;
import dev.orders.service.security.Security;
import dev.orders.service.security.SessionApi;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who may read what on the query routes, behind the real {@link ApiRouter}: no token or a bad one is a
 * 401; a customer reads its own customer and orders, and another customer's ids answer exactly as unknown
 * ids do (same status, same problem, same timing for {@code ?minVersion}); the operators' routes answer a
 * customer 403.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("Who may read what on the query routes")
class QueryAuthorizationTest {

    private static final Duration MIN_VERSION_WAIT = Duration.ofMillis(1000);
    private static final Instant T0 = Instant.parse("2025-03-01T12:00:00Z");

    private final AtomicLong positions = new AtomicLong();
    private Vertx vertx;
    private OrdersConfig config;
    private QuerySide side;
    private HttpServer server;
    private WebClient http;
    private KafkaProducer<String, byte[]> producer;
    private TestTokens tokens;
    private String operator;

    private final UUID alice = UUID.randomUUID();
    private final UUID aliceOrder = UUID.randomUUID();
    private String aliceToken;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        config = infra.isolatedConfig().with("kafka.partitions", "1");
        vertx = Vertx.vertx();
        side = await(QuerySide.deploy(vertx, config, config.effectiveQueryPgUri(), config.kafkaBootstrap(),
                QueryOptions.defaults().withMinVersionWait(MIN_VERSION_WAIT)));
        Router router = ApiRouter.create(vertx, Security.create(vertx, config.securitySettings()),
                await(SessionApi.load(vertx)));
        side.mount(router);
        ApiRouter.finish(router);
        server = await(vertx.createHttpServer().requestHandler(router).listen(0));
        http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("localhost")
                .setDefaultPort(server.actualPort()));
        producer = KafkaProducer.create(vertx, Map.of(
                "bootstrap.servers", config.kafkaBootstrap(),
                "key.serializer", "org.apache.kafka.common.serialization.StringSerializer",
                "value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer",
                "acks", "all"));
        tokens = new TestTokens(vertx);
        operator = tokens.operator();
        aliceToken = tokens.customer(alice);
        publish(envelope(1, T0, new CustomerEvent.CustomerCreated(alice, "Alice", eur("1000.00"))),
                envelope(1, T0.plusSeconds(1), new OrderEvent.OrderCreated(aliceOrder, alice, eur("10.00"))));
        awaitVisible("/api/orders/" + aliceOrder);
        awaitVisible("/api/customers/" + alice);
    }

    @AfterAll
    void stop() throws Exception {
        if (vertx != null) {
            await(producer.close().eventually(() -> side.close()).eventually(() -> server.close()));
            await(vertx.close());
        }
    }

    // --- the tests ---------------------------------------------------------------------------------------

    @Test
    @DisplayName("every route answers a request without a valid token 401, and shows nothing")
    void no_valid_token_is_a_401() throws Exception {
        String order = "/api/orders/" + aliceOrder;
        String customer = "/api/customers/" + alice;
        List<Route> routes = new ArrayList<>();
        for (String uri : List.of(order, order + "?minVersion=1", order + "?asOf=2030-01-01T00:00:00Z",
                order + "/history", customer, customer + "/orders", "/api/customers?minAvailableCredit=0",
                "/api/admin/dead-letters", "/api/admin/rebuild", order + "/stream", customer + "/orders/stream",
                "/api/ws")) {
            routes.add(new Route(HttpMethod.GET, uri));
        }
        routes.add(new Route(HttpMethod.POST, "/api/admin/dead-letters/1/redrive"));
        routes.add(new Route(HttpMethod.POST, "/api/admin/rebuild"));
        Map<String, String> credentials = new LinkedHashMap<>();
        credentials.put("no token", null);
        credentials.put("an expired token", "Authorization=" + TestTokens.bearer(tokens.expired(alice)));
        credentials.put("an expired operator token", "Authorization=" + TestTokens.bearer(tokens.expired(null)));
        credentials.put("a token signed with another key", "Authorization=" + TestTokens.bearer(tokens.signedWithOtherKey(alice)));
        credentials.put("an operator token signed with another key",
                "Authorization=" + TestTokens.bearer(tokens.signedWithOtherKey(null)));
        credentials.put("a malformed token", "Authorization=Bearer not.a.jwt");
        credentials.put("another scheme", "Authorization=Basic YWxpY2U6c2VjcmV0");
        credentials.put("an expired session cookie", "Cookie=" + Security.COOKIE + "=" + tokens.expired(alice));

        for (Route route : routes) {
            for (var credential : credentials.entrySet()) {
                HttpRequest<Buffer> request = http.request(route.method(), route.uri());
                if (credential.getValue() != null) {
                    String[] header = credential.getValue().split("=", 2);
                    request.putHeader(header[0], header[1]);
                }
                HttpResponse<Buffer> response = await(request.send());
                String what = route + " with " + credential.getKey();
                assertThat(response.statusCode()).as(what).isEqualTo(401);
                assertThat(response.getHeader("Content-Type")).as(what).isEqualTo("application/problem+json");
                assertThat(response.getHeader("WWW-Authenticate")).as(what).startsWith("Bearer");
                assertThat(response.bodyAsString()).as(what).doesNotContain("Alice").doesNotContain("PENDING");
            }
        }
        assertThat(rebuildState()).as("no rebuild was started").isEqualTo("IDLE");
    }

    @Test
    @DisplayName("a customer reads its own customer, orders and history, by bearer token or session cookie")
    void a_customer_reads_its_own() throws Exception {
        String order = "/api/orders/" + aliceOrder;
        for (String uri : List.of(order, order + "?minVersion=1", order + "?asOf=2030-01-01T00:00:00Z", order + "/history",
                "/api/customers/" + alice, "/api/customers/" + alice + "/orders",
                "/api/customers/" + alice + "/orders?status=PENDING")) {
            HttpResponse<Buffer> byBearer = get(uri, aliceToken);
            assertThat(byBearer.statusCode()).as(uri + " -> " + byBearer.bodyAsString()).isEqualTo(200);
            HttpResponse<Buffer> byCookie = await(http.get(uri).putHeader("Cookie", Security.COOKIE + "=" + aliceToken).send());
            assertThat(byCookie.statusCode()).as(uri + " by cookie").isEqualTo(200);
            assertThat(byCookie.bodyAsString()).isEqualTo(byBearer.bodyAsString());
        }
        assertThat(get(order, aliceToken).bodyAsJsonObject().getString("customerId")).isEqualTo(alice.toString());
        assertThat(get("/api/customers/" + alice + "/orders", aliceToken).bodyAsJsonObject().getJsonArray("items"))
                .hasSize(1);
    }

    @Test
    @DisplayName("another customer's ids answer exactly as they did while unknown, and show nothing of it")
    void another_customers_ids_answer_as_unknown_ones() throws Exception {
        UUID bob = UUID.randomUUID();
        UUID bobOrder = UUID.randomUUID();
        String cursor = Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("2030-01-01T00:00:00Z|" + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8));
        String order = "/api/orders/" + bobOrder;
        String customer = "/api/customers/" + bob;
        List<String> uris = List.of(order, order + "?asOf=2030-01-01T00:00:00Z", order + "?minVersion=1",
                order + "/history", customer, customer + "/orders", customer + "/orders?status=PENDING&limit=5",
                customer + "/orders?after=" + cursor, "/api/orders/not-a-uuid", customer + "/orders?status=NOPE");

        Map<String, Answer> whileUnknown = new LinkedHashMap<>();
        for (String uri : uris) {
            whileUnknown.put(uri, answer(uri, aliceToken));
        }
        whileUnknown.put("cookie " + order, answer(order, "cookie:" + aliceToken));

        publish(envelope(1, T0, new CustomerEvent.CustomerCreated(bob, "Bob", eur("500.00"))),
                envelope(1, T0.plusSeconds(1), new OrderEvent.OrderCreated(bobOrder, bob, eur("20.00"))));
        awaitVisible(order);
        awaitVisible(customer);
        assertThat(get(customer + "/orders", operator).bodyAsJsonObject().getJsonArray("items")).hasSize(1);
        assertThat(get(order + "/history", operator).statusCode()).isEqualTo(200);
        assertThat(get(order + "?asOf=2030-01-01T00:00:00Z", operator).statusCode()).isEqualTo(200);

        for (String uri : uris) {
            Answer now = answer(uri, aliceToken);
            Answer before = whileUnknown.get(uri);
            assertThat(now.status()).as(uri).isEqualTo(before.status());
            assertThat(now.contentType()).as(uri).isEqualTo(before.contentType());
            assertThat(now.body()).as(uri).isEqualTo(before.body());
            assertThat(now.body().encode()).as(uri).doesNotContain("Bob").doesNotContain("20.00");
            assertThat(now.millis()).as(uri + " takes as long as while unknown")
                    .isGreaterThanOrEqualTo(before.millis() >= MIN_VERSION_WAIT.toMillis() ? MIN_VERSION_WAIT.toMillis() - 50 : 0);
        }
        assertThat(whileUnknown.get(order).status()).isEqualTo(404);
        assertThat(whileUnknown.get(customer).status()).isEqualTo(404);
        assertThat(whileUnknown.get(order + "?minVersion=1").status()).isEqualTo(503);
        assertThat(answer(order, "cookie:" + aliceToken).body()).isEqualTo(whileUnknown.get("cookie " + order).body());

        // And the other way round: Bob does not see Alice's.
        String bobToken = tokens.customer(bob);
        assertThat(get("/api/orders/" + aliceOrder, bobToken).statusCode()).isEqualTo(404);
        assertThat(get("/api/customers/" + alice, bobToken).statusCode()).isEqualTo(404);
        assertThat(get(order, bobToken).statusCode()).isEqualTo(200);
    }

    @Test
    @DisplayName("?minVersion on another customer's order waits the whole bound, even when that order reaches the version")
    void min_version_on_another_customers_order_looks_unknown() throws Exception {
        UUID bob = UUID.randomUUID();
        UUID bobOrder = UUID.randomUUID();
        publish(envelope(1, T0, new OrderEvent.OrderCreated(bobOrder, bob, eur("30.00"))));
        awaitVisible("/api/orders/" + bobOrder);

        long started = System.nanoTime();
        Future<HttpResponse<Buffer>> waiting = request("/api/orders/" + bobOrder + "?minVersion=2", aliceToken).send();
        Thread.sleep(200);
        publish(envelope(2, T0.plusSeconds(1), new OrderEvent.OrderApproved(bobOrder, bob)));
        assertThat(get("/api/orders/" + bobOrder + "?minVersion=2", operator).statusCode()).isEqualTo(200);
        HttpResponse<Buffer> refused = await(waiting);
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.getHeader("Retry-After")).isEqualTo("1");
        assertThat(elapsed).isGreaterThanOrEqualTo(MIN_VERSION_WAIT.toMillis() - 50);
        UUID unknown = UUID.randomUUID();
        JsonObject unknownProblem = get("/api/orders/" + unknown + "?minVersion=2", aliceToken).bodyAsJsonObject();
        assertThat(withoutVariables(refused.bodyAsJsonObject(), bobOrder))
                .isEqualTo(withoutVariables(unknownProblem, unknown));
        assertThat(refused.bodyAsString()).doesNotContain("APPROVED").doesNotContain(bob.toString());
    }

    @Test
    @DisplayName("the customer listing, the dead letters and the rebuild answer a customer 403 and do nothing")
    void operator_routes_refuse_a_customer() throws Exception {
        List<Route> routes = List.of(new Route(HttpMethod.GET, "/api/customers?minAvailableCredit=0"),
                new Route(HttpMethod.GET, "/api/customers"),
                new Route(HttpMethod.GET, "/api/customers?minAvailableCredit=abc"),
                new Route(HttpMethod.GET, "/api/admin/dead-letters"),
                new Route(HttpMethod.POST, "/api/admin/dead-letters/1/redrive"),
                new Route(HttpMethod.GET, "/api/admin/rebuild"),
                new Route(HttpMethod.POST, "/api/admin/rebuild"));
        for (Route route : routes) {
            HttpResponse<Buffer> response = await(request(route.method(), route.uri(), aliceToken).send());
            String what = route.toString();
            assertThat(response.statusCode()).as(what + " -> " + response.bodyAsString()).isEqualTo(403);
            assertThat(response.getHeader("Content-Type")).as(what).isEqualTo("application/problem+json");
            assertThat(response.bodyAsJsonObject().getString("detail")).as(what).contains("only an operator");
            assertThat(response.bodyAsString()).as(what).doesNotContain("Alice");
        }
        assertThat(rebuildState()).as("no rebuild was started").isEqualTo("IDLE");
        assertThat(get("/api/customers?minAvailableCredit=0", operator).statusCode()).isEqualTo(200);
        assertThat(get("/api/admin/dead-letters", operator).statusCode()).isEqualTo(200);
    }

    // --- helpers -----------------------------------------------------------------------------------------

    private record Route(HttpMethod method, String uri) {
        @Override
        public String toString() {
            return method + " " + uri;
        }
    }

    /** An answer as a client sees it, with the variable part of a problem (its correlation id) left out. */
    private record Answer(int status, String contentType, JsonObject body, long millis) {
    }

    private Answer answer(String uri, String token) throws Exception {
        long started = System.nanoTime();
        HttpResponse<Buffer> response = get(uri, token);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        JsonObject body = response.bodyAsJsonObject();
        body.remove("correlationId");
        return new Answer(response.statusCode(), response.getHeader("Content-Type"), body, millis);
    }

    /** A problem without its correlation id, and with the id it names replaced by a placeholder. */
    private static JsonObject withoutVariables(JsonObject problem, UUID id) {
        JsonObject copy = problem.copy();
        copy.remove("correlationId");
        for (String field : List.of("detail", "instance")) {
            if (copy.getString(field) != null) {
                copy.put(field, copy.getString(field).replace(id.toString(), "{id}"));
            }
        }
        return copy;
    }

    private HttpRequest<Buffer> request(String uri, String token) {
        return request(HttpMethod.GET, uri, token);
    }

    /** A request with the token as a bearer header, or as the session cookie when given as {@code cookie:<token>}. */
    private HttpRequest<Buffer> request(HttpMethod method, String uri, String token) {
        HttpRequest<Buffer> request = http.request(method, uri);
        if (token.startsWith("cookie:")) {
            return request.putHeader("Cookie", Security.COOKIE + "=" + token.substring("cookie:".length()));
        }
        return request.putHeader("Authorization", TestTokens.bearer(token));
    }

    private HttpResponse<Buffer> get(String uri, String token) throws Exception {
        return await(request(uri, token).send());
    }

    private String rebuildState() throws Exception {
        return get("/api/admin/rebuild", operator).bodyAsJsonObject().getString("state");
    }

    /** Waits until the operator sees the resource. */
    private void awaitVisible(String uri) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (get(uri, operator).statusCode() != 200) {
            assertThat(System.nanoTime()).as(uri + " becomes visible").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private EventEnvelope envelope(long version, Instant at, DomainEvent event) {
        return new EventEnvelope(UUID.randomUUID(), version, positions.incrementAndGet(), at,
                EventTypes.currentSchemaVersion(event), new EventMetadata("corr-" + event.streamId(), "cause-" + version,
                null, null), event);
    }

    private void publish(EventEnvelope... envelopes) throws Exception {
        for (EventEnvelope e : envelopes) {
            String topic = e.streamType() == StreamType.ORDER ? Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER)
                    : Topics.of(config.kafkaTopicPrefix(), StreamType.CUSTOMER);
            KafkaProducerRecord<String, byte[]> record = KafkaProducerRecord.create(topic, e.streamId().toString(),
                    EventJson.encode(e));
            record.addHeader(Topics.HEADER_TYPE, Topics.cloudEventType(e.type()));
            await(producer.send(record));
        }
    }

    private static Money eur(String amount) {
        return Money.parse(amount, "EUR");
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
