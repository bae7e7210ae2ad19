package dev.orders.command.http;

import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;

import static dev.orders.command.http.CommandApiFixture.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The OpenAPI document of the command API checked against the real service: it is served, and for
 * each operation every documented status is provoked with a real request, whose answer must be
 * documented for that operation and match the documented headers, content type and schema.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The command API's OpenAPI document")
class CommandApiContractTest {

    private static final String CUSTOMERS = "/api/customers";
    private static final String ORDERS = "/api/orders";
    private static final String CANCEL = "/api/orders/{id}/cancel";
    /** Statuses documented but not provoked here: 503 is provoked by {@link CommandOverloadTest}; 500 by no correct request. */
    private static final Set<Integer> PROVOKED_ELSEWHERE = Set.of(500, 503);
    private static final String TOO_BIG = "{\"name\": \"" + "x".repeat(70_000) + "\"}";

    private CommandApiFixture api;
    private OpenApiContract contract;
    private HttpResponse<Buffer> served;

    /** A request that should answer {@code status}; it may send other requests first to set the scene. */
    private record Case(String pathTemplate, int status, String name, Send send) {
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
        api = CommandApiFixture.start(infra.isolatedConfig());
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
    void is_served_as_json_and_is_openapi_3_1_with_the_three_commands() throws Exception {
        assertThat(served.getHeader("Content-Type")).startsWith("application/json");
        JsonObject document = served.bodyAsJsonObject();
        assertThat(document.getString("openapi")).startsWith("3.1");
        assertThat(document).as("the served document is the shipped resource")
                .isEqualTo(OpenApiDocument.load().json());
        assertThat(document.getJsonObject("paths").fieldNames()).containsExactlyInAnyOrder(CUSTOMERS, ORDERS, CANCEL);
        assertThat(contract.operation("POST", CUSTOMERS).getString("operationId")).isEqualTo("createCustomer");
        assertThat(contract.operation("POST", ORDERS).getString("operationId")).isEqualTo("placeOrder");
        assertThat(contract.operation("POST", CANCEL).getString("operationId")).isEqualTo("cancelOrder");
        for (String path : List.of(CUSTOMERS, ORDERS, CANCEL)) {
            assertThat(contract.operation("POST", path).getJsonArray("parameters").stream()
                    .map(p -> ((JsonObject) p).getString("name")))
                    .as("%s documents the Idempotency-Key header", path).contains("Idempotency-Key");
        }
        JsonObject problem = document.getJsonObject("components").getJsonObject("schemas").getJsonObject("Problem");
        assertThat(problem.getJsonArray("required")).containsExactlyInAnyOrder("type", "title", "status", "detail");
        // every schema of the document compiles
        contract.document().getJsonObject("components").getJsonObject("schemas")
                .forEach(schema -> OpenApiContract.validator((JsonObject) schema.getValue()));
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
    Stream<DynamicTest> every_documented_status_of_every_command_conforms_to_the_document() {
        List<Case> cases = cases();
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : cases) {
            tests.add(DynamicTest.dynamicTest("POST " + c.pathTemplate() + " " + c.status() + ": " + c.name(), () -> {
                Sent sent = c.send().send();
                HttpResponse<Buffer> response = sent.response();
                assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(c.status());
                contract.assertConforms("POST", c.pathTemplate(), response);
                if (c.status() >= 400) {
                    assertThat(api.eventsOfCorrelation(sent.correlationId()))
                            .as("events written by the rejected request").isZero();
                }
            }));
        }
        tests.add(DynamicTest.dynamicTest("every documented status is provoked above", () -> {
            Map<String, Set<Integer>> provoked = new TreeMap<>();
            for (Case c : cases) {
                provoked.computeIfAbsent(c.pathTemplate(), p -> new TreeSet<>()).add(c.status());
            }
            for (String path : List.of(CUSTOMERS, ORDERS, CANCEL)) {
                Set<Integer> documented = new TreeSet<>(contract.documentedStatuses("POST", path));
                documented.removeAll(PROVOKED_ELSEWHERE);
                assertThat(provoked.get(path)).as("statuses provoked for POST %s", path).isEqualTo(documented);
            }
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
        return cases;
    }

    private Sent post(String path, String body, String contentType, String idempotencyKey) throws Exception {
        String correlationId = UUID.randomUUID().toString();
        HttpRequest<Buffer> request = api.client.post(path).putHeader("X-Correlation-Id", correlationId);
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
