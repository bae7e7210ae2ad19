package dev.orders.query;

import dev.orders.infra.ServiceLauncher;

/** Runs the query side on its own: the projector, the query API and the push hub. */
public final class QueryMain {

    private QueryMain() {
    }

    public static void main(String[] args) {
        ServiceLauncher.service("query-side", "The query side of Orders: projections, REST queries, SSE and WebSocket push.",
                (vertx, config, servers) -> QuerySide.deploy(vertx, config, servers.queryPgUri(),
                        servers.kafkaBootstrap())).run(args);
    }
}
