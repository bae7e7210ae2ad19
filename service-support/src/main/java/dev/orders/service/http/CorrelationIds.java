package dev.orders.service.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Gives every request a correlation id: the caller's {@code X-Correlation-Id} when it is sane, else a
 * new one. It is echoed in the response, stored in the metadata of the events the request writes, and
 * logged everywhere the order goes next. The W3C {@code traceparent} header is kept beside it.
 */
public final class CorrelationIds {

    public static final String HEADER = "X-Correlation-Id";
    private static final String KEY = "correlationId";
    private static final String TRACEPARENT_KEY = "traceparent";
    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,100}");
    private static final Pattern TRACEPARENT = Pattern.compile("[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");

    private CorrelationIds() {
    }

    public static Handler<RoutingContext> handler() {
        return ctx -> {
            String given = ctx.request().getHeader(HEADER);
            String id = given != null && SANE.matcher(given).matches() ? given : UUID.randomUUID().toString();
            ctx.put(KEY, id);
            String traceparent = ctx.request().getHeader("traceparent");
            if (traceparent != null && TRACEPARENT.matcher(traceparent).matches()) {
                ctx.put(TRACEPARENT_KEY, traceparent);
            }
            ctx.response().putHeader(HEADER, id);
            ctx.next();
        };
    }

    /** The request's correlation id, or null outside a request that passed {@link #handler()}. */
    public static String of(RoutingContext ctx) {
        return ctx.get(KEY);
    }

    /** The request's W3C trace context, or null. */
    public static String traceparentOf(RoutingContext ctx) {
        return ctx.get(TRACEPARENT_KEY);
    }
}
