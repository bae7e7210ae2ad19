package dev.orders.command;

import dev.orders.infra.ServiceLauncher;
import dev.orders.service.http.GracefulStop;
import dev.orders.service.http.Health;
import dev.orders.service.http.HttpServerVerticle;
import dev.orders.service.http.ServiceRouter;
import dev.orders.service.security.Security;
import io.vertx.core.Future;

import java.util.List;

/** Runs the command side on its own: the command API, the relay and the saga. */
public final class CommandMain {

    private CommandMain() {
    }

    public static void main(String[] args) {
        ServiceLauncher.run("command-side", "The command side of Orders: REST commands, event store, relay, saga.",
                args, (vertx, config) -> CommandSide.deploy(vertx, config,
                        config.effectiveCommandPgUri(), config.kafkaBootstrap()).compose(side -> {
                    Security security = Security.create(vertx, config.securitySettings());
                    Health health = new Health();
                    side.addHealthChecks(health);
                    HttpServerVerticle http = new HttpServerVerticle(config.httpHost(), config.httpPort(),
                            v -> ServiceRouter.create(v, security, health, List.of(side.meterRegistry()), side::mount));
                    return vertx.deployVerticle(http).map(id -> new ServiceLauncher.Started(http.actualPort(),
                            new GracefulStop(health, http, Future::succeededFuture, side::close)));
                }));
    }
}
