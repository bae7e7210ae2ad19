package dev.orders.command.http;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.EventMetadata;
import dev.orders.events.OrderEvent.OrderCancelled;
import dev.orders.service.security.Security;
import dev.orders.service.security.SecuritySettings;
import dev.orders.testsupport.OpenApiContract;
import dev.orders.testsupport.SessionApiContract;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static dev.orders.command.http.CommandApiFixture.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The OpenAPI document of the command API (the commands, the saga's dead letters and the event feed) checked
 * against the real service: it is served, and for
 * each operation every documented status is provoked with a real request, whose answer must be
 * documented for that operation and match the documented headers, content type and schema. Requests
 * are an operator's unless a case says otherwise; the service allows a customer a burst of
 * {@value #BURST} commands, so that a case can provoke 429 cheaply. The session routes, which every service
 * mounts, have their own document, checked here on the command side ({@link SessionApiContract}).
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The command API's OpenAPI document")
class CommandApiContractTest {

    private static final String CUSTOMERS = "/api/customers";
    private static final String ORDERS = "/api/orders";
    private static final String CANCEL = "/api/orders/{id}/cancel";
    private static final String SAGA_DEAD_LETTERS = "/api/admin/saga/dead-letters";
    private static final String SAGA_REDRIVE = "/api/admin/saga/dead-letters/{id}/redrive";
    private static final String EVENTS = "/api/admin/events";
    private static final String SAGA_PAUSE = "/api/admin/saga/pause";
    private static final String SAGA_RESUME = "/api/admin/saga/resume";
    /** Every operation of the document, as "METHOD path". */
    private static final List<String> OPERATIONS = List.of("POST " + CUSTOMERS, "POST " + ORDERS, "POST " + CANCEL,
            "GET " + SAGA_DEAD_LETTERS, "POST " + SAGA_REDRIVE, "GET " + EVENTS, "POST " + SAGA_PAUSE, "POST " + SAGA_RESUME);
    private static final int BURST = 2;
    private static final String FOREIGN_ORIGIN = "https://elsewhere.example";
    /** Statuses documented but not provoked here: 503 is provoked by {@link CommandOverloadTest}; 500 by no correct request. */
    private static final Set<Integer> PROVOKED_ELSEWHERE = Set.of(500, 503);
    /** Answers only an API-only node gives ({@code command.workers=false}): provoked and checked by {@link ApiOnlyNodeTest}. */
    private static final List<Map.Entry<String, Integer>> PROVOKED_ON_AN_API_ONLY_NODE = List.of(
            Map.entry("POST " + ApiOnlyNodeTest.SAGA_CONTROL_REFUSED.get(0), 409),
            Map.entry("POST " + ApiOnlyNodeTest.SAGA_CONTROL_REFUSED.get(1), 409));
    private static final String TOO_BIG = "{\"name\": \"" + "x".repeat(70_000) + "\"}";

    private CommandApiFixture api;
    private OpenApiContract contract;
    private HttpResponse<Buffer> served;
    private TestTokens tokens;
    /** How a request authenticates: adds a token (or none) to it. */
    private UnaryOperator<HttpRequest<Buffer>> asOperator;

    /** A request that should answer {@code status}; it may send other requests first to set the scene. */
    private record Case(String method, String pathTemplate, int status, String name, Send send) {

        Case(String pathTemplate, int status, String name, Send send) {
            this("POST", pathTemplate, status, name, send);
        }

        String operation() {
            return method + " " + pathTemplate;
        }
    }

    @FunctionalInterface
    private interface Send {
        Sent send() throws Exception;
    }

    /** A response, and the correlation id its request was sent with. */
    private record Sent(HttpResponse<Buffer> response, String correlationId) {
    }

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        api = CommandApiFixture.start(infra.isolatedConfig(),
                SecuritySettings.development().withCommandRate(0.01, BURST));
        tokens = api.tokens;
        String operator = tokens.operator();
        asOperator = bearer(operator);
        served = await(api.client.get(OpenApiDocument.PATH).send());
        assertThat(served.statusCode()).as(served.bodyAsString()).isEqualTo(200);
        contract = new OpenApiContract(served.bodyAsJsonObject());
    }

    @AfterAll
    void stop() throws Exception {
        if (api != null) {
            api.close();
        }
    }

    @Test
    void is_served_as_json_and_is_openapi_3_1_with_the_commands() throws Exception {
        assertThat(served.getHeader("Content-Type")).startsWith("application/json");
        JsonObject document = served.bodyAsJsonObject();
        assertThat(document.getString("openapi")).startsWith("3.1");
        OpenApiContract.assertValidOpenApi31(api.vertx, document);
        assertThat(document).as("the served document is the shipped resource")
                .isEqualTo(OpenApiDocument.load().json());
        assertThat(document.getJsonObject("paths").fieldNames())
                .containsExactlyInAnyOrder(CUSTOMERS, ORDERS, CANCEL, SAGA_DEAD_LETTERS, SAGA_REDRIVE, EVENTS, SAGA_PAUSE,
                        SAGA_RESUME);
        assertThat(contract.operation("POST", CUSTOMERS).getString("operationId")).isEqualTo("createCustomer");
        assertThat(contract.operation("POST", ORDERS).getString("operationId")).isEqualTo("placeOrder");
        assertThat(contract.operation("POST", CANCEL).getString("operationId")).isEqualTo("cancelOrder");
        assertThat(contract.operation("GET", SAGA_DEAD_LETTERS).getString("operationId")).isEqualTo("listSagaDeadLetters");
        assertThat(contract.operation("POST", SAGA_REDRIVE).getString("operationId")).isEqualTo("redriveSagaDeadLetter");
        assertThat(contract.operation("GET", EVENTS).getString("operationId")).isEqualTo("readEventFeed");
        for (String path : List.of(CUSTOMERS, ORDERS, CANCEL)) {
            assertThat(contract.operation("POST", path).getJsonArray("parameters").stream()
                    .map(p -> ((JsonObject) p).getString("name")))
                    .as("%s documents the Idempotency-Key header", path).contains("Idempotency-Key");
        }
        JsonObject schemes = document.getJsonObject("components").getJsonObject("securitySchemes");
        assertThat(schemes.getJsonObject("bearerToken").getString("scheme")).isEqualTo("bearer");
        assertThat(schemes.getJsonObject("sessionCookie").getString("in")).isEqualTo("cookie");
        assertThat(schemes.getJsonObject("sessionCookie").getString("name")).isEqualTo(Security.COOKIE);
        assertThat(document.getJsonArray("security")).as("every operation needs a token by default")
                .containsExactlyInAnyOrder(new JsonObject().put("bearerToken", new JsonArray()),
                        new JsonObject().put("sessionCookie", new JsonArray()));
        JsonObject problem = document.getJsonObject("components").getJsonObject("schemas").getJsonObject("Problem");
        assertThat(problem.getJsonArray("required")).containsExactlyInAnyOrder("type", "title", "status", "detail");
        // every schema of the document compiles
        contract.document().getJsonObject("components").getJsonObject("schemas")
                .forEach(schema -> OpenApiContract.validator((JsonObject) schema.getValue()));
    }

    @Test
    void the_document_is_served_without_a_token_while_the_routes_it_describes_need_one() throws Exception {
        HttpResponse<Buffer> anonymous = await(api.anonymous.get(OpenApiDocument.PATH).send());
        assertThat(anonymous.statusCode()).isEqualTo(200);
        assertThat(anonymous.bodyAsJsonObject()).isEqualTo(OpenApiDocument.load().json());
        HttpResponse<Buffer> anonymousCommand = await(api.anonymous.post("/api/orders/" + UUID.randomUUID() + "/cancel").send());
        assertThat(anonymousCommand.statusCode()).isEqualTo(401);
        assertThat(anonymousCommand.getHeader("WWW-Authenticate")).startsWith("Bearer");
    }

    @Test
    void an_unknown_document_path_answers_a_404_problem() throws Exception {
        HttpResponse<Buffer> missing = await(api.client.get("/api/openapi/nothing.json").send());
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.getHeader("Content-Type")).isEqualTo("application/problem+json");
    }

    @Test
    void the_check_is_not_vacuous_it_refuses_what_the_document_does_not_allow() {
        JsonObject schemas = contract.document().getJsonObject("components").getJsonObject("schemas");
        JsonObject created = new JsonObject().put("customerId", UUID.randomUUID().toString()).put("version", 1);
        OpenApiContract.assertValid(schemas.getJsonObject("CustomerCreated"), created, "a good answer");
        for (JsonObject bad : List.of(created.copy().put("extra", true), created.copy().put("version", 0),
                created.copy().put("customerId", "nope"), created.copy().put("version", "1"))) {
            assertThatThrownBy(() -> OpenApiContract.assertValid(schemas.getJsonObject("CustomerCreated"), bad, "bad"))
                    .as("%s is refused", bad).isInstanceOf(AssertionError.class);
        }
        JsonObject problem = new JsonObject().put("type", "https://orders.dev/problems/not-found").put("title", "Not found")
                .put("status", 404).put("detail", "no order");
        OpenApiContract.assertValid(schemas.getJsonObject("NotFoundProblem"), problem, "a good problem");
        assertThatThrownBy(() -> OpenApiContract.assertValid(schemas.getJsonObject("BadRequestProblem"), problem, "bad"))
                .as("a 404 problem is no 400 problem").isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> OpenApiContract.assertValid(schemas.getJsonObject("NotFoundProblem"),
                problem.copy().put("detail", ""), "bad")).isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> OpenApiContract.assertValid(schemas.getJsonObject("Problem"),
                problem.copy().putNull("title"), "bad")).isInstanceOf(AssertionError.class);
        JsonObject money = new JsonObject().put("name", "A").put("creditLimit",
                new JsonObject().put("amount", "1.234").put("currency", "EUR"));
        assertThatThrownBy(() -> OpenApiContract.assertValid(schemas.getJsonObject("CreateCustomerRequest"), money, "bad"))
                .as("three fraction digits").isInstanceOf(AssertionError.class);
    }

    @TestFactory
    Stream<DynamicTest> the_session_routes_conform_to_their_own_document_on_the_command_side() throws Exception {
        return new SessionApiContract(api.vertx, "127.0.0.1", api.port).tests("the command side");
    }

    @TestFactory
    Stream<DynamicTest> every_documented_status_of_every_command_conforms_to_the_document() {
        List<Case> cases = cases();
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : cases) {
            tests.add(DynamicTest.dynamicTest(c.operation() + " " + c.status() + ": " + c.name(), () -> {
                Sent sent = c.send().send();
                HttpResponse<Buffer> response = sent.response();
                assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(c.status());
                contract.assertConforms(c.method(), c.pathTemplate(), response);
                if (c.status() >= 400) {
                    assertThat(api.eventsOfCorrelation(sent.correlationId()))
                            .as("events written by the rejected request").isZero();
                }
            }));
        }
        tests.add(DynamicTest.dynamicTest("every documented status is provoked above", () -> {
            contract.assertEveryStatusProvoked(OPERATIONS,
                    java.util.stream.Stream.concat(cases.stream().map(c -> Map.entry(c.operation(), c.status())),
                            PROVOKED_ON_AN_API_ONLY_NODE.stream()).toList(), PROVOKED_ELSEWHERE);
        }));
        return tests.stream();
    }

    private List<Case> cases() {
        String customerBody = """
                {"name": "Contract", "creditLimit": {"amount": "1000.00", "currency": "EUR"}}""";
        List<Case> cases = new ArrayList<>();

        // POST /api/customers
        cases.add(new Case(CUSTOMERS, 201, "a valid customer", () -> {
            contract.assertValidRequest("POST", CUSTOMERS, new JsonObject(customerBody));
            return post(CUSTOMERS, customerBody, "application/json", null);
        }));
        cases.add(new Case(CUSTOMERS, 201, "a valid customer with an Idempotency-Key",
                () -> post(CUSTOMERS, customerBody, "application/json", UUID.randomUUID().toString())));
        cases.add(new Case(CUSTOMERS, 400, "malformed JSON", () -> post(CUSTOMERS, "{\"name\": ", "application/json", null)));
        cases.add(new Case(CUSTOMERS, 400, "a smuggled customerId", () -> post(CUSTOMERS, """
                {"name": "A", "creditLimit": {"amount": "1.00", "currency": "EUR"}, "customerId": "%s"}"""
                .formatted(UUID.randomUUID()), "application/json", null)));
        cases.add(new Case(CUSTOMERS, 401, "no token", () -> send(HttpMethod.POST, CUSTOMERS, anonymous(),
                customerBody, "application/json", null)));
        cases.add(new Case(CUSTOMERS, 401, "an expired token", () -> send(HttpMethod.POST, CUSTOMERS,
                bearer(tokens.expired(null)), customerBody, "application/json", null)));
        cases.add(new Case(CUSTOMERS, 403, "a customer's token: only operators create customers", () -> send(
                HttpMethod.POST, CUSTOMERS, bearer(tokens.customer(UUID.randomUUID())), customerBody, "application/json", null)));
        cases.add(new Case(CUSTOMERS, 403, "the cookie from a foreign origin", () -> send(HttpMethod.POST, CUSTOMERS,
                cookie(tokens.operator(), FOREIGN_ORIGIN), customerBody, "application/json", null)));
        cases.add(new Case(CUSTOMERS, 429, "a customer past its burst", () -> pastTheBurst(
                bearer(tokens.customer(UUID.randomUUID())), HttpMethod.POST, CUSTOMERS, customerBody, "application/json")));
        cases.add(new Case(CUSTOMERS, 400, "an unknown field", () -> post(CUSTOMERS, """
                {"name": "A", "creditLimit": {"amount": "1.00", "currency": "EUR"}, "admin": true}""", "application/json", null)));
        cases.add(new Case(CUSTOMERS, 400, "money as a number", () -> post(CUSTOMERS, """
                {"name": "A", "creditLimit": {"amount": 1.00, "currency": "EUR"}}""", "application/json", null)));
        cases.add(new Case(CUSTOMERS, 400, "an Idempotency-Key over 200 characters",
                () -> post(CUSTOMERS, customerBody, "application/json", "k".repeat(201))));
        cases.add(new Case(CUSTOMERS, 413, "a body over 64 KiB", () -> post(CUSTOMERS, TOO_BIG, "application/json", null)));
        cases.add(new Case(CUSTOMERS, 415, "text/plain", () -> post(CUSTOMERS, "name=A", "text/plain", null)));
        cases.add(new Case(CUSTOMERS, 415, "no content type", () -> post(CUSTOMERS, customerBody, null, null)));
        cases.add(new Case(CUSTOMERS, 422, "an Idempotency-Key reused with another body", () -> {
            String key = UUID.randomUUID().toString();
            assertThat(post(CUSTOMERS, customerBody, "application/json", key).response().statusCode()).isEqualTo(201);
            return post(CUSTOMERS, customerBody.replace("Contract", "Other"), "application/json", key);
        }));

        // POST /api/orders
        cases.add(new Case(ORDERS, 202, "an order of a known customer", () -> {
            String body = orderBody(customer("EUR"), "40.00", "EUR");
            contract.assertValidRequest("POST", ORDERS, new JsonObject(body));
            return post(ORDERS, body, "application/json", null);
        }));
        cases.add(new Case(ORDERS, 400, "a customerId that is no UUID",
                () -> post(ORDERS, orderBody("not-a-uuid", "40.00", "EUR"), "application/json", null)));
        cases.add(new Case(ORDERS, 400, "a zero total",
                () -> post(ORDERS, orderBody(UUID.randomUUID().toString(), "0.00", "EUR"), "application/json", null)));
        cases.add(new Case(ORDERS, 404, "an unknown customer",
                () -> post(ORDERS, orderBody(UUID.randomUUID().toString(), "40.00", "EUR"), "application/json", null)));
        cases.add(new Case(ORDERS, 404, "another customer's id, from a customer", () -> send(HttpMethod.POST, ORDERS,
                bearer(tokens.customer(UUID.fromString(customer("EUR")))), orderBody(customer("EUR"), "40.00", "EUR"),
                "application/json", null)));
        cases.add(new Case(ORDERS, 202, "a customer's own order", () -> {
            String customerId = customer("EUR");
            return send(HttpMethod.POST, ORDERS, bearer(tokens.customer(UUID.fromString(customerId))),
                    orderBody(customerId, "40.00", "EUR"), "application/json", null);
        }));
        cases.add(new Case(ORDERS, 400, "a smuggled status", () -> post(ORDERS, """
                {"customerId": "%s", "total": {"amount": "40.00", "currency": "EUR"}, "status": "APPROVED"}"""
                .formatted(customer("EUR")), "application/json", null)));
        cases.add(new Case(ORDERS, 401, "a token signed with another key", () -> send(HttpMethod.POST, ORDERS,
                bearer(tokens.signedWithOtherKey(null)), orderBody(customer("EUR"), "40.00", "EUR"), "application/json", null)));
        cases.add(new Case(ORDERS, 403, "the cookie without an Origin", () -> send(HttpMethod.POST, ORDERS,
                cookie(tokens.operator(), null), orderBody(customer("EUR"), "40.00", "EUR"), "application/json", null)));
        cases.add(new Case(ORDERS, 429, "a customer past its burst", () -> {
            String customerId = customer("EUR");
            return pastTheBurst(bearer(tokens.customer(UUID.fromString(customerId))), HttpMethod.POST, ORDERS,
                    orderBody(customerId, "1.00", "EUR"), "application/json");
        }));
        cases.add(new Case(ORDERS, 413, "a body over 64 KiB", () -> post(ORDERS, TOO_BIG, "application/json", null)));
        cases.add(new Case(ORDERS, 415, "text/plain",
                () -> post(ORDERS, orderBody(UUID.randomUUID().toString(), "40.00", "EUR"), "text/plain", null)));
        cases.add(new Case(ORDERS, 422, "a currency other than the customer's",
                () -> post(ORDERS, orderBody(customer("EUR"), "40.00", "USD"), "application/json", null)));
        cases.add(new Case(ORDERS, 422, "an Idempotency-Key reused with another body", () -> {
            String customerId = customer("EUR");
            String key = UUID.randomUUID().toString();
            assertThat(post(ORDERS, orderBody(customerId, "40.00", "EUR"), "application/json", key).response()
                    .statusCode()).isEqualTo(202);
            return post(ORDERS, orderBody(customerId, "41.00", "EUR"), "application/json", key);
        }));

        // POST /api/orders/{id}/cancel
        cases.add(new Case(CANCEL, 202, "a pending order, no body", () -> post(cancel(order()), null, null, null)));
        cases.add(new Case(CANCEL, 202, "a pending order, an empty JSON object and a key",
                () -> post(cancel(order()), "{}", "application/json", UUID.randomUUID().toString())));
        cases.add(new Case(CANCEL, 400, "a body with a field", () -> post(cancel(order()), "{\"reason\": \"x\"}",
                "application/json", null)));
        cases.add(new Case(CANCEL, 400, "malformed JSON", () -> post(cancel(order()), "{", "application/json", null)));
        cases.add(new Case(CANCEL, 404, "an unknown order", () -> post(cancel(UUID.randomUUID().toString()), null, null, null)));
        cases.add(new Case(CANCEL, 404, "an id that is no UUID", () -> post("/api/orders/nope/cancel", null, null, null)));
        cases.add(new Case(CANCEL, 404, "another customer's order, from a customer", () -> send(HttpMethod.POST,
                cancel(order()), bearer(tokens.customer(UUID.randomUUID())), null, null, null)));
        cases.add(new Case(CANCEL, 400, "a smuggled customerId", () -> post(cancel(order()), """
                {"customerId": "%s"}""".formatted(UUID.randomUUID()), "application/json", null)));
        cases.add(new Case(CANCEL, 401, "no token", () -> send(HttpMethod.POST, cancel(order()), anonymous(), null, null, null)));
        cases.add(new Case(CANCEL, 401, "a malformed token", () -> send(HttpMethod.POST, cancel(order()),
                bearer("not.a.jwt"), null, null, null)));
        cases.add(new Case(CANCEL, 403, "the cookie from a foreign origin", () -> send(HttpMethod.POST, cancel(order()),
                cookie(tokens.operator(), FOREIGN_ORIGIN), null, null, null)));
        cases.add(new Case(CANCEL, 429, "a customer past its burst", () -> pastTheBurst(
                bearer(tokens.customer(UUID.randomUUID())), HttpMethod.POST, cancel(UUID.randomUUID().toString()), null, null)));
        cases.add(new Case(CANCEL, 409, "an order cancelled before", () -> {
            String orderId = order();
            assertThat(post(cancel(orderId), null, null, null).response().statusCode()).isEqualTo(202);
            return post(cancel(orderId), null, null, null);
        }));
        cases.add(new Case(CANCEL, 413, "a body over 64 KiB", () -> post(cancel(order()), TOO_BIG, "application/json", null)));
        cases.add(new Case(CANCEL, 415, "a text/plain body", () -> post(cancel(order()), "please", "text/plain", null)));
        cases.add(new Case(CANCEL, 422, "an Idempotency-Key used for another order", () -> {
            String key = UUID.randomUUID().toString();
            assertThat(post(cancel(order()), null, null, key).response().statusCode()).isEqualTo(202);
            return post(cancel(order()), null, null, key);
        }));

        sagaDeadLetterCases(cases);
        eventFeedCases(cases);
        sagaControlCases(cases);
        return cases;
    }

    /** GET /api/admin/events: the events this test's commands appended, once the relay has published them. */
    private void eventFeedCases(List<Case> cases) {
        cases.add(new Case("GET", EVENTS, 200, "the published events from the start", () -> {
            customer("EUR");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            Sent page;
            do {
                page = send(HttpMethod.GET, EVENTS, asOperator, null, null, null);
                assertThat(System.nanoTime()).as("an event published within 30 s").isLessThan(deadline);
            } while (page.response().bodyAsJsonObject().getJsonArray("events").isEmpty());
            return page;
        }));
        cases.add(new Case("GET", EVENTS, 200, "one event after the first", () -> {
            Sent page = send(HttpMethod.GET, EVENTS + "?after=1&limit=1", asOperator, null, null, null);
            assertThat(page.response().bodyAsJsonObject().getJsonArray("events")).hasSizeLessThanOrEqualTo(1);
            return page;
        }));
        cases.add(new Case("GET", EVENTS, 400, "a limit over 5000",
                () -> send(HttpMethod.GET, EVENTS + "?limit=5001", asOperator, null, null, null)));
        cases.add(new Case("GET", EVENTS, 400, "a position that is no number",
                () -> send(HttpMethod.GET, EVENTS + "?after=last", asOperator, null, null, null)));
        cases.add(new Case("GET", EVENTS, 401, "no token", () -> send(HttpMethod.GET, EVENTS, anonymous(), null, null, null)));
        cases.add(new Case("GET", EVENTS, 403, "a customer's token: operators only",
                () -> send(HttpMethod.GET, EVENTS, bearer(tokens.customer(UUID.randomUUID())), null, null, null)));
    }

    /** POST /api/admin/saga/pause and .../resume: the saga paused, then going on. */
    private void sagaControlCases(List<Case> cases) {
        cases.add(new Case(SAGA_PAUSE, 200, "an operator pauses the saga", () -> {
            Sent paused = post(SAGA_PAUSE, null, null, null);
            assertThat(paused.response().bodyAsJsonObject().getBoolean("paused")).isTrue();
            return paused;
        }));
        cases.add(new Case(SAGA_RESUME, 200, "an operator resumes it", () -> {
            Sent resumed = post(SAGA_RESUME, null, null, null);
            assertThat(resumed.response().bodyAsJsonObject().getBoolean("paused")).isFalse();
            return resumed;
        }));
        for (String path : List.of(SAGA_PAUSE, SAGA_RESUME)) {
            cases.add(new Case(path, 401, "no token", () -> send(HttpMethod.POST, path, anonymous(), null, null, null)));
            cases.add(new Case(path, 403, "a customer's token: operators only", () -> send(HttpMethod.POST, path,
                    bearer(tokens.customer(UUID.randomUUID())), null, null, null)));
        }
    }

    /** GET /api/admin/saga/dead-letters and POST .../{id}/redrive, on records parked here for the purpose. */
    private void sagaDeadLetterCases(List<Case> cases) {
        cases.add(new Case("GET", SAGA_DEAD_LETTERS, 200, "the first page, with a cursor to the next", () -> {
            parked("{not json".getBytes(StandardCharsets.UTF_8));
            parked(new byte[] {(byte) 0xff, 0, 1});
            Sent first = send(HttpMethod.GET, SAGA_DEAD_LETTERS + "?limit=1", asOperator, null, null, null);
            assertThat(first.response().bodyAsJsonObject().getString("next")).isNotNull();
            return first;
        }));
        cases.add(new Case("GET", SAGA_DEAD_LETTERS, 200, "the page after a cursor", () -> {
            parked(new byte[] {(byte) 0xfe});
            HttpResponse<Buffer> first = send(HttpMethod.GET, SAGA_DEAD_LETTERS + "?limit=1", asOperator, null, null, null)
                    .response();
            return send(HttpMethod.GET, SAGA_DEAD_LETTERS + "?limit=1&after=" + first.bodyAsJsonObject().getString("next"),
                    asOperator, null, null, null);
        }));
        cases.add(new Case("GET", SAGA_DEAD_LETTERS, 400, "a limit of 0",
                () -> send(HttpMethod.GET, SAGA_DEAD_LETTERS + "?limit=0", asOperator, null, null, null)));
        cases.add(new Case("GET", SAGA_DEAD_LETTERS, 400, "a cursor this API did not give out",
                () -> send(HttpMethod.GET, SAGA_DEAD_LETTERS + "?after=nope!", asOperator, null, null, null)));
        cases.add(new Case("GET", SAGA_DEAD_LETTERS, 401, "no token",
                () -> send(HttpMethod.GET, SAGA_DEAD_LETTERS, anonymous(), null, null, null)));
        cases.add(new Case("GET", SAGA_DEAD_LETTERS, 403, "a customer's token: operators only",
                () -> send(HttpMethod.GET, SAGA_DEAD_LETTERS, bearer(tokens.customer(UUID.randomUUID())), null, null, null)));

        cases.add(new Case(SAGA_REDRIVE, 200, "a parked release of credit, whose reaction runs now",
                () -> post(redrive(parked(cancelled(UUID.fromString(customer("EUR"))))), null, null, null)));
        cases.add(new Case(SAGA_REDRIVE, 200, "a parked release for a customer that does not exist: refused",
                () -> post(redrive(parked(cancelled(UUID.randomUUID()))), null, null, null)));
        cases.add(new Case(SAGA_REDRIVE, 200, "an undecodable record, with the corrected envelope", () -> {
            JsonObject body = new JsonObject().put("payload",
                    new JsonObject(new String(cancelled(UUID.fromString(customer("EUR"))), StandardCharsets.UTF_8)));
            contract.assertValidRequest("POST", SAGA_REDRIVE, body);
            return post(redrive(parked("{not json".getBytes(StandardCharsets.UTF_8))), body.encode(), "application/json",
                    null);
        }));
        cases.add(new Case(SAGA_REDRIVE, 400, "an id that is no number", () -> post(redrive("one"), null, null, null)));
        cases.add(new Case(SAGA_REDRIVE, 400, "a payload that is no object", () -> post(
                redrive(parked("{not json".getBytes(StandardCharsets.UTF_8))), "{\"payload\": 1}", "application/json", null)));
        cases.add(new Case(SAGA_REDRIVE, 400, "an unknown field", () -> post(
                redrive(parked("{not json".getBytes(StandardCharsets.UTF_8))), "{\"force\": true}", "application/json", null)));
        cases.add(new Case(SAGA_REDRIVE, 401, "no token", () -> send(HttpMethod.POST,
                redrive(parked("{not json".getBytes(StandardCharsets.UTF_8))), anonymous(), null, null, null)));
        cases.add(new Case(SAGA_REDRIVE, 403, "a customer's token: operators only", () -> send(HttpMethod.POST,
                redrive(parked("{not json".getBytes(StandardCharsets.UTF_8))), bearer(tokens.customer(UUID.randomUUID())),
                null, null, null)));
        cases.add(new Case(SAGA_REDRIVE, 403, "the cookie from a foreign origin", () -> send(HttpMethod.POST,
                redrive(parked("{not json".getBytes(StandardCharsets.UTF_8))), cookie(tokens.operator(), FOREIGN_ORIGIN),
                null, null, null)));
        cases.add(new Case(SAGA_REDRIVE, 404, "an unknown id", () -> post(redrive("987654321"), null, null, null)));
        cases.add(new Case(SAGA_REDRIVE, 409, "a record re-driven before", () -> {
            String id = parked(cancelled(UUID.fromString(customer("EUR"))));
            assertThat(post(redrive(id), null, null, null).response().statusCode()).isEqualTo(200);
            return post(redrive(id), null, null, null);
        }));
        cases.add(new Case(SAGA_REDRIVE, 413, "a body over 64 KiB", () -> post(
                redrive(parked("{not json".getBytes(StandardCharsets.UTF_8))), TOO_BIG, "application/json", null)));
        cases.add(new Case(SAGA_REDRIVE, 415, "text/plain", () -> post(
                redrive(parked("{not json".getBytes(StandardCharsets.UTF_8))), "again", "text/plain", null)));
        cases.add(new Case(SAGA_REDRIVE, 422, "a record that still cannot be decoded, which stays parked", () -> {
            String id = parked("{not json".getBytes(StandardCharsets.UTF_8));
            Sent failed = post(redrive(id), null, null, null);
            assertThat(await(api.side.pool().preparedQuery("SELECT state, attempts FROM saga_dead_letters WHERE id = $1")
                    .execute(Tuple.of(Long.parseLong(id)))).iterator().next().toJson())
                    .isEqualTo(new JsonObject().put("state", "PARKED").put("attempts", 2));
            return failed;
        }));
    }

    /** Parks a record as the saga would (on the order topic, attempt 1); its dead letter's id. */
    private String parked(byte[] payload) throws Exception {
        return Long.toString(await(api.side.pool().preparedQuery("""
                INSERT INTO saga_dead_letters (topic, partition, "offset", key, payload, error, attempts)
                VALUES ('contract.order', 0, nextval('saga_dead_letters_id_seq'), 'k', $1, 'it cannot be decoded', 1)
                RETURNING id""").execute(Tuple.of(Buffer.buffer(payload)))).iterator().next().getLong(0));
    }

    /** A published OrderCancelled of an order of this customer: its reaction releases the order's credit. */
    private static byte[] cancelled(UUID customerId) {
        UUID orderId = UUID.randomUUID();
        return EventJson.encode(new EventEnvelope(UUID.randomUUID(), 2, 7, Instant.now(), 1,
                new EventMetadata("contract-" + orderId, null, null, null), new OrderCancelled(orderId, customerId)));
    }

    private static String redrive(String id) {
        return "/api/admin/saga/dead-letters/" + id + "/redrive";
    }

    private static UnaryOperator<HttpRequest<Buffer>> anonymous() {
        return request -> request;
    }

    private static UnaryOperator<HttpRequest<Buffer>> bearer(String token) {
        return TestTokens.asBearer(token);
    }

    /** The token as the session cookie, with this {@code Origin} (null: none). */
    private static UnaryOperator<HttpRequest<Buffer>> cookie(String token, String origin) {
        return TestTokens.asCookie(token, origin);
    }

    /** Sends the request {@value #BURST} times (answered as they may be), then once more: that answer. */
    private Sent pastTheBurst(UnaryOperator<HttpRequest<Buffer>> as, HttpMethod method, String path, String body,
                              String contentType) throws Exception {
        for (int i = 0; i < BURST; i++) {
            HttpResponse<Buffer> within = send(method, path, as, body, contentType, null).response();
            assertThat(within.statusCode()).as("within the burst: %s", within.bodyAsString()).isNotEqualTo(429);
        }
        return send(method, path, as, body, contentType, null);
    }

    private Sent post(String path, String body, String contentType, String idempotencyKey) throws Exception {
        return send(HttpMethod.POST, path, asOperator, body, contentType, idempotencyKey);
    }

    private Sent send(HttpMethod method, String path, UnaryOperator<HttpRequest<Buffer>> as, String body,
                      String contentType, String idempotencyKey) throws Exception {
        String correlationId = UUID.randomUUID().toString();
        HttpRequest<Buffer> request = as.apply(api.anonymous.request(method, path)).putHeader("X-Correlation-Id", correlationId);
        if (contentType != null) {
            request.putHeader("Content-Type", contentType);
        }
        if (idempotencyKey != null) {
            request.putHeader("Idempotency-Key", idempotencyKey);
        }
        return new Sent(await(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body))), correlationId);
    }

    private static String orderBody(String customerId, String amount, String currency) {
        return """
                {"customerId": "%s", "total": {"amount": "%s", "currency": "%s"}}""".formatted(customerId, amount, currency);
    }

    private static String cancel(String orderId) {
        return "/api/orders/" + orderId + "/cancel";
    }

    private String customer(String currency) throws Exception {
        HttpResponse<Buffer> created = post(CUSTOMERS, """
                {"name": "Buyer", "creditLimit": {"amount": "1000.00", "currency": "%s"}}""".formatted(currency),
                "application/json", null).response();
        assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
        return created.bodyAsJsonObject().getString("customerId");
    }

    private String order() throws Exception {
        HttpResponse<Buffer> placed = post(ORDERS, orderBody(customer("EUR"), "10.00", "EUR"), "application/json", null)
                .response();
        assertThat(placed.statusCode()).as(placed.bodyAsString()).isEqualTo(202);
        return placed.bodyAsJsonObject().getString("orderId");
    }
}
