package dev.orders.query.http;

import dev.orders.infra.config.OrdersConfig;
import dev.orders.query.QuerySide;
import dev.orders.query.rebuild.ApiServer;
import dev.orders.testsupport.OpenApiContract;
import dev.orders.testsupport.SessionApiContract;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The query routes' parameters are checked against the OpenAPI document the service serves: each bound,
 * pattern and format of a documented path or query parameter, violated in turn, is a 400 bad-request problem
 * that names the parameter. The parameters and their rules are taken from the served document, not listed
 * here, so a rule the document adds is covered without touching this test. Authentication and the
 * operators-only 403 come first; what the document cannot say stays the route's. The session routes, which the
 * query side mounts too, are checked against their own document ({@link SessionApiContract}).
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("Query requests are validated from the served OpenAPI document")
class QueryContractValidationTest {

    private static final String BAD_REQUEST = "https://orders.dev/problems/bad-request";
    /** The operations whose parameters are checked from the document, by their path template. */
    private static final List<String> CHECKED = List.of("/api/orders/{orderId}", "/api/orders/{orderId}/history",
            "/api/orders", "/api/customers", "/api/customers/{customerId}", "/api/customers/{customerId}/orders",
            "/api/admin/dead-letters");
    /** The SSE streams, whose path and query parameters are checked from the document before a stream opens. */
    private static final List<String> STREAMS = List.of("/api/customers/{id}/orders/stream", "/api/orders/{id}/stream",
            "/api/orders/stream");

