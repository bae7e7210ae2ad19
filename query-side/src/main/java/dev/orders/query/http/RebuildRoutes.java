package dev.orders.query.http;

import dev.orders.query.rebuild.Rebuilder;
import dev.orders.service.http.Problems;
import dev.orders.service.security.Caller;
import io.vertx.ext.web.Router;

/**
 * The operators' rebuild endpoints: {@code POST /api/admin/rebuild} starts a zero-downtime rebuild of
 * every projection from the event store and answers {@code 202} with its status ({@code 409} while one
 * runs); {@code GET /api/admin/rebuild} answers the status of the current or last one (state, events
 * read, feed position, rows written, events per second, the switch's figures, the error). Operators
 * only: a customer gets 403.
 */
public final class RebuildRoutes {

    public static final String PATH = "/api/admin/rebuild";

    private final Rebuilder rebuilder;

    public RebuildRoutes(Rebuilder rebuilder) {
        this.rebuilder = rebuilder;
    }

    public void mount(Router router) {
        router.post(PATH).handler(ctx -> {
            Caller.of(ctx).requireOperator("start a rebuild");
            ctx.response().setStatusCode(202).putHeader("Location", PATH)
                    .putHeader("Content-Type", "application/json").end(rebuilder.start().encode());
        }).failureHandler(Problems.failureHandler());
        router.get(PATH).handler(ctx -> {
            Caller.of(ctx).requireOperator("read the rebuild's status");
            ctx.json(rebuilder.status());
        }).failureHandler(Problems.failureHandler());
    }
}
