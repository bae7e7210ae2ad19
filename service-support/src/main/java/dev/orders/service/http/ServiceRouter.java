package dev.orders.service.http;

import dev.orders.service.metrics.MetricsEndpoint;
import dev.orders.service.metrics.ProcessMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.orders.service.security.Security;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The router of a service process: the common handlers of {@link ApiRouter} (with the session routes and
 * their document), health, metrics, the AsyncAPI document, then
 * the routes of the sides it runs, then 404 problems for unknown API paths.
 */
public final class ServiceRouter {

    private ServiceRouter() {
    }

    public static Router create(Vertx vertx, Security security, ContractRequests sessionContract, Health health,
                                List<PrometheusMeterRegistry> registries, Consumer<Router> routes) {
        Router router = ApiRouter.create(vertx, security, sessionContract);
        health.mount(router);
        List<PrometheusMeterRegistry> scraped = new ArrayList<>(registries);
        ProcessMetrics.of(vertx).ifPresent(scraped::add);
        MetricsEndpoint.mount(router, scraped);
        ContractDocument.asyncApi().mount(router);
        routes.accept(router);
        ApiRouter.finish(router);
        return router;
    }
}