    private Vertx vertx;
    private QuerySide side;
    private int port;
    private WebClient http;
    private OpenApiContract contract;
    private String operator;
    private String customer;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig().with("kafka.partitions", "1");
        vertx = Vertx.vertx();
        side = await(QuerySide.deploy(vertx, config, config.effectiveQueryPgUri(), config.kafkaBootstrap()));
        port = await(ApiServer.serve(vertx, side::mount));
        http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port));
        TestTokens tokens = new TestTokens(vertx);
        operator = tokens.operator();
        customer = tokens.customer(UUID.randomUUID());
        HttpResponse<Buffer> served = await(http.get(QueryApiDocument.PATH).send());
        assertThat(served.statusCode()).isEqualTo(200);
        contract = new OpenApiContract(served.bodyAsJsonObject());
    }

    @TestFactory
    Stream<DynamicTest> the_session_routes_conform_to_their_own_document_on_the_query_side() throws Exception {
        return new SessionApiContract(vertx, "127.0.0.1", port).tests("the query side");
    }

    @AfterAll
    void stop() throws Exception {
        if (vertx != null) {
            await(side.close());
            await(vertx.close());
        }
    }

    @Test
    void each_documented_parameter_rule_violated_in_turn_is_a_400_naming_the_parameter() throws Exception {
        List<String> checked = new ArrayList<>();
        for (String template : CHECKED) {
            checked.addAll(refuseEachRule(template));
            // the valid request itself passes, so each refusal above is the violated rule's
            assertThat(get(validUri(template), operator).statusCode()).as("GET %s", validUri(template))
                    .isIn(200, 404);
        }
        assertThat(checked).as("the rules the document states for the query parameters")
                .contains("orderId pattern", "customerId pattern", "minVersion minimum", "minVersion maximum",
                        "asOf format", "status pattern", "limit minimum", "limit maximum", "after pattern",
                        "minAvailableCredit pattern", "currency pattern");
    }

    @Test
    void the_streams_parameters_are_checked_against_their_operations_before_a_stream_opens() throws Exception {
        List<String> checked = new ArrayList<>();
        for (String template : STREAMS) {
            checked.addAll(refuseEachRule(template));
        }
        assertThat(checked).as("the rules the document states for the streams' parameters")
                .contains("id pattern", "lastEventId pattern");
        String order = validPathValue("id");
        // what the document cannot say stays the route's: a line break after the id ($ of Java's patterns),
        // a position past the range of one, and the Last-Event-ID header, which the routes read
        assertRefused("/api/orders/" + order + "%0A/stream", "is not a UUID", "a line break after the id");
        assertRefused("/api/orders/" + order + "/stream?lastEventId=9999999999999999999", "out of range",
                "a position past the range of one");
        HttpResponse<Buffer> badHeader = await(http.get("/api/orders/" + order + "/stream")
                .putHeader("Authorization", TestTokens.bearer(operator)).putHeader("Last-Event-ID", "x").send());
        assertThat(badHeader.statusCode()).as("a Last-Event-ID that is not a position").isEqualTo(400);
        assertThat(get("/api/orders/stream?lastEventId=x", customer).statusCode())
                .as("a customer on the operators' stream, before its parameters").isEqualTo(403);
    }

    @Test
    void a_websocket_handshake_is_checked_against_its_operation() throws Exception {
        JsonArray parameters = contract.operation("GET", "/api/ws").getJsonArray("parameters");
        assertThat(parameters.stream().map(p -> ((JsonObject) p).getString("name")))
                .contains("Upgrade", "Sec-WebSocket-Version");
        assertRefused("/api/ws", "Upgrade", "no Upgrade header: not a handshake");
        HttpResponse<Buffer> oldVersion = await(http.get("/api/ws").putHeader("Authorization", TestTokens.bearer(customer))
                .putHeader("Upgrade", "WebSocket").putHeader("Sec-WebSocket-Version", "8").send());
        assertThat(oldVersion.statusCode()).as(oldVersion.bodyAsString()).isEqualTo(400);
        assertThat(oldVersion.bodyAsJsonObject().getString("type")).isEqualTo(BAD_REQUEST);
        assertThat(oldVersion.bodyAsJsonObject().getString("detail")).contains("Sec-WebSocket-Version");
    }

    @Test
    void a_redrive_is_checked_against_its_operation_after_the_strict_read() throws Exception {
        assertThat(contract.operation("POST", "/api/admin/dead-letters/{id}/redrive").getJsonArray("parameters")
                .getJsonObject(0).getJsonObject("schema").getLong("minimum")).isEqualTo(1L);
        assertRefusedPost("/api/admin/dead-letters/0/redrive", null, "id", "a dead letter's number below the minimum");
        assertRefusedPost("/api/admin/dead-letters/1/redrive", "{\"payload\": {}, \"reason\": \"x\"}", "reason",
                "a field the document does not declare");
        assertRefusedPost("/api/admin/dead-letters/1/redrive", "{\"payload\": {}, \"payload\": {}}", "payload",
                "a duplicate key, which the strict read refuses first");
        // the body's rules are the document's alone (RedriveRequest reads the payload the check let through)
        assertRefusedPost("/api/admin/dead-letters/1/redrive", "{\"payload\": 1}", "payload", "a payload that is no object");
        assertRefusedPost("/api/admin/dead-letters/1/redrive", "{}", "payload", "a body without the payload");
        HttpResponse<Buffer> unknown = await(http.post("/api/admin/dead-letters/999999/redrive")
                .putHeader("Authorization", TestTokens.bearer(operator)).send());
        assertThat(unknown.statusCode()).as("a valid request reaches the route").isEqualTo(404);
        assertThat(await(http.post("/api/admin/dead-letters/0/redrive")
                .putHeader("Authorization", TestTokens.bearer(customer)).send()).statusCode())
                .as("a customer, before the parameters").isEqualTo(403);
    }

    @Test
    void what_the_document_allows_is_taken_as_the_routes_read_it() throws Exception {
        // a decimal amount is a string to the document (vertx-openapi 5.0.7 alone would read 12.5 as a number)
        assertThat(get("/api/customers?minAvailableCredit=12.5&currency=EUR", operator).statusCode()).isEqualTo(200);
        // a status in any case, as the route reads it
        assertThat(get("/api/orders?status=pending", operator).statusCode()).isEqualTo(200);
        assertThat(get("/api/orders?status=Approved&limit=500", operator).statusCode()).isEqualTo(200);
    }

    @Test
    void what_the_document_cannot_say_the_route_still_refuses() throws Exception {
        assertRefused("/api/orders?limit=1&limit=2", "limit", "given twice (the validator takes the first)");
        assertRefused("/api/orders?limit=1e2", "limit", "a number not written in digits");
        assertRefused("/api/orders/" + UUID.randomUUID() + "?minVersion=%2B1", "minVersion", "a signed number");
        assertRefused("/api/customers?currency=EUR%0A", "currency", "a line break after the value ($ of Java's patterns)");
        assertRefused("/api/orders/" + UUID.randomUUID() + "%0A", "orderId", "a line break after the id");
        assertRefused("/api/orders?after=bm90LWEtY3Vyc29y", "after", "a cursor this API did not give out");
    }

    @Test
    void authentication_and_the_operators_only_403_come_before_the_parameters() throws Exception {
        for (String uri : List.of("/api/orders?limit=0", "/api/customers?currency=eur", "/api/admin/dead-letters?limit=0")) {
            HttpResponse<Buffer> answer = get(uri, customer);
            assertThat(answer.statusCode()).as("a customer on %s", uri).isEqualTo(403);
        }
        for (String uri : List.of("/api/orders/not-a-uuid", "/api/orders?limit=0", "/api/customers/x/orders?status=NOPE")) {
            assertThat(get(uri, null).statusCode()).as("no token on %s", uri).isEqualTo(401);
        }
    }

    /**
     * Each rule of each path and query parameter of the GET operation at {@code template}, broken in turn on
     * an otherwise valid request: a 400 naming the parameter.
     *
     * @return the rules broken, as "parameter rule"
     */
    private List<String> refuseEachRule(String template) throws Exception {
        List<String> checked = new ArrayList<>();
        String valid = validUri(template);
        for (Object entry : contract.operation("GET", template).getJsonArray("parameters")) {
            JsonObject parameter = (JsonObject) entry;
            String name = parameter.getString("name");
            String in = parameter.getString("in");
            if (!"path".equals(in) && !"query".equals(in)) {
                continue;
            }
            for (Map.Entry<String, String> violation : violations(parameter.getJsonObject("schema")).entrySet()) {
                String uri = "path".equals(in)
                        ? valid.replace(validPathValue(name), encode(violation.getValue()))
                        : valid + (valid.contains("?") ? "&" : "?") + name + "=" + encode(violation.getValue());
                assertRefused(uri, name, violation.getKey());
                checked.add(name + " " + violation.getKey());
            }
        }
        return checked;
    }

    /** A rule of the schema and a value that breaks it (only the kinds the query document uses). */
    private static Map<String, String> violations(JsonObject schema) {
        Map<String, String> violations = new LinkedHashMap<>();
        if (schema.containsKey("minimum")) {
            violations.put("minimum", Long.toString(schema.getLong("minimum") - 1));
        }
        if (schema.containsKey("maximum")) {
            violations.put("maximum", Long.toString(schema.getLong("maximum") + 1));
        }
        if (schema.containsKey("pattern")) {
            violations.put("pattern", "not:valid");
        }
        if ("date-time".equals(schema.getString("format"))) {
            violations.put("format", "yesterday");
        }
        return violations;
    }

    private static String validUri(String template) {
        return template.replace("{orderId}", validPathValue("orderId"))
                .replace("{customerId}", validPathValue("customerId")).replace("{id}", validPathValue("id"));
    }

    /** A fixed id per path parameter, unknown to the read model (404 once the request passes). */
    private static String validPathValue(String name) {
        return "orderId".equals(name) ? "0b6e1f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b" : "1c7f2a1f-2d3e-4f60-9bac-1d2e3f4a5b6c";
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private void assertRefused(String uri, String parameter, String why) throws Exception {
        HttpResponse<Buffer> answer = get(uri, operator);
        assertThat(answer.statusCode()).as("%s: GET %s answers %s", why, uri, answer.bodyAsString()).isEqualTo(400);
        assertThat(answer.getHeader("Content-Type")).isEqualTo("application/problem+json");
        JsonObject problem = answer.bodyAsJsonObject();
        assertThat(problem.getString("type")).isEqualTo(BAD_REQUEST);
        assertThat(problem.getString("detail")).as("%s: the detail names the parameter", why).contains(parameter);
    }

    private void assertRefusedPost(String uri, String body, String named, String why) throws Exception {
        var request = http.post(uri).putHeader("Authorization", TestTokens.bearer(operator));
        HttpResponse<Buffer> answer = await(body == null ? request.send()
                : request.putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(body)));
        assertThat(answer.statusCode()).as("%s: POST %s answers %s", why, uri, answer.bodyAsString()).isEqualTo(400);
        assertThat(answer.bodyAsJsonObject().getString("type")).isEqualTo(BAD_REQUEST);
        assertThat(answer.bodyAsJsonObject().getString("detail")).as(why).contains(named);
    }

    private HttpResponse<Buffer> get(String uri, String token) throws Exception {
        var request = http.get(uri);
        if (token != null) {
            request.putHeader("Authorization", TestTokens.bearer(token));
        }
        return await(request.send());
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
