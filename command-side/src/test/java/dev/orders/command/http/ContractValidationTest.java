package dev.orders.command.http;

import dev.orders.testsupport.OpenApiContract;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

import static dev.orders.command.http.CommandApiFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The command routes' requests are checked against the OpenAPI document the service serves: what the
 * document requires, forbids or constrains is what the service refuses, with a 400 bad-request problem, and
 * nothing is written. The fields are taken from the served document, not listed here, so a field the document
 * adds to {@code required} is covered without touching this test.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("Command requests are validated from the served OpenAPI document")
class ContractValidationTest {

    private static final String BAD_REQUEST = "https://orders.dev/problems/bad-request";

    private CommandApiFixture api;
    private OpenApiContract contract;
    private String customerId;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        api = CommandApiFixture.start(infra.isolatedConfig());
        HttpResponse<Buffer> served = await(api.anonymous.get(OpenApiDocument.PATH).send());
        assertThat(served.statusCode()).isEqualTo(200);
        contract = new OpenApiContract(served.bodyAsJsonObject());
        HttpResponse<Buffer> created = post("/api/customers", validCustomer(), UUID.randomUUID().toString());
        assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
        customerId = created.bodyAsJsonObject().getString("customerId");
    }

    @AfterAll
    void stop() throws Exception {
        if (api != null) {
            api.close();
        }
    }

    private static JsonObject validCustomer() {
        return new JsonObject().put("name", "Ada")
                .put("creditLimit", new JsonObject().put("amount", "100.00").put("currency", "EUR"));
    }

    private JsonObject validOrder() {
        return new JsonObject().put("customerId", customerId)
                .put("total", new JsonObject().put("amount", "10.00").put("currency", "EUR"));
    }

    private HttpResponse<Buffer> post(String path, JsonObject body, String correlationId) throws Exception {
        return await(api.client.post(path).putHeader("Content-Type", "application/json")
                .putHeader("X-Correlation-Id", correlationId).sendBuffer(body.toBuffer()));
    }

    /** Posts a body and asserts the bad-request problem, its detail naming {@code field}, and that nothing was written. */
    private void assertRefused(String path, JsonObject body, String field, String why) throws Exception {
        String correlationId = UUID.randomUUID().toString();
        HttpResponse<Buffer> answer = post(path, body, correlationId);
        assertThat(answer.statusCode()).as("%s: %s answers %s", why, body, answer.bodyAsString()).isEqualTo(400);
        assertThat(answer.getHeader("Content-Type")).isEqualTo("application/problem+json");
        JsonObject problem = answer.bodyAsJsonObject();
        assertThat(problem.getString("type")).isEqualTo(BAD_REQUEST);
        assertThat(problem.getString("detail")).as("%s: the detail names the field", why).contains(field);
        assertThat(api.eventsOfCorrelation(correlationId)).as("events written by %s", why).isZero();
    }

    @Test
    void a_request_missing_any_field_the_document_requires_is_refused_and_writes_nothing() throws Exception {
        List<String> checked = new ArrayList<>();
        checked.addAll(refuseEachMissingField("/api/customers", validCustomer()));
        checked.addAll(refuseEachMissingField("/api/orders", validOrder()));
        assertThat(checked).as("the required fields the document names, at every depth")
                .contains("name", "creditLimit", "creditLimit.amount", "customerId", "total.currency");
        // the valid bodies themselves pass, so each refusal above is the missing field's
        assertThat(post("/api/orders", validOrder(), UUID.randomUUID().toString()).statusCode()).isEqualTo(202);
    }

    @Test
    void a_field_the_document_does_not_declare_is_refused_at_every_depth_and_writes_nothing() throws Exception {
        List<String> checked = new ArrayList<>();
        checked.addAll(refuseAnUnknownFieldInEachObject("/api/customers", validCustomer()));
        checked.addAll(refuseAnUnknownFieldInEachObject("/api/orders", validOrder()));
        assertThat(checked).contains("", "creditLimit", "total");
    }

    @Test
    void a_customer_id_is_taken_in_either_case_and_refused_in_any_other_form() throws Exception {
        // The document's Uuid is the canonical 8-4-4-4-12 hex form in either case, as the id parser (StrictUuid) reads it.
        JsonObject upper = validOrder().put("customerId", customerId.toUpperCase(Locale.ROOT));
        assertThat(post("/api/orders", upper, UUID.randomUUID().toString()).statusCode())
                .as("an upper-case customer id").isEqualTo(202);
        assertRefused("/api/orders", validOrder().put("customerId", customerId.replace("-", "")), "customerId",
                "a customer id without its dashes");
        assertRefused("/api/orders", validOrder().put("customerId", "1-2-3-4-5"), "customerId", "a short form");
    }

    @Test
    void what_the_document_lets_through_the_domain_still_refuses_and_nothing_is_written() throws Exception {
        // the pattern \S (java.util.regex) sees an em space as a non-space; the name rule is the domain's
        assertRefused("/api/customers", validCustomer().put("name", "\u2003\u2003"), "name", "a name of em spaces");
        // the pattern allows "0.00" and "9999999999"; the amount's range is Money's
        assertRefused("/api/orders", validOrder().put("total", new JsonObject().put("amount", "0.00").put("currency", "EUR")),
                "total", "an amount of 0");
        assertRefused("/api/customers", validCustomer().put("creditLimit",
                new JsonObject().put("amount", "9999999999").put("currency", "EUR")), "creditLimit", "an amount over the maximum");
    }

    @Test
    void a_cancel_with_a_body_other_than_the_empty_object_is_refused_and_writes_nothing() throws Exception {
        String orderId = post("/api/orders", validOrder(), UUID.randomUUID().toString()).bodyAsJsonObject()
                .getString("orderId");
        assertRefused("/api/orders/" + orderId + "/cancel", new JsonObject().put("reason", "changed my mind"),
                "reason", "a cancel with a field");
        assertThat(api.eventsOfStream(orderId, "OrderCancelled")).isZero();
        assertThat(post("/api/orders/" + orderId + "/cancel", new JsonObject(), UUID.randomUUID().toString())
                .statusCode()).as("the empty object the document allows").isEqualTo(202);
    }

    /** For each field the request schema requires (at every depth), the valid body without it is refused. */
    private List<String> refuseEachMissingField(String path, JsonObject valid) throws Exception {
        List<String> fields = new ArrayList<>();
        walk(requestSchema(path), "", (field, schema) -> {
            for (Object name : schema.getJsonArray("required", new io.vertx.core.json.JsonArray())) {
                String dotted = field.isEmpty() ? (String) name : field + "." + name;
                JsonObject body = valid.copy();
                objectAt(body, field).remove((String) name);
                assertRefused(path, body, (String) name, "no '" + dotted + "'");
                fields.add(dotted);
            }
        });
        return fields;
    }

    /** For each object the request schema closes ({@code additionalProperties: false}), a field more is refused. */
    private List<String> refuseAnUnknownFieldInEachObject(String path, JsonObject valid) throws Exception {
        List<String> objects = new ArrayList<>();
        walk(requestSchema(path), "", (field, schema) -> {
            if (Boolean.FALSE.equals(schema.getValue("additionalProperties"))) {
                JsonObject body = valid.copy();
                objectAt(body, field).put("mallory", true);
                assertRefused(path, body, "mallory", "an unknown field in '" + field + "'");
                objects.add(field);
            }
        });
        return objects;
    }

    private JsonObject requestSchema(String path) {
        return contract.operation("POST", path).getJsonObject("requestBody").getJsonObject("content")
                .getJsonObject("application/json").getJsonObject("schema");
    }

    private interface ObjectVisitor {
        void visit(String field, JsonObject schema) throws Exception;
    }

    /** Visits an object schema and, depth first, the object schemas of its properties. */
    private static void walk(JsonObject schema, String field, ObjectVisitor visitor) throws Exception {
        visitor.visit(field, schema);
        JsonObject properties = schema.getJsonObject("properties", new JsonObject());
        for (String name : properties.fieldNames()) {
            JsonObject property = properties.getJsonObject(name);
            if ("object".equals(property.getValue("type"))) {
                walk(property, field.isEmpty() ? name : field + "." + name, visitor);
            }
        }
    }

    private static JsonObject objectAt(JsonObject body, String field) {
        JsonObject object = body;
        for (String name : field.isEmpty() ? new String[0] : field.split("\\.")) {
            object = object.getJsonObject(name);
        }
        return object;
    }
}
