package dev.orders.service.http;

import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The one place where every route of a service gets what all routes need: a correlation id, a body
 * limited to 64 KiB (413 past it), and RFC 9457 problems for every failure, including unknown paths
 * under {@code /api}. Authentication, when it comes, is added here, around every route at once.
 */
public final class ApiRouter {

    public static final long MAX_BODY_BYTES = 64 * 1024;

    private ApiRouter() {
    }

    /** A router with the common handlers; sides mount their routes on it, then call {@link #finish}. */
    public static Router create(Vertx vertx) {
        Router router = Router.router(vertx);
        router.route().handler(CorrelationIds.handler());
        router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
        router.route().failureHandler(Problems.failureHandler());
        return router;
    }

    /** Answers any unmatched {@code /api} path with a 404 problem; call after all routes are mounted. */
    public static void finish(Router router) {
        router.route("/api/*").last().handler(ctx -> Problems.send(ctx,
                ProblemException.notFound("no such resource: " + ctx.request().method() + " " + ctx.request().path())));
    }
}
