package dev.orders.app;

import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code GET /metrics} answers Prometheus text, and the meters move when orders flow. */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The metrics endpoint")
class MetricsTest {

    private OrdersApp app;
    private Vertx vertx;
    private WebClient client;

    @BeforeAll
    void start(TestInfrastructure infra) {
        app = OrdersApp.start(infra.isolatedConfig());
        vertx = Vertx.vertx();
        client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("localhost").setDefaultPort(app.port()));
    }

    @AfterAll
    void stop() throws Exception {
        await(vertx.close());
        app.close();
    }

    @Test
    void commands_relay_saga_and_projection_meters_move_as_an_order_settles() throws Exception {
        String before = scrape();
        assertThat(before).contains("# TYPE orders_relay_unpublished gauge");

        JsonObject customer = await(client.post("/api/customers").sendJsonObject(new JsonObject().put("name", "Meter")
                .put("creditLimit", new JsonObject().put("amount", "100.00").put("currency", "EUR")))).bodyAsJsonObject();
        String customerId = customer.getString("customerId");
        String orderId = await(client.post("/api/orders").sendJsonObject(new JsonObject().put("customerId", customerId)
                .put("total", new JsonObject().put("amount", "10.00").put("currency", "EUR"))))
                .bodyAsJsonObject().getString("orderId");
        // minVersion waits a few seconds per request; the first order after a start also waits for
        // the consumer groups to form, so ask again while the answer is 503 with Retry-After
        HttpResponse<Buffer> settled = await(client.get("/api/orders/" + orderId + "?minVersion=2").send());
        for (int attempt = 0; attempt < 10 && settled.statusCode() == 503; attempt++) {
            settled = await(client.get("/api/orders/" + orderId + "?minVersion=2").send());
        }
        assertThat(settled.statusCode()).isEqualTo(200);
        assertThat(settled.bodyAsJsonObject().getString("status")).isEqualTo("APPROVED");
        await(app.querySide().refreshMetrics());

        String after = scrape();
        assertThat(value(after, "orders_commands_total", "command=\"CreateOrder\"", "outcome=\"accepted\""))
                .isGreaterThan(value(before, "orders_commands_total", "command=\"CreateOrder\"", "outcome=\"accepted\""));
        assertThat(value(after, "orders_commands_total", "command=\"ReserveCredit\"", "outcome=\"accepted\"")).isGreaterThanOrEqualTo(1);
        assertThat(value(after, "orders_relay_published_total")).isGreaterThanOrEqualTo(4);
        assertThat(value(after, "orders_relay_position")).isGreaterThanOrEqualTo(4);
        assertThat(value(after, "orders_saga_records_handled_total")).isGreaterThan(value(before, "orders_saga_records_handled_total"));
        assertThat(value(after, "orders_projection_position")).isGreaterThanOrEqualTo(3);
        assertThat(after).contains("orders_dead_letters ").contains("orders_push_connections ")
                .contains("orders_saga_deadlines_pending ").contains("orders_consumer_lag{");
    }

    private String scrape() throws Exception {
        HttpResponse<Buffer> response = await(client.get("/metrics").send());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.getHeader("Content-Type")).startsWith("text/plain");
        return response.bodyAsString();
    }

    /** The value of the first sample of a metric whose labels contain all the given pairs; 0 if none. */
    private static double value(String scrape, String metric, String... labels) {
        Pattern line = Pattern.compile("^" + Pattern.quote(metric) + "(\\{[^}]*\\})? ([0-9.eE+-]+)$", Pattern.MULTILINE);
        Matcher matcher = line.matcher(scrape);
        while (matcher.find()) {
            String found = matcher.group(1) == null ? "" : matcher.group(1);
            boolean all = true;
            for (String label : labels) {
                all &= found.contains(label);
            }
            if (all) {
                return Double.parseDouble(matcher.group(2));
            }
        }
        return 0;
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
