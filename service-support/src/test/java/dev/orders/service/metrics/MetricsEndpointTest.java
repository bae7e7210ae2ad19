package dev.orders.service.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("GET /metrics")
class MetricsEndpointTest {

    private Vertx vertx;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() throws Exception {
        await(vertx.close());
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    @DisplayName("writes every registry, each read on a worker thread, never on the event loop that serves requests")
    void scrapes_off_the_event_loop() throws Exception {
        List<Boolean> readOnEventLoop = new CopyOnWriteArrayList<>();
        PrometheusMeterRegistry side = MetricsEndpoint.newRegistry();
        Gauge.builder("orders_watched", () -> {
            readOnEventLoop.add(Context.isOnEventLoopThread());
            return 7;
        }).register(side);
        PrometheusMeterRegistry process = MetricsEndpoint.newRegistry();
        Gauge.builder("process_watched", () -> 3).register(process);
        Router router = Router.router(vertx);
        MetricsEndpoint.mount(router, List.of(side, process));
        int port = await(vertx.createHttpServer().requestHandler(router).listen(0)).actualPort();

        HttpResponse<Buffer> answer = await(WebClient.create(vertx).get(port, "localhost", "/metrics").send());

        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.getHeader("Content-Type")).isEqualTo(MetricsEndpoint.CONTENT_TYPE);
        assertThat(answer.bodyAsString()).containsPattern("(?m)^orders_watched 7\\.0$").containsPattern("(?m)^process_watched 3\\.0$");
        assertThat(readOnEventLoop).as("the gauge was read by the scrape").isNotEmpty().containsOnly(false);
    }
}
