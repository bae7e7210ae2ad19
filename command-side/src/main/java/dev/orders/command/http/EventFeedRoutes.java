package dev.orders.command.http;

import dev.orders.command.messaging.EventFeed;
import dev.orders.events.EventJson;
import dev.orders.events.EventText;
import dev.orders.service.http.ContractRequests;
import dev.orders.service.http.ProblemException;
import dev.orders.service.http.Problems;
import dev.orders.service.security.Caller;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;

import java.util.List;

/**
 * The event store's catch-up read API, for readers that cannot rely on Kafka's retention (a query-side
 * rebuild, a new projection): {@code GET /api/admin/events?after=POSITION&limit=N} answers the published
 * events with a global position above {@code after}, by position, gap-free, at most {@code limit}
 * ({@value #DEFAULT_LIMIT} by default; the bounds of both are the OpenAPI document's, checked from it).
 *
 * <p>Answer: {@code {"events": [envelope, ...], "lastPosition": P}}; each envelope is exactly the JSON the
 * relay publishes to Kafka ({@link EventJson#encode}); {@code lastPosition} is the last one's position
 * ({@code after} when the page is empty), to pass as the next {@code after}. A page shorter than
 * {@code limit} means the reader has reached the head of what is published so far.
 *
 * <p>Operators only: the feed holds every customer's events, so a customer's token answers 403.
 */
public final class EventFeedRoutes {

    public static final String PATH = "/api/admin/events";
    static final int DEFAULT_LIMIT = 500;

    private final Pool pool;
    private final ContractRequests.Check request;
    private final EventFeed feed = new EventFeed();

    public EventFeedRoutes(Pool pool, ContractRequests contract) {
        this.pool = pool;
        this.request = contract.operation("readEventFeed");
    }

    public void mount(Router router) {
        router.get(PATH).handler(this::read).failureHandler(Problems.failureHandler());
    }

    private void read(RoutingContext ctx) {
        Caller.of(ctx).requireOperator("read the event feed");
        long after = longParam(ctx, "after", 0);
        long limit = longParam(ctx, "limit", DEFAULT_LIMIT);
        // Writing a page of up to the most events a page may hold is CPU work: done on a worker, so that the
        // event loop goes on serving while a rebuild reads the feed.
        request.check(ctx);
        feed.readPublishedRows(pool, after, (int) limit)
                .compose(rows -> ctx.vertx().executeBlocking(() -> page(rows, after), false))
                .onSuccess(body -> ctx.response()
                        .putHeader("Content-Type", "application/json")
                        .end(body)).onFailure(ctx::fail);
    }

    /**
     * The page as JSON, each envelope as the relay published it, written one after the other from the stored
     * texts, which are not parsed: the reader decodes (and upcasts) each event once.
     */
    public static Buffer page(RowSet<Row> rows, long after) {
        Buffer body = Buffer.buffer(256 + rows.size() * 640).appendString("{\"events\":[");
        long last = after;
        boolean first = true;
        for (Row row : rows) {
            EventText event = EventFeed.text(row);
            if (!first) {
                body.appendByte((byte) ',');
            }
            first = false;
            body.appendBytes(EventJson.encode(event));
            last = event.globalPosition();
        }
        return body.appendString("],\"lastPosition\":" + last + "}");
    }

    /** A parameter given at most once that is a long; its bounds are the document's. */
    private static long longParam(RoutingContext ctx, String name, long fallback) {
        List<String> values = ctx.queryParam(name);
        if (values.isEmpty()) {
            return fallback;
        }
        if (values.size() > 1) {
            throw ProblemException.badRequest("'" + name + "' is given more than once");
        }
        try {
            return Long.parseLong(values.getFirst());
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("'" + name + "' is not a whole number: '" + values.getFirst() + "'");
        }
    }
}
