package dev.orders.command.http;

import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.http.Health;
import dev.orders.testsupport.OpenApiContract;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static dev.orders.command.http.CommandApiFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code command.workers=false}: a node that serves the command API and appends, with no relay, saga, deadlines
 * or key pruning of its own. Its events wait in the store until a node that runs the workers publishes them and
 * the saga reacts; nothing of theirs is lost or done twice.
 */
@ExtendWith(SharedInfrastructure.class)
@DisplayName("An API-only command node (command.workers=false)")
class ApiOnlyNodeTest {

    /**
     * Long enough for a running relay and saga to have published the order and reserved its credit many times over:
     * the relay is woken by the append itself, and polls every second besides.
     */
    private static final long WORKERS_WOULD_HAVE_ACTED_MILLIS = 2_500;
    /** The saga's controls, which an API-only node refuses with a documented 409 ({@link CommandApiContractTest} counts them). */
    static final List<String> SAGA_CONTROL_REFUSED = List.of(SagaControlRoutes.PAUSE, SagaControlRoutes.RESUME);

    @Test
    void appendsAndLeavesPublishingAndTheSagaToANodeThatRunsThem(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        String orderId;
        try (CommandApiFixture api = CommandApiFixture.start(config.with(Map.of("command.workers", "false")))) {
            assertThat(api.side.runsWorkers()).isFalse();
            var customer = await(api.client.post("/api/customers").sendJsonObject(new JsonObject(
                    "{\"name\": \"API only\", \"creditLimit\": {\"amount\": \"100.00\", \"currency\": \"EUR\"}}")));
            assertThat(customer.statusCode()).as(customer.bodyAsString()).isEqualTo(201);
            String customerId = customer.bodyAsJsonObject().getString("customerId");
            var order = await(api.client.post("/api/orders").sendJsonObject(new JsonObject(
                    "{\"customerId\": \"" + customerId + "\", \"total\": {\"amount\": \"40.00\", \"currency\": \"EUR\"}}")));
            assertThat(order.statusCode()).as(order.bodyAsString()).isEqualTo(202);
            orderId = order.bodyAsJsonObject().getString("orderId");

            JsonObject ready = await(api.side.readiness(new Health()).ready());
            assertThat(ready.getString("status")).as(ready.encode()).isEqualTo("UP");
            assertThat(ready.getJsonObject("checks").fieldNames())
                    .as("no relay to be ready, no topic to send to").containsExactly("command-postgres");

            OpenApiContract contract = new OpenApiContract(OpenApiDocument.load().json());
            for (String control : SAGA_CONTROL_REFUSED) {
                var refused = await(api.client.post(control).send());
                assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(409);
                assertThat(refused.bodyAsJsonObject().getString("detail")).contains("command.workers=false");
                contract.assertConforms("POST", control, refused);
            }

            Thread.sleep(WORKERS_WOULD_HAVE_ACTED_MILLIS);
            assertThat(publishedUpTo(api)).as("the relay checkpoint: nothing published").isZero();
            assertThat(api.eventCount()).as("the customer's and the order's first events, nothing after").isEqualTo(2);
            assertThat(api.eventsOfStream(customerId, "CreditReserved")).isZero();
        }

        try (CommandApiFixture workers = CommandApiFixture.start(config)) {
            assertThat(workers.side.runsWorkers()).isTrue();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (workers.eventsOfStream(orderId, "OrderApproved") == 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(workers.eventsOfStream(orderId, "OrderApproved")).as("the order approved by the saga").isEqualTo(1);
            assertThat(workers.eventCount()).as("created, placed, credit reserved, approved").isEqualTo(4);
            while (publishedUpTo(workers) < 4 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(publishedUpTo(workers)).as("every event published, once").isEqualTo(4);
        }
    }

    @Test
    @DisplayName("opens no Kafka client: it starts, is ready and takes an order with a broker address that does not resolve")
    void needsNoKafka(TestInfrastructure infra) throws Exception {
        // a Kafka client refuses at once to be made for a bootstrap address none of which resolves (RFC 2606's .invalid)
        OrdersConfig config = infra.isolatedConfig()
                .with(Map.of("command.workers", "false", "kafka.bootstrap", "kafka.invalid:9092"));
        try (CommandApiFixture api = CommandApiFixture.start(config)) {
            var customer = await(api.client.post("/api/customers").sendJsonObject(new JsonObject(
                    "{\"name\": \"No broker\", \"creditLimit\": {\"amount\": \"100.00\", \"currency\": \"EUR\"}}")));
            assertThat(customer.statusCode()).as(customer.bodyAsString()).isEqualTo(201);
            var order = await(api.client.post("/api/orders").sendJsonObject(new JsonObject("{\"customerId\": \""
                    + customer.bodyAsJsonObject().getString("customerId")
                    + "\", \"total\": {\"amount\": \"40.00\", \"currency\": \"EUR\"}}")));
            assertThat(order.statusCode()).as(order.bodyAsString()).isEqualTo(202);
            JsonObject ready = await(api.side.readiness(new Health()).ready());
            assertThat(ready.getString("status")).as(ready.encode()).isEqualTo("UP");
        }
    }

    private static long publishedUpTo(CommandApiFixture api) throws Exception {
        return await(api.side.pool().preparedQuery("SELECT last_position FROM relay_checkpoint WHERE id = 1")
                .execute(Tuple.tuple()).map(rows -> rows.iterator().next().getLong(0)));
    }
}
