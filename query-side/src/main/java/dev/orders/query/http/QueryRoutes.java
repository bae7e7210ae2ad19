package dev.orders.query.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventFormatException;
import dev.orders.events.OrderStatus;
import dev.orders.query.model.CustomerView;
import dev.orders.query.model.OrderView;
import dev.orders.query.model.Projection;
import dev.orders.query.store.ProjectionStore;
import dev.orders.query.store.ProjectionStore.RedriveResult;
import dev.orders.query.store.ReadStore;
import dev.orders.query.store.ReadStore.CreditKey;
import dev.orders.query.store.ReadStore.OrderKey;
import dev.orders.query.store.ReadStore.Page;
import dev.orders.query.store.StoredEvent;
import dev.orders.service.http.CorrelationIds;
import dev.orders.service.http.JsonRequest;
import dev.orders.service.http.ProblemException;
import dev.orders.service.http.Problems;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

/**
 * The query API of {@code API.md} ("Queries") and the operators' dead-letter endpoints, mounted onto a
 * router that the caller owns (it adds the body handler and, around everything, authentication).
 * Every route also carries {@link Problems#failureHandler()}, so errors are problem+json wherever it
 * is mounted.
 */
public final class QueryRoutes {

    private static final Logger LOG = LoggerFactory.getLogger(QueryRoutes.class);
    private static final int RETRY_AFTER_SECONDS = 1;

    private final ReadStore reads;
    private final ProjectionStore projection;
    private final VersionWaiters waiters;
    private final Duration minVersionWait;

    public QueryRoutes(Vertx vertx, ReadStore reads, ProjectionStore projection, Duration minVersionWait) {
        this.reads = reads;
        this.projection = projection;
        this.waiters = new VersionWaiters(vertx);
        this.minVersionWait = minVersionWait;
    }

    public void mount(Router router) {
        route(router, "/api/orders/:orderId", this::order);
        route(router, "/api/orders/:orderId/history", this::history);
        route(router, "/api/customers", this::customers);
        route(router, "/api/customers/:customerId", this::customer);
        route(router, "/api/customers/:customerId/orders", this::ordersOfCustomer);
        route(router, "/api/admin/dead-letters", this::deadLetters);
        router.post("/api/admin/dead-letters/:id/redrive").handler(this::redrive).failureHandler(Problems.failureHandler());
    }

    public Future<Void> close() {
        return waiters.close();
    }

    private static void route(Router router, String path, Handler<RoutingContext> handler) {
        router.get(path).handler(handler).failureHandler(Problems.failureHandler());
    }

    // --- orders -----------------------------------------------------------------------------------------

    private void order(RoutingContext ctx) {
        UUID orderId = Params.pathUuid(ctx, "orderId");
        Long minVersion = Params.positiveLong(ctx, "minVersion");
        Instant asOf = Params.instant(ctx, "asOf");
        if (minVersion != null && asOf != null) {
            throw ProblemException.badRequest("'minVersion' and 'asOf' cannot be combined");
        }
        Future<OrderView> answer;
        if (asOf != null) {
            answer = reads.orderEvents(orderId, asOf).map(events -> fold(events)
                    .orElseThrow(() -> ProblemException.notFound("order " + orderId + " did not exist at " + asOf)));
        } else if (minVersion != null) {
            answer = awaitVersion(orderId, minVersion);
        } else {
            answer = reads.order(orderId).map(view -> view.orElseThrow(() -> unknownOrder(orderId)));
        }
        answer.onSuccess(view -> ctx.json(view.toJson())).onFailure(ctx::fail);
    }

    /** Read-your-writes: answers once the view has reached {@code version}, woken by the projector's signal. */
    private Future<OrderView> awaitVersion(UUID orderId, long version) {
        VersionWaiters.Registration wait = waiters.register(orderId, version, minVersionWait.toMillis());
        return reads.order(orderId).compose(now -> {
            if (reached(now, version)) {
                wait.cancel();
                return Future.succeededFuture(now.get());
            }
            return wait.reached().compose(signalled -> reads.order(orderId)).map(later -> {
                if (reached(later, version)) {
                    return later.get();
                }
                throw ProblemException.unavailable("order " + orderId + " has not reached version " + version
                        + " within " + minVersionWait.toMillis() + " ms; retry later", RETRY_AFTER_SECONDS);
            });
        });
    }

    private static boolean reached(Optional<OrderView> view, long version) {
        return view.isPresent() && view.get().version() >= version;
    }

    private static Optional<OrderView> fold(List<StoredEvent> events) {
        List<EventEnvelope> envelopes = new ArrayList<>();
        for (StoredEvent event : events) {
            try {
                envelopes.add(event.toEnvelope());
            } catch (EventFormatException e) {
                LOG.warn("event {} of {} no longer decodes: {}", event.eventId(), event.streamId(), e.getMessage());
            }
        }
        return Projection.foldOrder(envelopes);
    }

    private void history(RoutingContext ctx) {
        UUID orderId = Params.pathUuid(ctx, "orderId");
        reads.orderEvents(orderId, null).onSuccess(events -> {
            if (events.isEmpty()) {
                ctx.fail(unknownOrder(orderId));
                return;
            }
            JsonArray body = new JsonArray();
            events.forEach(event -> body.add(event.historyJson()));
            ctx.json(body);
        }).onFailure(ctx::fail);
    }

