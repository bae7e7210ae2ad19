package dev.orders.query;

import dev.orders.infra.ServiceLauncher;
import dev.orders.service.http.GracefulStop;
import dev.orders.service.http.Health;
import dev.orders.service.http.HttpServerVerticle;
import dev.orders.service.http.ServiceRouter;
import dev.orders.service.security.Security;

import java.util.List;

/** Runs the query side on its own: the projector, the query API and the push hub. */
public final class QueryMain {

    private QueryMain() {
    }

    public static void main(String[] args) {
        ServiceLauncher.run("query-side", "The query side of Orders: projections, REST queries, SSE and WebSocket push.",
                args, (vertx, config) -> QuerySide.deploy(vertx, config,
                        config.effectiveQueryPgUri(), config.kafkaBootstrap()).compose(side -> {
                    Security security = Security.create(vertx, config.securitySettings());
                    Health health = new Health();
                    side.readiness(health);
                    HttpServerVerticle http = new HttpServerVerticle(config.httpHost(), config.httpPort(),
                            v -> ServiceRouter.create(v, security, health, List.of(side.meterRegistry()), side::mount));
                    return vertx.deployVerticle(http).map(id -> new ServiceLauncher.Started(http.actualPort(),
                            new GracefulStop(health, http, side.push()::drain, side::close)));
                }));
    }
}
