package dev.orders.service.http;

import dev.orders.service.sql.DatabaseOutage;
import dev.orders.service.sql.PoolOverload;
import dev.orders.service.tracing.LogFields;
import dev.orders.service.tracing.Tracing;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/** Writes RFC 9457 problem documents, and the one failure handler that every router installs. */
public final class Problems {

    public static final String CONTENT_TYPE = "application/problem+json";
    private static final Logger LOG = LoggerFactory.getLogger(Problems.class);
    /** The Retry-After of a request that found PostgreSQL away: a restart takes seconds. */
    private static final int DATABASE_RETRY_AFTER_SECONDS = 2;
    private static final int POOL_RETRY_AFTER_SECONDS = 1;

    private Problems() {
    }

    /** Answers the request with the problem, unless a response was already started. */
    public static void send(RoutingContext ctx, ProblemException problem) {
        if (ctx.response().headWritten() || ctx.response().closed()) {
            return;
        }
        JsonObject body = new JsonObject()
                .put("type", problem.type())
                .put("title", problem.title())
                .put("status", problem.status())
                .put("detail", problem.detail())
                .put("instance", ctx.request().path());
        String correlationId = CorrelationIds.of(ctx);
        if (correlationId != null) {
            body.put("correlationId", correlationId);
        }
        var response = ctx.response().setStatusCode(problem.status()).putHeader("Content-Type", CONTENT_TYPE);
        problem.headers().forEach(response::putHeader);
        response.end(body.encode());
    }

    /**
     * Maps every failure of a route to a problem: a {@link ProblemException} as it is, a status set by
     * a Vert.x handler (413 from the body handler, 404 and 405 from the router) to its meaning, a
     * failure that says PostgreSQL is away to a 503 with {@code Retry-After} (see {@link DatabaseOutage}),
     * and anything else to a 500 that is logged with the request's correlation id.
     */
    public static Handler<RoutingContext> failureHandler() {
        return ctx -> send(ctx, toProblem(ctx));
    }

    static ProblemException toProblem(RoutingContext ctx) {
        Throwable failure = ctx.failure();
        if (failure instanceof ProblemException problem) {
            return problem;
        }
        return switch (ctx.statusCode()) {
            case 400 -> ProblemException.badRequest(failure == null ? "the request is malformed" : failure.getMessage());
            case 404 -> ProblemException.notFound("no such resource: " + ctx.request().path());
            case 405 -> new ProblemException(405, "Method not allowed",
                    ctx.request().method() + " is not allowed on " + ctx.request().path());
            case 413 -> new ProblemException(413, "Payload too large",
                    "the request body is larger than the limit of 64 KiB");
            case 415 -> new ProblemException(415, "Unsupported media type", "the request body must be application/json");
            default -> {
                if (PoolOverload.causes(failure)) {
                    yield ProblemException.unavailable("the service is overloaded; retry shortly", POOL_RETRY_AFTER_SECONDS);
                }
                if (DatabaseOutage.causes(failure)) {
                    journey(LOG.atWarn(), ctx).log(
                            "request {} {} answered 503: PostgreSQL is unavailable ({})", ctx.request().method(),
                            ctx.request().path(), failure);
                    yield ProblemException.unavailable("the database is unavailable; retry shortly", DATABASE_RETRY_AFTER_SECONDS);
                }
                journey(LOG.atError(), ctx).setCause(failure).log("request {} {} failed", ctx.request().method(),
                        ctx.request().path());
                yield new ProblemException(500, "Internal server error",
                        "the request failed unexpectedly; quote the correlation id when reporting it");
            }
        };
    }

    /** A log line with the request's correlation id and trace context as fields (see {@link LogFields}). */
    private static LoggingEventBuilder journey(LoggingEventBuilder line, RoutingContext ctx) {
        return LogFields.journey(line, CorrelationIds.of(ctx),
                Tracing.of(ctx.vertx()).currentTraceparent(CorrelationIds.traceparentOf(ctx)));
    }
}
