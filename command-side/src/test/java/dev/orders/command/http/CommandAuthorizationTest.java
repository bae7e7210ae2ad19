package dev.orders.command.http;

import dev.orders.service.security.Security;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientSession;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static dev.orders.command.http.CommandApiFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who may send which command: a token is needed everywhere; only an operator creates customers and
 * reads the event feed; a customer places and cancels its own orders only, and another customer's ids
 * answer exactly what unknown ids answer; Idempotency-Keys are each caller's own; a command carried by
 * the session cookie must come from an allowed Origin. Whatever is refused appends nothing.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("Authorization of the command API")
class CommandAuthorizationTest {

    private static final String CUSTOMERS = "/api/customers";
    private static final String ORDERS = "/api/orders";
    private static final String FOREIGN_ORIGIN = "https://attacker.example";

    private CommandApiFixture api;
    private TestTokens tokens;

    /** An answer, and the correlation id its request was sent with (the events it wrote carry it). */
    private record Reply(HttpResponse<Buffer> response, String correlationId) {

        int status() {
            return response.statusCode();
        }

        JsonObject json() {
            return response.bodyAsJsonObject();
        }
    }

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        api = CommandApiFixture.start(infra.isolatedConfig());
        tokens = api.tokens;
    }

    @AfterAll
    void stop() throws Exception {
        if (api != null) {
            api.close();
        }
    }

    private Reply send(WebClient as, HttpMethod method, String path, String body, String idempotencyKey,
                       Map<String, String> headers) throws Exception {
        String correlationId = UUID.randomUUID().toString();
        HttpRequest<Buffer> request = as.request(method, path).putHeader("X-Correlation-Id", correlationId);
        if (body != null) {
            request.putHeader("Content-Type", "application/json");
        }
        if (idempotencyKey != null) {
            request.putHeader("Idempotency-Key", idempotencyKey);
        }
        headers.forEach(request::putHeader);
        return new Reply(await(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body))), correlationId);
    }

    private Reply post(WebClient as, String path, String body) throws Exception {
        return send(as, HttpMethod.POST, path, body, null, Map.of());
    }

    private Reply post(WebClient as, String path, String body, String idempotencyKey) throws Exception {
        return send(as, HttpMethod.POST, path, body, idempotencyKey, Map.of());
    }

    private static String customerBody(String name) {
        return """
                {"name": "%s", "creditLimit": {"amount": "1000.00", "currency": "EUR"}}""".formatted(name);
    }

    private static String orderBody(String customerId) {
        return """
                {"customerId": "%s", "total": {"amount": "10.00", "currency": "EUR"}}""".formatted(customerId);
    }

    private static String cancel(String orderId) {
        return "/api/orders/" + orderId + "/cancel";
    }

    /** A new customer, created by an operator. */
    private String customer() throws Exception {
        Reply created = post(api.client, CUSTOMERS, customerBody("Customer"));
        assertThat(created.status()).as(created.response().bodyAsString()).isEqualTo(201);
        return created.json().getString("customerId");
    }

    /** A new order of the customer, placed with the given client's token. */
    private String order(WebClient as, String customerId) throws Exception {
        Reply placed = post(as, ORDERS, orderBody(customerId));
        assertThat(placed.status()).as(placed.response().bodyAsString()).isEqualTo(202);
        return placed.json().getString("orderId");
    }

    private WebClientSession as(String customerId) {
        return api.asCustomer(UUID.fromString(customerId));
    }

    private void assertProblem(Reply reply, int status, String type) {
        assertThat(reply.status()).as(reply.response().bodyAsString()).isEqualTo(status);
        assertThat(reply.response().getHeader("Content-Type")).isEqualTo("application/problem+json");
        assertThat(reply.json().getInteger("status")).isEqualTo(status);
        assertThat(reply.json().getString("type")).isEqualTo("https://orders.dev/problems/" + type);
    }

    private void assertWroteNothing(Reply reply) throws Exception {
        assertThat(api.eventsOfCorrelation(reply.correlationId())).as("events written by the refused request").isZero();
    }

    /**
     * Two answers are one but for what names the request itself: its path, its correlation id and,
     * in the detail, the id it sent.
     */
    private static void assertSameAnswer(Reply actual, String actualId, Reply expected, String expectedId) {
        assertThat(actual.status()).isEqualTo(expected.status());
        assertThat(Set.copyOf(actual.response().headers().names()))
                .isEqualTo(Set.copyOf(expected.response().headers().names()));
        assertThat(actual.response().getHeader("Content-Type")).isEqualTo(expected.response().getHeader("Content-Type"));
        assertThat(withoutRequest(actual.json(), actualId)).isEqualTo(withoutRequest(expected.json(), expectedId));
    }

    private static JsonObject withoutRequest(JsonObject problem, String id) {
        JsonObject copy = problem.copy();
        for (String perRequest : List.of("instance", "correlationId")) {
            assertThat(copy.remove(perRequest)).as(perRequest).isNotNull();
        }
        return copy.put("detail", copy.getString("detail").replace(id, "{id}"));
    }

    @Nested
    @DisplayName("Authentication")
    class Authentication {

        @Test
        void a_command_without_a_token_answers_401_and_appends_nothing() throws Exception {
            String customerId = customer();
            String orderId = order(api.client, customerId);
            for (Reply reply : List.of(post(api.anonymous, CUSTOMERS, customerBody("Anonymous")),
                    post(api.anonymous, ORDERS, orderBody(customerId)),
                    post(api.anonymous, cancel(orderId), null))) {
                assertProblem(reply, 401, "unauthorized");
                assertThat(reply.response().getHeader("WWW-Authenticate")).startsWith("Bearer");
                assertWroteNothing(reply);
            }
            assertThat(api.eventsOfStream(orderId, "OrderCancelled")).isZero();
        }

        @Test
        void expired_foreign_and_malformed_tokens_answer_401_and_append_nothing() throws Exception {
            String customerId = customer();
            UUID customer = UUID.fromString(customerId);
            long before = api.eventsAboutCustomer(customerId);
            for (String token : List.of(tokens.expired(customer), tokens.expired(null), tokens.signedWithOtherKey(customer),
                    tokens.signedWithOtherKey(null), "not.a.jwt", tokens.customer(customer) + "x")) {
                Reply order = post(api.as(token), ORDERS, orderBody(customerId));
                assertProblem(order, 401, "unauthorized");
                assertWroteNothing(order);
                Reply created = post(api.as(token), CUSTOMERS, customerBody("Bad token"));
                assertProblem(created, 401, "unauthorized");
                assertWroteNothing(created);
            }
            assertThat(api.eventsAboutCustomer(customerId)).isEqualTo(before);
        }

        @Test
        void a_token_carried_by_the_session_cookie_counts_as_one_in_the_header() throws Exception {
            WebClientSession browser = WebClientSession.create(api.anonymous);
            String customerId = customer();
            Reply signedIn = post(browser, Security.DEV_TOKEN_PATH, new JsonObject().put("customerId", customerId).encode());
            assertThat(signedIn.status()).as(signedIn.response().bodyAsString()).isEqualTo(200);
            Reply session = send(browser, HttpMethod.GET, Security.SESSION_PATH, null, null, Map.of());
            assertThat(session.status()).as(session.response().bodyAsString()).isEqualTo(200);
            assertThat(session.json().getString("customerId")).isEqualTo(customerId);
            assertThat(session.json().getString("credential")).isEqualTo("cookie");
        }
    }

    @Nested
    @DisplayName("POST /api/customers")
    class CreatingCustomers {

        @Test
        void a_customer_may_not_create_a_customer_403_and_nothing_is_appended_or_remembered() throws Exception {
            String key = UUID.randomUUID().toString();
            Reply refused = post(as(customer()), CUSTOMERS, customerBody("Self-made"), key);
            assertProblem(refused, 403, "forbidden");
            assertWroteNothing(refused);
            long remembered = await(api.side.pool().preparedQuery("SELECT count(*) FROM idempotency_keys WHERE key = $1")
                    .execute(Tuple.of(key)).map(rows -> rows.iterator().next().getLong(0)));
            assertThat(remembered).as("Idempotency-Keys stored for the refused request").isZero();
        }

        @Test
        void an_operator_creates_customers() throws Exception {
            Reply created = post(api.client, CUSTOMERS, customerBody("By an operator"));
            assertThat(created.status()).isEqualTo(201);
            assertThat(api.eventsOfStream(created.json().getString("customerId"))).isEqualTo(1);
        }

        @Test
        void a_smuggled_customerId_or_status_answers_400() throws Exception {
            for (String body : List.of(
                    "{\"name\": \"A\", \"creditLimit\": {\"amount\": \"1.00\", \"currency\": \"EUR\"}, \"customerId\": \""
                            + UUID.randomUUID() + "\"}",
                    "{\"name\": \"A\", \"creditLimit\": {\"amount\": \"1.00\", \"currency\": \"EUR\"}, \"status\": \"ACTIVE\"}")) {
                Reply refused = post(api.client, CUSTOMERS, body);
                assertProblem(refused, 400, "bad-request");
                assertWroteNothing(refused);
            }
        }
    }

    @Nested
    @DisplayName("POST /api/orders")
    class PlacingOrders {

        @Test
        void a_customer_places_an_order_for_itself() throws Exception {
            String customerId = customer();
            String orderId = order(as(customerId), customerId);
            assertThat(api.eventsOfStream(orderId, "OrderCreated")).isEqualTo(1);
            // the saga decides it: approved or rejected, once (the deadline the POST scheduled goes when the
            // credit is reserved, a moment before the approval, so it is no proof on its own)
            long decided = 0;
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (decided == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
                decided = api.eventsOfStream(orderId, "OrderApproved") + api.eventsOfStream(orderId, "OrderRejected");
            }
            assertThat(decided).as("the order decided by the saga").isEqualTo(1);
        }

        @Test
        void another_customers_id_answers_exactly_the_unknown_customer_404_and_appends_nothing() throws Exception {
            String a = customer();
            String b = customer();
            String unknown = UUID.randomUUID().toString();
            long aboutB = api.eventsAboutCustomer(b);

            Reply foreign = post(as(a), ORDERS, orderBody(b));
            Reply missing = post(as(a), ORDERS, orderBody(unknown));

            assertProblem(foreign, 404, "not-found");
            assertProblem(missing, 404, "not-found");
            assertSameAnswer(foreign, b, missing, unknown);

            assertWroteNothing(foreign);
            assertThat(api.eventsAboutCustomer(b)).as("events about B").isEqualTo(aboutB);
            assertThat(api.deadlinesOfCustomer(b)).as("orders of B waiting for a credit check").isZero();
        }

        @Test
        void an_operator_places_orders_for_any_customer() throws Exception {
            String customerId = customer();
            String orderId = order(api.client, customerId);
            assertThat(api.eventsOfStream(orderId, "OrderCreated")).isEqualTo(1);
        }

        @Test
        void a_smuggled_status_or_second_customerId_answers_400_and_appends_nothing() throws Exception {
            String a = customer();
            String b = customer();
            for (String body : List.of(
                    """
                    {"customerId": "%s", "total": {"amount": "10.00", "currency": "EUR"}, "status": "APPROVED"}""".formatted(a),
                    """
                    {"customerId": "%s", "customerId": "%s", "total": {"amount": "10.00", "currency": "EUR"}}""".formatted(a, b),
                    """
                    {"customerId": "%s", "total": {"amount": "10.00", "currency": "EUR", "customerId": "%s"}}""".formatted(a, b))) {
                Reply refused = post(as(a), ORDERS, body);
                assertProblem(refused, 400, "bad-request");
                assertWroteNothing(refused);
            }
            assertThat(api.deadlinesOfCustomer(b)).isZero();
        }
    }

    @Nested
    @DisplayName("POST /api/orders/{id}/cancel")
    class CancellingOrders {

        @Test
        void a_customer_cancels_its_own_order() throws Exception {
            String a = customer();
            String orderId = order(as(a), a);
            Reply cancelled = post(as(a), cancel(orderId), null);
            assertThat(cancelled.status()).as(cancelled.response().bodyAsString()).isEqualTo(202);
            assertThat(api.eventsOfStream(orderId, "OrderCancelled")).isEqualTo(1);
        }

        @Test
        void another_customers_order_answers_exactly_the_unknown_order_404_and_stays_as_it_was() throws Exception {
            String a = customer();
            String b = customer();
            String ordersOfB = order(as(b), b);

            String unknown = UUID.randomUUID().toString();
            Reply foreign = post(as(a), cancel(ordersOfB), null);
            Reply missing = post(as(a), cancel(unknown), null);

            assertProblem(foreign, 404, "not-found");
            assertSameAnswer(foreign, ordersOfB, missing, unknown);
            assertWroteNothing(foreign);
            assertThat(api.eventsOfStream(ordersOfB, "OrderCancelled")).as("B's order cancelled").isZero();
            // still B's to cancel: had A's request cancelled it, this would answer 409
            Reply byOwner = post(as(b), cancel(ordersOfB), null);
            assertThat(byOwner.status()).as(byOwner.response().bodyAsString()).isEqualTo(202);
        }

        @Test
        void a_refused_cancel_does_not_take_the_idempotency_key_of_the_owner() throws Exception {
            String a = customer();
            String b = customer();
            String ordersOfB = order(as(b), b);
            String key = UUID.randomUUID().toString();
            assertProblem(post(as(a), cancel(ordersOfB), null, key), 404, "not-found");
            Reply byOwner = post(as(b), cancel(ordersOfB), null, key);
            assertThat(byOwner.status()).as(byOwner.response().bodyAsString()).isEqualTo(202);
            assertProblem(post(as(a), cancel(ordersOfB), null, key), 404, "not-found");
        }

        @Test
        void an_operator_cancels_any_customers_order() throws Exception {
            String a = customer();
            String orderId = order(as(a), a);
            Reply cancelled = post(api.client, cancel(orderId), null);
            assertThat(cancelled.status()).as(cancelled.response().bodyAsString()).isEqualTo(202);
            assertThat(api.eventsOfStream(orderId, "OrderCancelled")).isEqualTo(1);
        }

        @Test
        void a_smuggled_customerId_or_status_answers_400_and_appends_nothing() throws Exception {
            String a = customer();
            String orderId = order(as(a), a);
            for (String body : List.of("{\"customerId\": \"" + a + "\"}", "{\"status\": \"CANCELLED\"}")) {
                Reply refused = post(as(a), cancel(orderId), body);
                assertProblem(refused, 400, "bad-request");
                assertWroteNothing(refused);
            }
            assertThat(api.eventsOfStream(orderId, "OrderCancelled")).isZero();
        }
    }

    @Nested
    @DisplayName("Idempotency-Key")
    class IdempotencyKeysPerCaller {

        @Test
        void a_key_reused_by_another_customer_neither_leaks_the_first_answer_nor_conflicts_with_it() throws Exception {
            String a = customer();
            String b = customer();
            String key = UUID.randomUUID().toString();
            Reply first = post(as(a), ORDERS, orderBody(a), key);
            assertThat(first.status()).isEqualTo(202);
            String ordersOfA = first.json().getString("orderId");

            // B replays A's very request: it is B's own, for a customer B is not
            Reply replayed = post(as(b), ORDERS, orderBody(a), key);
            assertProblem(replayed, 404, "not-found");
            assertThat(replayed.response().bodyAsString()).doesNotContain(ordersOfA);
            assertThat(replayed.response().getHeader("Location")).isNull();

            // B's own order with the same key is a new command, not A's answer and not a conflict
            Reply own = post(as(b), ORDERS, orderBody(b), key);
            assertThat(own.status()).as(own.response().bodyAsString()).isEqualTo(202);
            assertThat(own.json().getString("orderId")).isNotEqualTo(ordersOfA);
            // one OrderCreated of its own (the saga's reactions, which may already follow, carry the same correlation)
            assertThat(api.eventsOfCorrelation(own.correlationId(), "OrderCreated")).isEqualTo(1);

            // A still gets its first answer, and nothing new
            Reply again = post(as(a), ORDERS, orderBody(a), key);
            assertThat(again.status()).isEqualTo(202);
            assertThat(again.json()).isEqualTo(first.json());
            assertThat(api.eventsOfCorrelation(again.correlationId())).isZero();
        }

        @Test
        void an_operator_reusing_a_customers_key_gets_an_answer_of_its_own() throws Exception {
            String a = customer();
            String key = UUID.randomUUID().toString();
            Reply byCustomer = post(as(a), ORDERS, orderBody(a), key);
            Reply byOperator = post(api.client, ORDERS, orderBody(a), key);
            assertThat(byCustomer.status()).isEqualTo(202);
            assertThat(byOperator.status()).isEqualTo(202);
            assertThat(byOperator.json().getString("orderId")).isNotEqualTo(byCustomer.json().getString("orderId"));
        }
    }

    @Nested
    @DisplayName("Commands carried by the session cookie")
    class SessionCookie {

        /** A browser signed in as the customer: the cookie store holds its session cookie. */
        private WebClientSession signedIn(String customerId) throws Exception {
            WebClientSession browser = WebClientSession.create(api.anonymous);
            Reply token = post(browser, Security.DEV_TOKEN_PATH, new JsonObject().put("customerId", customerId).encode());
            assertThat(token.status()).as(token.response().bodyAsString()).isEqualTo(200);
            assertThat(token.response().getHeader("Set-Cookie")).startsWith(Security.COOKIE + "=").containsIgnoringCase("HttpOnly")
                    .containsIgnoringCase("SameSite=Strict");
            return browser;
        }

        @Test
        void a_command_from_a_foreign_origin_or_none_answers_403_and_appends_nothing() throws Exception {
            String a = customer();
            WebClientSession browser = signedIn(a);
            long aboutA = api.eventsAboutCustomer(a);
            for (Map<String, String> origin : List.of(Map.of("Origin", FOREIGN_ORIGIN), Map.<String, String>of(),
                    Map.of("Origin", "null"), Map.of("Origin", "http://localhost:" + api.port))) {
                Reply refused = send(browser, HttpMethod.POST, ORDERS, orderBody(a), null, origin);
                assertProblem(refused, 403, "forbidden");
                assertWroteNothing(refused);
                Reply cancelRefused = send(browser, HttpMethod.POST, cancel(UUID.randomUUID().toString()), null, null, origin);
                assertProblem(cancelRefused, 403, "forbidden");
            }
            assertThat(api.eventsAboutCustomer(a)).as("events about the customer").isEqualTo(aboutA);
            assertThat(api.deadlinesOfCustomer(a)).isZero();
        }

        @Test
        void a_command_from_the_services_own_origin_is_accepted() throws Exception {
            String a = customer();
            WebClientSession browser = signedIn(a);
            Reply placed = send(browser, HttpMethod.POST, ORDERS, orderBody(a), null, Map.of("Origin", api.ownOrigin()));
            assertThat(placed.status()).as(placed.response().bodyAsString()).isEqualTo(202);
            String orderId = placed.json().getString("orderId");
            Reply cancelled = send(browser, HttpMethod.POST, cancel(orderId), null, null, Map.of("Origin", api.ownOrigin()));
            assertThat(cancelled.status()).as(cancelled.response().bodyAsString()).isEqualTo(202);
        }

        @Test
        void the_cookie_of_one_customer_does_not_reach_another_customers_order() throws Exception {
            String a = customer();
            String b = customer();
            String ordersOfB = order(as(b), b);
            Reply refused = send(signedIn(a), HttpMethod.POST, cancel(ordersOfB), null, null,
                    Map.of("Origin", api.ownOrigin()));
            assertProblem(refused, 404, "not-found");
            assertThat(api.eventsOfStream(ordersOfB, "OrderCancelled")).isZero();
        }
    }

    @Nested
    @DisplayName("GET /api/admin/events")
    class EventFeed {

        @Test
        void a_customer_gets_403_an_anonymous_caller_401_and_an_operator_the_feed() throws Exception {
            String path = EventFeedRoutes.PATH + "?after=0&limit=5";
            assertProblem(send(as(customer()), HttpMethod.GET, path, null, null, Map.of()), 403, "forbidden");
            Reply anonymous = send(api.anonymous, HttpMethod.GET, path, null, null, Map.of());
            assertProblem(anonymous, 401, "unauthorized");
            Reply operator = send(api.client, HttpMethod.GET, path, null, null, Map.of());
            assertThat(operator.status()).as(operator.response().bodyAsString()).isEqualTo(200);
            assertThat(operator.json().getJsonArray("events")).isNotNull();
        }
    }
}
