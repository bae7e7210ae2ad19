package dev.orders.service.http;

import dev.orders.service.security.Security;
import dev.orders.service.security.SecurityHeaders;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
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

    /**
     * A router with the common handlers; sides mount their routes on it, then call {@link #finish}.
     *
     * @param sessionContract the requests of the session routes' document ({@code SessionApi.load}), loaded once
     *                        per process
     */
    public static Router create(Vertx vertx, Security security, ContractRequests sessionContract) {
        Router router = Router.router(vertx);
        router.route().handler(SecurityHeaders.handler(security.settings().allowedOrigins()));
        router.route().handler(CorrelationIds.handler());
        router.route("/api/*").handler(ApiRouter::refuseBodiesOtherThanJson);
        router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
        router.route().failureHandler(Problems.failureHandler());
        security.protect(router, sessionContract);
        return router;
    }

    /**
     * A request that carries a body (a content type, a length above 0, or chunks) must say it is JSON,
     * else 415 before the body is read: no form or multipart body is ever parsed, and a route that takes
     * no body (a cancel) cannot be reached with a form either.
     */
    private static void refuseBodiesOtherThanJson(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD
                && request.method() != HttpMethod.OPTIONS) {
            String contentType = request.getHeader("Content-Type");
            String length = request.getHeader("Content-Length");
            boolean body = contentType != null || length != null && !length.trim().equals("0")
                    || request.getHeader("Transfer-Encoding") != null;
            if (body && (contentType == null || !JsonRequest.isJson(contentType))) {
                ctx.fail(new ProblemException(415, "Unsupported media type", "a request body must be application/json, was "
                        + (contentType == null ? "sent without a content type" : contentType)));
                return;
            }
        }
        ctx.next();
    }

    /** Answers any unmatched {@code /api} path with a 404 problem; call after all routes are mounted. */
    public static void finish(Router router) {
        router.route("/api/*").last().handler(ctx -> Problems.send(ctx,
                ProblemException.notFound("no such resource: " + ctx.request().method() + " " + ctx.request().path())));
    }
}
