package dev.orders.command;

import dev.orders.infra.ServiceLauncher;
import dev.orders.service.http.ApiRouter;
import dev.orders.service.http.Health;
import dev.orders.service.http.HttpServerVerticle;
import dev.orders.service.metrics.MetricsEndpoint;
import io.vertx.ext.web.Router;

import java.util.List;

/** Runs the command side on its own: the command API, the relay and the saga. */
public final class CommandMain {

    private CommandMain() {
    }

    public static void main(String[] args) {
        ServiceLauncher.run("command-side", "The command side of Orders: REST commands, event store, relay, saga.",
                args, (vertx, config, infrastructure) -> CommandSide.deploy(vertx, config,
                        infrastructure.commandPgUri(), infrastructure.kafkaBootstrap()).compose(side -> {
                    HttpServerVerticle http = new HttpServerVerticle(config.httpHost(), config.httpPort(), v -> {
                        Router router = ApiRouter.create(v);
                        Health health = new Health();
                        side.addHealthChecks(health);
                        health.mount(router);
                        MetricsEndpoint.mount(router, List.of(side.meterRegistry()));
                        side.mount(router);
                        ApiRouter.finish(router);
                        return router;
                    });
                    return vertx.deployVerticle(http).map(id -> http.actualPort());
                }));
    }
}
