package dev.orders.command.http;

import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static dev.orders.command.http.CommandApiFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The command API")
class CommandApiTest {

    private CommandApiFixture api;
    /** The correlation id sent with the last request: the events it wrote carry it. */
    private String lastCorrelationId;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        api = CommandApiFixture.start(infra.isolatedConfig());
    }

    @AfterAll
    void stop() throws Exception {
        api.close();
    }

    private HttpResponse<Buffer> post(String path, String body) throws Exception {
        return post(path, body, "application/json", null);
    }

    private HttpResponse<Buffer> post(String path, String body, String contentType, String idempotencyKey)
            throws Exception {
        lastCorrelationId = UUID.randomUUID().toString();
        HttpRequest<Buffer> request = api.client.post(path).putHeader("X-Correlation-Id", lastCorrelationId);
        if (contentType != null) {
            request.putHeader("Content-Type", contentType);
        }
        if (idempotencyKey != null) {
            request.putHeader("Idempotency-Key", idempotencyKey);
        }
        return await(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)));
    }

    private String createCustomer(String limit, String currency) throws Exception {
        HttpResponse<Buffer> created = post("/api/customers", """
                {"name": "Ada", "creditLimit": {"amount": "%s", "currency": "%s"}}""".formatted(limit, currency));
        assertThat(created.statusCode()).isEqualTo(201);
        return created.bodyAsJsonObject().getString("customerId");
    }

    private void assertLastRequestWroteNothing() throws Exception {
        assertThat(api.eventsOfCorrelation(lastCorrelationId)).as("events written by the rejected request").isZero();
    }

    private static void assertProblem(HttpResponse<Buffer> response, int status) {
        assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
        assertThat(response.getHeader("Content-Type")).isEqualTo("application/problem+json");
        JsonObject problem = response.bodyAsJsonObject();
        assertThat(problem.getInteger("status")).isEqualTo(status);
        assertThat(problem.getString("type")).isNotBlank();
        assertThat(problem.getString("title")).isNotBlank();
        assertThat(problem.getString("detail")).isNotBlank();
    }

    /** A problem whose {@code type} names the rule that refused, so a client can tell rejections apart. */
    private static void assertProblem(HttpResponse<Buffer> response, int status, String type) {
        assertProblem(response, status);
        assertThat(response.bodyAsJsonObject().getString("type")).isEqualTo("https://orders.dev/problems/" + type);
    }

    @Nested
    @DisplayName("POST /api/customers")
    class CreateCustomer {

        @Test
        void creates_a_customer_and_answers_its_id_version_and_location() throws Exception {
            HttpResponse<Buffer> response = post("/api/customers",
                    "{\"name\": \"Grace\", \"creditLimit\": {\"amount\": \"250.00\", \"currency\": \"EUR\"}}");
            assertThat(response.statusCode()).isEqualTo(201);
            JsonObject body = response.bodyAsJsonObject();
            UUID id = UUID.fromString(body.getString("customerId"));
            assertThat(body.getLong("version")).isEqualTo(1);
            assertThat(response.getHeader("Location")).isEqualTo("/api/customers/" + id);
            assertThat(api.eventsOfCorrelation(lastCorrelationId)).isEqualTo(1);
            assertThat(api.eventsOfStream(id.toString())).isEqualTo(1);
        }

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {
                "{\"name\": \"Ada\", \"creditLimit\": {\"amount\": \"250.00\", \"currency\": \"EUR\"}",
                "[]",
                "\"just a string\"",
                "{\"name\": 5, \"creditLimit\": {\"amount\": \"250.00\", \"currency\": \"EUR\"}}",
                "{\"creditLimit\": {\"amount\": \"250.00\", \"currency\": \"EUR\"}}",
                "{\"name\": \"Ada\"}",
                "{\"name\": \"Ada\", \"creditLimit\": {\"amount\": \"250.00\", \"currency\": \"EUR\"}, \"admin\": true}",
                "{\"name\": \"Ada\", \"creditLimit\": {\"amount\": 250.00, \"currency\": \"EUR\"}}",
                "{\"name\": \"Ada\", \"creditLimit\": {\"amount\": \"0\", \"currency\": \"EUR\"}}",
                "{\"name\": \"Ada\", \"creditLimit\": {\"amount\": \"-5.00\", \"currency\": \"EUR\"}}",
                "{\"name\": \"Ada\", \"creditLimit\": {\"amount\": \"1.234\", \"currency\": \"EUR\"}}",
                "{\"name\": \"Ada\", \"creditLimit\": {\"amount\": \"1000000000.01\", \"currency\": \"EUR\"}}",
                "{\"name\": \"Ada\", \"creditLimit\": {\"amount\": \"1e3\", \"currency\": \"EUR\"}}",
                "{\"name\": \"Ada\", \"creditLimit\": {\"amount\": \"10.00\", \"currency\": \"eur\"}}",
                "{\"name\": \"Ada\", \"creditLimit\": {\"amount\": \"10.00\", \"currency\": \"EU\"}}",
                "{\"name\": \"Ada\", \"creditLimit\": {\"amount\": \"10.00\"}}",
                "{\"name\": \"Ada\", \"creditLimit\": {\"amount\": \"10.00\", \"currency\": \"EUR\", \"x\": 1}}",
                "{\"name\": \"Ada\", \"creditLimit\": \"10.00 EUR\"}",
                "{\"name\": \"\", \"creditLimit\": {\"amount\": \"10.00\", \"currency\": \"EUR\"}}",
                "{\"name\": \"   \", \"creditLimit\": {\"amount\": \"10.00\", \"currency\": \"EUR\"}}",
                "{\"name\": \"Ada\", \"name\": \"Bob\", \"creditLimit\": {\"amount\": \"10.00\", \"currency\": \"EUR\"}}",
                "{\"name\": null, \"creditLimit\": {\"amount\": \"10.00\", \"currency\": \"EUR\"}}",
        })
        void answers_400_and_writes_nothing_for_bad_input(String body) throws Exception {
            assertProblem(post("/api/customers", body), 400);
            assertLastRequestWroteNothing();
        }

        @Test
        void answers_400_for_a_name_over_200_characters() throws Exception {
            String body = "{\"name\": \"" + "x".repeat(201) + "\", \"creditLimit\": {\"amount\": \"10.00\", \"currency\": \"EUR\"}}";
            assertProblem(post("/api/customers", body), 400);
            assertLastRequestWroteNothing();
        }

        @Test
        void accepts_a_name_of_exactly_200_characters() throws Exception {
            String body = "{\"name\": \"" + "x".repeat(200) + "\", \"creditLimit\": {\"amount\": \"10.00\", \"currency\": \"EUR\"}}";
            assertThat(post("/api/customers", body).statusCode()).isEqualTo(201);
        }

        @Test
        void answers_400_for_json_nested_absurdly_deep() throws Exception {
            String deep = "{\"name\": " + "[".repeat(5000) + "]".repeat(5000) + "}";
            assertProblem(post("/api/customers", deep), 400);
            assertLastRequestWroteNothing();
        }

        @Test
        void answers_413_for_a_body_over_64_KiB() throws Exception {
            String big = "{\"name\": \"" + "x".repeat(70_000) + "\"}";
            assertProblem(post("/api/customers", big), 413);
            assertLastRequestWroteNothing();
        }

        @Test
        void answers_415_for_a_content_type_other_than_json() throws Exception {
            assertProblem(post("/api/customers", "name=Ada", "text/plain", null), 415);
            assertProblem(post("/api/customers", "{\"name\": \"Ada\"}", null, null), 415);
            assertLastRequestWroteNothing();
        }

        @Test
        void answers_400_for_an_empty_body() throws Exception {
            assertProblem(post("/api/customers", ""), 400);
        }
    }

    @Nested
    @DisplayName("POST /api/orders")
    class PlaceOrder {

        @Test
        void places_a_pending_order() throws Exception {
            String customerId = createCustomer("100.00", "EUR");
            HttpResponse<Buffer> response = post("/api/orders", """
                    {"customerId": "%s", "total": {"amount": "40.00", "currency": "EUR"}}""".formatted(customerId));
            assertThat(response.statusCode()).isEqualTo(202);
            JsonObject body = response.bodyAsJsonObject();
            assertThat(body.getString("status")).isEqualTo("PENDING");
            assertThat(body.getLong("version")).isEqualTo(1);
            assertThat(response.getHeader("Location")).isEqualTo("/api/orders/" + body.getString("orderId"));
            // A deadline is written only for a credit check the customer cannot answer, never with the order.
            Row seen = await(api.side.pool().preparedQuery("SELECT count(*) AS deadlines FROM saga_deadlines WHERE order_id = $1")
                    .execute(io.vertx.sqlclient.Tuple.of(UUID.fromString(body.getString("orderId"))))
                    .map(rows -> rows.iterator().next()));
            assertThat(seen.getLong("deadlines")).as("deadlines of the order just placed").isZero();
        }

        @Test
        void answers_404_for_an_unknown_customer_and_writes_nothing() throws Exception {
            assertProblem(post("/api/orders", """
                    {"customerId": "%s", "total": {"amount": "40.00", "currency": "EUR"}}""".formatted(UUID.randomUUID())), 404);
            assertLastRequestWroteNothing();
        }

        @Test
        void answers_422_for_a_currency_other_than_the_customers() throws Exception {
            String customerId = createCustomer("100.00", "EUR");
            assertProblem(post("/api/orders", """
                    {"customerId": "%s", "total": {"amount": "40.00", "currency": "USD"}}""".formatted(customerId)), 422,
                    "currency-mismatch");
            assertLastRequestWroteNothing();
        }

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {
                "{\"customerId\": \"not-a-uuid\", \"total\": {\"amount\": \"40.00\", \"currency\": \"EUR\"}}",
                "{\"customerId\": 42, \"total\": {\"amount\": \"40.00\", \"currency\": \"EUR\"}}",
                "{\"total\": {\"amount\": \"40.00\", \"currency\": \"EUR\"}}",
                "{\"customerId\": \"6f1c1f4e-8a4e-4c1e-9a59-1d1a6e0f2b11\"}",
                "{\"customerId\": \"6f1c1f4e-8a4e-4c1e-9a59-1d1a6e0f2b11\", \"total\": {\"amount\": \"0.00\", \"currency\": \"EUR\"}}",
                "{\"customerId\": \"6f1c1f4e-8a4e-4c1e-9a59-1d1a6e0f2b11\", \"total\": {\"amount\": \"40.00\", \"currency\": \"EUR\"}, \"status\": \"APPROVED\"}",
        })
        void answers_400_and_writes_nothing_for_bad_input(String body) throws Exception {
            assertProblem(post("/api/orders", body), 400);
            assertLastRequestWroteNothing();
        }
    }

    @Nested
    @DisplayName("POST /api/orders/{id}/cancel")
    class CancelOrder {

        @Test
        void cancels_a_pending_order_and_refuses_a_second_cancel_with_409() throws Exception {
            String customerId = createCustomer("100.00", "EUR");
            // the saga, which reacts to an order at its commit, is held so that the order is still pending
            assertThat(post("/api/admin/saga/pause", null, null, null).statusCode()).isEqualTo(200);
            String orderId;
            HttpResponse<Buffer> cancelled;
            try {
                orderId = post("/api/orders", """
                        {"customerId": "%s", "total": {"amount": "40.00", "currency": "EUR"}}""".formatted(customerId))
                        .bodyAsJsonObject().getString("orderId");
                cancelled = post("/api/orders/" + orderId + "/cancel", null, null, null);
            } finally {
                assertThat(post("/api/admin/saga/resume", null, null, null).statusCode()).isEqualTo(200);
            }
            assertThat(cancelled.statusCode()).isEqualTo(202);
            assertThat(cancelled.bodyAsJsonObject().getString("orderId")).isEqualTo(orderId);
            assertThat(cancelled.bodyAsJsonObject().getLong("version")).isEqualTo(2);
            assertProblem(post("/api/orders/" + orderId + "/cancel", null, null, null), 409, "order-not-cancellable");
            assertLastRequestWroteNothing();
        }

        @Test
        void answers_404_for_an_unknown_or_malformed_order_id() throws Exception {
            assertProblem(post("/api/orders/" + UUID.randomUUID() + "/cancel", null, null, null), 404);
            assertProblem(post("/api/orders/nope/cancel", null, null, null), 404);
        }
    }

    @Nested
    @DisplayName("Idempotency-Key")
    class Idempotency {

        @Test
        void the_same_command_sent_ten_times_at_once_appends_once_and_answers_alike() throws Exception {
            String key = UUID.randomUUID().toString();
            String name = "Twice " + key;
            String body = "{\"name\": \"" + name + "\", \"creditLimit\": {\"amount\": \"10.00\", \"currency\": \"EUR\"}}";
            List<Future<HttpResponse<Buffer>>> sent = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                sent.add(api.client.post("/api/customers").putHeader("Content-Type", "application/json")
                        .putHeader("Idempotency-Key", key).sendBuffer(Buffer.buffer(body)));
            }
            await(Future.all(sent));
            JsonObject first = sent.get(0).result().bodyAsJsonObject();
            for (Future<HttpResponse<Buffer>> response : sent) {
                assertThat(response.result().statusCode()).isEqualTo(201);
                assertThat(response.result().bodyAsJsonObject()).isEqualTo(first);
                assertThat(response.result().getHeader("Location")).isEqualTo("/api/customers/" + first.getString("customerId"));
            }
            assertThat(api.eventsOfStream(first.getString("customerId"))).isEqualTo(1);
            long created = await(api.side.pool().preparedQuery("SELECT count(*) FROM events WHERE data->>'name' = $1")
                    .execute(io.vertx.sqlclient.Tuple.of(name)).map(rows -> rows.iterator().next().getLong(0)));
            assertThat(created).as("customers created by the ten requests").isEqualTo(1);
        }

        @Test
        void ten_identical_orders_at_once_place_one_and_answer_alike() throws Exception {
            String customerId = createCustomer("100.00", "EUR");
            List<HttpResponse<Buffer>> answers = tenAtOnce("/api/orders", """
                    {"customerId": "%s", "total": {"amount": "40.00", "currency": "EUR"}}""".formatted(customerId));
            assertAllAlike(answers, 202);
            long placed = await(api.side.pool().preparedQuery(
                            "SELECT count(*) FROM events WHERE event_type = 'OrderCreated' AND data->>'customerId' = $1")
                    .execute(io.vertx.sqlclient.Tuple.of(customerId)).map(rows -> rows.iterator().next().getLong(0)));
            assertThat(placed).as("orders placed by the ten requests").isEqualTo(1);
        }

        @Test
        void ten_identical_cancels_at_once_cancel_once_and_answer_alike() throws Exception {
            String customerId = createCustomer("100.00", "EUR");
            String orderId = post("/api/orders", """
                    {"customerId": "%s", "total": {"amount": "40.00", "currency": "EUR"}}""".formatted(customerId))
                    .bodyAsJsonObject().getString("orderId");
            for (int round = 0; round < 5; round++) {
                String order = round == 0 ? orderId : post("/api/orders", """
                        {"customerId": "%s", "total": {"amount": "1.00", "currency": "EUR"}}""".formatted(customerId))
                        .bodyAsJsonObject().getString("orderId");
                assertAllAlike(tenAtOnce("/api/orders/" + order + "/cancel", null), 202);
                // the saga may approve the order before the cancels arrive (created, approved, cancelled): what
                // counts is that the ten requests cancelled it once
                assertThat(api.eventsOfStream(order, "OrderCancelled")).as("cancellations of order %s", order).isEqualTo(1);
            }
        }

        private List<HttpResponse<Buffer>> tenAtOnce(String path, String body) throws Exception {
            String key = UUID.randomUUID().toString();
            List<Future<HttpResponse<Buffer>>> sent = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                HttpRequest<Buffer> request = api.client.post(path).putHeader("Idempotency-Key", key);
                if (body != null) {
                    request.putHeader("Content-Type", "application/json");
                }
                sent.add(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)));
            }
            await(Future.join(sent));
            return sent.stream().map(Future::result).toList();
        }

        private void assertAllAlike(List<HttpResponse<Buffer>> answers, int status) {
            for (HttpResponse<Buffer> answer : answers) {
                assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(status);
                assertThat(answer.bodyAsJsonObject()).isEqualTo(answers.getFirst().bodyAsJsonObject());
                assertThat(answer.getHeader("Location")).isEqualTo(answers.getFirst().getHeader("Location"));
            }
        }

        @Test
        void the_same_key_with_another_body_answers_422_and_appends_nothing() throws Exception {
            String key = UUID.randomUUID().toString();
            assertThat(post("/api/customers", "{\"name\": \"A\", \"creditLimit\": {\"amount\": \"10.00\", \"currency\": \"EUR\"}}",
                    "application/json", key).statusCode()).isEqualTo(201);
            assertProblem(post("/api/customers", "{\"name\": \"B\", \"creditLimit\": {\"amount\": \"10.00\", \"currency\": \"EUR\"}}",
                    "application/json", key), 422, "idempotency-key-reused");
            assertLastRequestWroteNothing();
        }

        @Test
        void a_retried_cancel_gets_the_first_answer_again() throws Exception {
            String customerId = createCustomer("100.00", "EUR");
            String orderId = post("/api/orders", """
                    {"customerId": "%s", "total": {"amount": "40.00", "currency": "EUR"}}""".formatted(customerId))
                    .bodyAsJsonObject().getString("orderId");
            String key = UUID.randomUUID().toString();
            HttpResponse<Buffer> first = post("/api/orders/" + orderId + "/cancel", null, null, key);
            HttpResponse<Buffer> again = post("/api/orders/" + orderId + "/cancel", null, null, key);
            assertThat(first.statusCode()).isEqualTo(202);
            assertThat(again.statusCode()).isEqualTo(202);
            assertThat(again.bodyAsJsonObject()).isEqualTo(first.bodyAsJsonObject());
        }
    }

    @Test
    void an_unknown_api_path_answers_a_404_problem() throws Exception {
        assertProblem(await(api.client.get("/api/nothing-here").send()), 404);
    }
}
