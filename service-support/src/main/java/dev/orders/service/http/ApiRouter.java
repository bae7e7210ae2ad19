package dev.orders.service.http;

import dev.orders.service.security.Security;
import dev.orders.service.security.SecurityHeaders;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The one place where every route of a service gets what all routes need: security headers, a
 * correlation id, a body limited to 64 KiB (413 past it), RFC 9457 problems for every failure
 * (including unknown paths under {@code /api}), and {@link Security}: a verified token on every
 * {@code /api} route, CORS, CSRF and the per-customer command rate, around every route at once.
 */
public final class ApiRouter {

    public static final long MAX_BODY_BYTES = 64 * 1024;

    private ApiRouter() {
    }

    /** A router with the common handlers; sides mount their routes on it, then call {@link #finish}. */
    public static Router create(Vertx vertx, Security security) {
        Router router = Router.router(vertx);
        router.route().handler(SecurityHeaders.handler(security.settings().allowedOrigins()));
        router.route().handler(CorrelationIds.handler());
        router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
        router.route().failureHandler(Problems.failureHandler());
        security.protect(router);
        return router;
    }

    /** Answers any unmatched {@code /api} path with a 404 problem; call after all routes are mounted. */
    public static void finish(Router router) {
        router.route("/api/*").last().handler(ctx -> Problems.send(ctx,
                ProblemException.notFound("no such resource: " + ctx.request().method() + " " + ctx.request().path())));
    }
}