    // --- customers --------------------------------------------------------------------------------------

    private void customer(RoutingContext ctx) {
        UUID customerId = Params.pathUuid(ctx, "customerId");
        reads.customer(customerId)
                .map(view -> view.orElseThrow(() -> ProblemException.notFound("no customer " + customerId)))
                .onSuccess(view -> ctx.json(view.toJson()))
                .onFailure(ctx::fail);
    }

    private void customers(RoutingContext ctx) {
        BigDecimal min = Optional.ofNullable(Params.amount(ctx, "minAvailableCredit")).orElse(BigDecimal.ZERO);
        String currency = Params.currency(ctx);
        int limit = Params.limit(ctx);
        String[] cursor = Params.cursor(ctx, 2);
        CreditKey after = cursor == null ? null : parse(() -> new CreditKey(new BigDecimal(cursor[0]),
                UUID.fromString(cursor[1])));
        reads.customersByAvailableCredit(min, currency, limit, after)
                .onSuccess(page -> ctx.json(pageJson(page, CustomerView::toJson, last -> Params.encodeCursor(
                        last.availableAmount().toPlainString(), last.customerId().toString()))))
                .onFailure(ctx::fail);
    }

    private void ordersOfCustomer(RoutingContext ctx) {
        UUID customerId = Params.pathUuid(ctx, "customerId");
        OrderStatus status = Params.status(ctx);
        int limit = Params.limit(ctx);
        String[] cursor = Params.cursor(ctx, 2);
        OrderKey after = cursor == null ? null : parse(() -> new OrderKey(Instant.parse(cursor[0]),
                UUID.fromString(cursor[1])));
        reads.ordersOfCustomer(customerId, status, limit, after)
                .compose(page -> page.items().isEmpty() && after == null
                        ? reads.customerExists(customerId).map(exists -> {
                            if (!exists) {
                                throw ProblemException.notFound("no customer " + customerId);
                            }
                            return page;
                        })
                        : Future.succeededFuture(page))
                .onSuccess(page -> ctx.json(pageJson(page, OrderView::toJson, last -> Params.encodeCursor(
                        last.createdAt().toString(), last.orderId().toString()))))
                .onFailure(ctx::fail);
    }

    // --- operators --------------------------------------------------------------------------------------

    private void deadLetters(RoutingContext ctx) {
        int limit = Params.limit(ctx);
        String[] cursor = Params.cursor(ctx, 1);
        long after = cursor == null ? 0 : parse(() -> Long.parseLong(cursor[0]));
        reads.deadLetters(after, limit)
                .onSuccess(page -> ctx.json(pageJson(page, Function.identity(),
                        last -> Params.encodeCursor(Long.toString(last.getLong("id"))))))
                .onFailure(ctx::fail);
    }

    private void redrive(RoutingContext ctx) {
        String raw = ctx.pathParam("id");
        long id;
        try {
            id = Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("'id' must be a dead letter's number, was '" + raw + "'");
        }
        byte[] replacement = null;
        if (ctx.body() != null && ctx.body().buffer() != null && ctx.body().buffer().length() > 0) {
            JsonNode payload = JsonRequest.read(ctx, "payload").json().get("payload");
            if (payload == null || !payload.isObject()) {
                throw ProblemException.badRequest("'payload' must be the corrected event envelope, a JSON object");
            }
            replacement = payload.toString().getBytes(StandardCharsets.UTF_8);
        }
        LOG.info("re-driving dead letter {} [correlationId={}]", id, CorrelationIds.of(ctx));
        projection.redrive(id, replacement).onSuccess(result -> {
            switch (result) {
                case RedriveResult.NotFound none -> ctx.fail(ProblemException.notFound("no dead letter " + id));
                case RedriveResult.AlreadyRedriven done -> ctx.fail(ProblemException.conflict(
                        "dead letter " + id + " was already re-driven"));
                case RedriveResult.StillUndecodable bad -> ctx.fail(ProblemException.unprocessable(bad.error()));
                case RedriveResult.Redriven redriven -> ctx.json(new JsonObject()
                        .put("id", id)
                        .put("eventId", redriven.envelope().eventId().toString())
                        .put("type", redriven.envelope().type())
                        .put("streamId", redriven.envelope().streamId().toString())
                        .put("version", redriven.envelope().version())
                        .put("redriven", true));
            }
        }).onFailure(ctx::fail);
    }

    // --- helpers ----------------------------------------------------------------------------------------

    private static <T> JsonObject pageJson(Page<T> page, Function<T, JsonObject> render, Function<T, String> cursorOf) {
        JsonArray items = new JsonArray();
        page.items().forEach(item -> items.add(render.apply(item)));
        String next = page.more() ? cursorOf.apply(page.items().get(page.items().size() - 1)) : null;
        return new JsonObject().put("items", items).put("next", next);
    }

    private static <T> T parse(java.util.function.Supplier<T> parser) {
        try {
            return parser.get();
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw Params.badCursor();
        }
    }

    private static ProblemException unknownOrder(UUID orderId) {
        return ProblemException.notFound("no order " + orderId);
    }
}
