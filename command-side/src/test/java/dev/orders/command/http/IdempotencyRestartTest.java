package dev.orders.command.http;

import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.UUID;

import static dev.orders.command.http.CommandApiFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Idempotency-Keys are durable: after the service is stopped and started again on the same database,
 * a retried command gets its first answer (status, Location, body) again and appends nothing; the
 * same key with another request still answers 422.
 */
@ExtendWith(SharedInfrastructure.class)
@DisplayName("Idempotency-Key across a restart")
class IdempotencyRestartTest {

    /** What a request answered, and the correlation id it was sent with. */
    private record Reply(int status, String location, String body, String correlationId) {
    }

    @Test
    void a_command_retried_after_a_restart_answers_the_same_and_appends_nothing(TestInfrastructure infra)
            throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        String customerKey = UUID.randomUUID().toString();
        String orderKey = UUID.randomUUID().toString();
        String cancelKey = UUID.randomUUID().toString();
        String customerBody = """
                {"name": "Durable", "creditLimit": {"amount": "100.00", "currency": "EUR"}}""";
        Reply customer;
        Reply order;
        Reply cancel;
        String orderBody;
        String cancelPath;
        long customerEvents;
        long orderEvents;
        long allEvents;

        try (CommandApiFixture before = CommandApiFixture.start(config)) {
            customer = post(before, "/api/customers", customerBody, customerKey);
            assertThat(customer.status()).as(customer.body()).isEqualTo(201);
            String customerId = new JsonObject(customer.body()).getString("customerId");
            orderBody = """
                    {"customerId": "%s", "total": {"amount": "40.00", "currency": "EUR"}}""".formatted(customerId);
            order = post(before, "/api/orders", orderBody, orderKey);
            assertThat(order.status()).as(order.body()).isEqualTo(202);
            String orderId = new JsonObject(order.body()).getString("orderId");
            cancelPath = "/api/orders/" + orderId + "/cancel";
            cancel = post(before, cancelPath, null, cancelKey);
            assertThat(cancel.status()).as(cancel.body()).isEqualTo(202);
            // let the relay and the saga finish with the order, so that what the restarted service
            // appends on its own cannot be mistaken for what a retry appended
            awaitQuiet(before);
            customerEvents = before.eventsOfStream(customerId);
            orderEvents = before.eventsOfStream(orderId);
            allEvents = before.eventCount();
        }

        try (CommandApiFixture after = CommandApiFixture.start(config)) {
            String customerId = new JsonObject(customer.body()).getString("customerId");
            String orderId = new JsonObject(order.body()).getString("orderId");
            for (Object[] retry : new Object[][]{
                    {"/api/customers", customerBody, customerKey, customer},
                    {"/api/orders", orderBody, orderKey, order},
                    {cancelPath, null, cancelKey, cancel}}) {
                Reply first = (Reply) retry[3];
                Reply again = post(after, (String) retry[0], (String) retry[1], (String) retry[2]);
                assertThat(again.status()).as("status of the retried %s", retry[0]).isEqualTo(first.status());
                assertThat(again.location()).as("Location of the retried %s", retry[0]).isEqualTo(first.location());
                assertThat(new JsonObject(again.body())).as("body of the retried %s", retry[0])
                        .isEqualTo(new JsonObject(first.body()));
                assertThat(after.eventsOfCorrelation(again.correlationId()))
                        .as("events appended by the retried %s", retry[0]).isZero();
            }
            // the same key with another request is still refused after the restart
            Reply other = post(after, "/api/customers", customerBody.replace("Durable", "Other"), customerKey);
            assertThat(other.status()).as(other.body()).isEqualTo(422);
            assertThat(after.eventsOfCorrelation(other.correlationId())).isZero();

            assertThat(after.eventsOfStream(customerId)).as("events of the customer").isEqualTo(customerEvents);
            assertThat(after.eventsOfStream(orderId)).as("events of the order").isEqualTo(orderEvents);
            assertThat(after.eventCount()).as("events of all streams").isEqualTo(allEvents);
        }
    }

    /** Waits until every event is published and no event was appended for two seconds (at most 30 s). */
    private static void awaitQuiet(CommandApiFixture api) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        long last = -1;
        int stable = 0;
        while (stable < 4 && System.nanoTime() < deadline) {
            Thread.sleep(500);
            long count = api.eventCount();
            long unpublished = await(api.side.pool().query("SELECT count(*) FROM unpublished_events")
                    .execute().map(rows -> rows.iterator().next().getLong(0)));
            stable = count == last && unpublished == 0 ? stable + 1 : 0;
            last = count;
        }
        assertThat(stable).as("the event store went quiet").isEqualTo(4);
    }

    private static Reply post(CommandApiFixture api, String path, String body, String key) throws Exception {
        String correlationId = UUID.randomUUID().toString();
        HttpRequest<Buffer> request = api.client.post(path).putHeader("X-Correlation-Id", correlationId)
                .putHeader("Idempotency-Key", key);
        if (body != null) {
            request.putHeader("Content-Type", "application/json");
        }
        HttpResponse<Buffer> response = await(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)));
        return new Reply(response.statusCode(), response.getHeader("Location"), response.bodyAsString(), correlationId);
    }
}
