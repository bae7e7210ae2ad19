package dev.orders.service.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.ext.web.Router;

import java.util.List;

/**
 * {@code GET /metrics} in the Prometheus text format. Each side keeps its own registry (so that two
 * sides in one process, or many in one test JVM, never share a meter); the endpoint writes all the
 * registries of the process it serves.
 */
public final class MetricsEndpoint {

    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private MetricsEndpoint() {
    }

    /** A registry for one side. */
    public static PrometheusMeterRegistry newRegistry() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    /**
     * Serves the registries. A scrape reads every meter and writes a text of thousands of lines (tens of
     * milliseconds on a loaded machine, more while the JIT has not compiled it), so it runs on a worker thread, not
     * on the event loop that serves the pipeline's requests; scrapes wait for each other there (ordered), a
     * registry being safe to read from any thread.
     */
    public static void mount(Router router, List<PrometheusMeterRegistry> registries) {
        router.get("/metrics").handler(ctx -> ctx.vertx().executeBlocking(() -> {
                    StringBuilder body = new StringBuilder();
                    registries.forEach(registry -> body.append(registry.scrape()));
                    return body.toString();
                })
                .onSuccess(body -> ctx.response().putHeader("Content-Type", CONTENT_TYPE).end(body))
                .onFailure(ctx::fail));
    }
}
