package dev.orders.app;

import dev.orders.command.CommandSide;
import dev.orders.query.QuerySide;
import dev.orders.service.ServicePart;
import dev.orders.service.http.Health;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;

import java.util.List;

/**
 * What the all-in-one serves on its one port: both sides' routes, readiness and meters, and the browser UI's
 * pages. Its streams are the query side's; it stops the query side first, then the command side.
 */
record BothSides(CommandSide command, QuerySide query) implements ServicePart {

    @Override
    public void mount(Router router) {
        command.mount(router);
        query.mount(router);
        router.route("/*").handler(StaticHandler.create("webroot").setIndexPage("index.html"));
    }

    @Override
    public Health readiness(Health health) {
        return query.readiness(command.readiness(health));
    }

    @Override
    public List<PrometheusMeterRegistry> meterRegistries() {
        return List.of(command.meterRegistry(), query.meterRegistry());
    }

    @Override
    public Future<Void> endStreams() {
        return query.endStreams();
    }

    @Override
    public Future<Void> close() {
        return query.close().transform(ignored -> command.close());
    }
}
