package dev.orders.query.http;

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
import dev.orders.query.store.VersionWaiters;
import dev.orders.service.http.ContractRequests;
import dev.orders.service.http.CorrelationIds;
import dev.orders.service.tracing.LogFields;
import dev.orders.service.http.ProblemException;
import dev.orders.service.http.Problems;
import dev.orders.service.http.StrictUuid;
import dev.orders.service.http.RedriveRequest;
import dev.orders.service.security.Caller;
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
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The query API of {@code API.md} ("Queries"), its OpenAPI document ({@link QueryApiDocument}) and the
 * operators' dead-letter endpoints, mounted onto a router that the caller owns (it adds the body handler
 * and, around everything, authentication).
 * Every route also carries {@link Problems#failureHandler()}, so errors are problem+json wherever it
 * is mounted. A request is checked in this order: authentication (around the router), whether the caller
 * may use the route at all (an operators' route answers a customer 403), the served document's parameters
 * ({@link ContractRequests}: 400), then the route's own reading of them ({@link Params}).
 * <p>
 * Authorization: an operator sees everything; a customer sees its own customer and orders only. What
 * belongs to another customer is answered exactly as an unknown id is on the same route (the same
 * status and detail), so that a customer cannot tell another's ids from unknown ones. The listing of
 * customers and the dead letters are for operators only (403 to a customer).
 */
public final class QueryRoutes {

    private static final Logger LOG = LoggerFactory.getLogger(QueryRoutes.class);
    private static final int RETRY_AFTER_SECONDS = 1;

    private final Vertx vertx;
    private final ReadStore reads;
    private final ProjectionStore projection;
    private final VersionWaiters waiters;
    private final Duration minVersionWait;
    private final ContractRequests contract;
    private final ContractRequests.Check orderRequest;
    private final ContractRequests.Check historyRequest;
    private final ContractRequests.Check customersRequest;
    private final ContractRequests.Check customerRequest;
    private final ContractRequests.Check ordersOfCustomerRequest;
    private final ContractRequests.Check deadLettersRequest;
    private final ContractRequests.Check redriveRequest;
    private final ReadGate gate;

    /** @param contract the requests of the served query document ({@link QueryApiDocument}) */
    public QueryRoutes(Vertx vertx, ReadStore reads, ProjectionStore projection, Duration minVersionWait, ReadGate gate,
                       ContractRequests contract) {
        this.vertx = vertx;
        this.contract = contract;
        this.orderRequest = contract.operation("getOrder");
        this.historyRequest = contract.operation("getOrderHistory");
        this.customersRequest = contract.operation("listCustomersByAvailableCredit");
        this.customerRequest = contract.operation("getCustomer");
        this.ordersOfCustomerRequest = contract.operation("listOrdersOfCustomer");
        this.deadLettersRequest = contract.operation("listDeadLetters");
        this.redriveRequest = contract.operation("redriveDeadLetter");
        this.gate = gate;
        this.reads = reads;
        this.projection = projection;
        this.waiters = VersionWaiters.of(vertx);
        this.minVersionWait = minVersionWait;
    }

    /** Mounts the query routes and the query API's OpenAPI document ({@link QueryApiDocument#PATH}). */
    public void mount(Router router) {
        contract.document().mount(router);
        route(router, "/api/orders/:orderId", this::order);
        route(router, "/api/orders/:orderId/history", this::history);
        route(router, "/api/customers", this::customers);
        route(router, "/api/customers/:customerId", this::customer);
        route(router, "/api/customers/:customerId/orders", this::ordersOfCustomer);
        route(router, "/api/admin/dead-letters", this::deadLetters);
        router.post("/api/admin/dead-letters/:id/redrive").handler(gated(this::redrive)).failureHandler(Problems.failureHandler());
    }

    private void route(Router router, String path, Handler<RoutingContext> handler) {
        router.get(path).handler(gated(handler)).failureHandler(Problems.failureHandler());
    }

    /** Answered only while the read model may be read ({@link ReadGate}). */
    private Handler<RoutingContext> gated(Handler<RoutingContext> handler) {
        return ctx -> {
            gate.check();
            handler.handle(ctx);
        };
    }

    // --- orders -----------------------------------------------------------------------------------------

    private void order(RoutingContext ctx) {
        Caller caller = Caller.of(ctx);
        orderRequest.check(ctx);
        order(ctx, caller);
    }

    private void order(RoutingContext ctx, Caller caller) {
        UUID orderId = Params.pathUuid(ctx, "orderId");
        Long minVersion = Params.positiveLong(ctx, "minVersion");
        Instant asOf = Params.instant(ctx, "asOf");
        if (minVersion != null && asOf != null) {
            throw ProblemException.badRequest("'minVersion' and 'asOf' cannot be combined");
        }
        Future<OrderView> answer;
        if (asOf != null) {
            answer = reads.orderEvents(orderId, asOf).map(events -> fold(events)
                    .filter(view -> caller.maySee(view.customerId()))
                    .orElseThrow(() -> ProblemException.notFound("order " + orderId + " did not exist at " + asOf)));
        } else if (minVersion != null) {
            answer = awaitVersion(caller, orderId, minVersion);
        } else {
            answer = reads.order(orderId).map(view -> view.filter(v -> caller.maySee(v.customerId()))
                    .orElseThrow(() -> unknownOrder(orderId)));
        }
        answer.onSuccess(view -> ctx.json(view.toJson())).onFailure(ctx::fail);
    }

    /**
     * Read-your-writes: answers once the view has reached {@code version}, woken by the projector's signal.
     * An order the caller may not see counts as not visible: the request waits out the whole bound and
     * answers the same 503 as for an unknown id, even when that order's signal comes, so that neither
     * the answer nor its timing tells another customer's order from an unknown one.
     */
    private Future<OrderView> awaitVersion(Caller caller, UUID orderId, long version) {
        long deadline = System.nanoTime() + minVersionWait.toNanos();
        VersionWaiters.Registration wait = waiters.register(orderId, version, minVersionWait.toMillis());
        return reads.order(orderId).compose(now -> {
            Optional<OrderView> visible = now.filter(view -> caller.maySee(view.customerId()));
            if (reached(visible, version)) {
                wait.cancel();
                return Future.succeededFuture(visible.get());
            }
            return wait.reached().compose(signalled -> reads.order(orderId)).compose(later -> {
                Optional<OrderView> seen = later.filter(view -> caller.maySee(view.customerId()));
                if (reached(seen, version)) {
                    return Future.succeededFuture(seen.get());
                }
                ProblemException notYet = ProblemException.unavailable("order " + orderId + " has not reached version "
                        + version + " within " + minVersionWait.toMillis() + " ms; retry later", RETRY_AFTER_SECONDS);
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (later.isPresent() && seen.isEmpty() && left > 0) {
                    return vertx.timer(left).compose(ignored -> Future.failedFuture(notYet));
                }
                return Future.failedFuture(notYet);
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
        Caller caller = Caller.of(ctx);
        historyRequest.check(ctx);
        history(ctx, caller);
    }

    private void history(RoutingContext ctx, Caller caller) {
        UUID orderId = Params.pathUuid(ctx, "orderId");
        reads.orderEvents(orderId, null).onSuccess(events -> {
            if (events.isEmpty() || !mayReadHistory(caller, events)) {
                ctx.fail(unknownOrder(orderId));
                return;
            }
            JsonArray body = new JsonArray();
            events.forEach(event -> body.add(event.historyJson()));
            ctx.json(body);
        }).onFailure(ctx::fail);
    }

    /** An order's history is its customer's: every event of it names that customer. */
    private static boolean mayReadHistory(Caller caller, List<StoredEvent> events) {
        if (caller.operator()) {
            return true;
        }
        for (StoredEvent event : events) {
            if (!caller.maySee(customerOf(event))) {
                return false;
            }
        }
        return true;
    }

    private static UUID customerOf(StoredEvent event) {
        Object customerId = event.data().getValue("customerId");
        try {
            return customerId instanceof String text ? UUID.fromString(text) : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    // --- customers --------------------------------------------------------------------------------------

    private void customer(RoutingContext ctx) {
        Caller caller = Caller.of(ctx);
        customerRequest.check(ctx);
        customer(ctx, caller);
    }

    private void customer(RoutingContext ctx, Caller caller) {
        UUID customerId = Params.pathUuid(ctx, "customerId");
        caller.requireAccess(customerId, unknownCustomerText(customerId));
        reads.customer(customerId)
                .map(view -> view.orElseThrow(() -> ProblemException.notFound(unknownCustomerText(customerId))))
                .onSuccess(view -> ctx.json(view.toJson()))
                .onFailure(ctx::fail);
    }

    private void customers(RoutingContext ctx) {
        Caller.of(ctx).requireOperator("list customers");
        customersRequest.check(ctx);
        customersByCredit(ctx);
    }

    private void customersByCredit(RoutingContext ctx) {
        BigDecimal min = Optional.ofNullable(Params.amount(ctx, "minAvailableCredit")).orElse(BigDecimal.ZERO);
        String currency = Params.currency(ctx);
        int limit = Params.limit(ctx);
        String[] cursor = Params.cursor(ctx, 2);
        CreditKey after = cursor == null ? null : parse(() -> new CreditKey(new BigDecimal(cursor[0]),
                StrictUuid.parse(cursor[1]).orElseThrow(Params::badCursor)));
        reads.customersByAvailableCredit(min, currency, limit, after)
                .onSuccess(page -> ctx.json(pageJson(page, CustomerView::toJson, last -> Params.encodeCursor(
                        last.availableAmount().toPlainString(), last.customerId().toString()))))
                .onFailure(ctx::fail);
    }

    /**
     * A customer's orders. Another customer's id is answered as an id that no customer has: an empty
     * page, and a 404 on the first page; never a read of that customer's orders.
     */
    private void ordersOfCustomer(RoutingContext ctx) {
        Caller caller = Caller.of(ctx);
        ordersOfCustomerRequest.check(ctx);
        ordersOfCustomer(ctx, caller);
    }

    private void ordersOfCustomer(RoutingContext ctx, Caller caller) {
        UUID customerId = Params.pathUuid(ctx, "customerId");
        OrderStatus status = Params.status(ctx);
        int limit = Params.limit(ctx);
        String[] cursor = Params.cursor(ctx, 2);
        OrderKey after = cursor == null ? null : parse(() -> new OrderKey(Instant.parse(cursor[0]),
                StrictUuid.parse(cursor[1]).orElseThrow(Params::badCursor)));
        boolean visible = caller.maySee(customerId);
        Future<Page<OrderView>> orders = visible ? reads.ordersOfCustomer(customerId, status, limit, after)
                : Future.succeededFuture(new Page<>(List.of(), false));
        orders.compose(page -> page.items().isEmpty() && after == null
                        ? (visible ? reads.customerExists(customerId) : Future.succeededFuture(false)).map(exists -> {
                            if (!exists) {
                                throw ProblemException.notFound(unknownCustomerText(customerId));
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
        Caller.of(ctx).requireOperator("read the dead letters");
        deadLettersRequest.check(ctx);
        deadLetterPage(ctx);
    }

    private void deadLetterPage(RoutingContext ctx) {
        int limit = Params.limit(ctx);
        String[] cursor = Params.cursor(ctx, 1);
        long after = cursor == null ? 0 : parse(() -> Long.parseLong(cursor[0]));
        reads.deadLetters(after, limit)
                .onSuccess(page -> ctx.json(pageJson(page, Function.identity(),
                        last -> Params.encodeCursor(Long.toString(last.getLong("id"))))))
                .onFailure(ctx::fail);
    }

    private void redrive(RoutingContext ctx) {
        Caller.of(ctx).requireOperator("re-drive dead letters");
        redrive(ctx, RedriveRequest.read(ctx, redriveRequest));
    }

    private void redrive(RoutingContext ctx, RedriveRequest request) {
        long id = request.id();
        LogFields.journey(LOG.atInfo(), CorrelationIds.of(ctx), null).log("re-driving dead letter {}", id);
        projection.redrive(id, request.replacement()).onSuccess(result -> {
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

    static <T> JsonObject pageJson(Page<T> page, Function<T, JsonObject> render, Function<T, String> cursorOf) {
        JsonArray items = new JsonArray();
        page.items().forEach(item -> items.add(render.apply(item)));
        String next = page.more() ? cursorOf.apply(page.items().get(page.items().size() - 1)) : null;
        return new JsonObject().put("items", items).put("next", next);
    }

    static <T> T parse(java.util.function.Supplier<T> parser) {
        try {
            return parser.get();
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw Params.badCursor();
        }
    }

    private static ProblemException unknownOrder(UUID orderId) {
        return ProblemException.notFound("no order " + orderId);
    }

    private static String unknownCustomerText(UUID customerId) {
        return "no customer " + customerId;
    }
}
