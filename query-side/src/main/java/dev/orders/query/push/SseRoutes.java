package dev.orders.query.push;

import dev.orders.service.http.ContractRequests;
import dev.orders.service.http.ProblemException;
import dev.orders.service.http.Problems;
import dev.orders.service.security.Caller;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.UUID;
import java.util.function.Function;

/**
 * The SSE streams: {@code GET /api/customers/{id}/orders/stream} and {@code GET /api/orders/{id}/stream},
 * resumed by {@code Last-Event-ID} (or {@code ?lastEventId=}); admitted by {@link PushConnections#admit} (a foreign
 * origin 403, then the path and query parameters checked against the operation of the served document, 400,
 * beyond the node's connections 503); ended with {@code event: expired} when the caller's token expires.
 */
final class SseRoutes {

    private final Vertx vertx;
    private final PushSettings settings;
    private final PushConnections connections;
    private final SubscriptionProtocol protocol;

    SseRoutes(Vertx vertx, PushSettings settings, PushConnections connections, SubscriptionProtocol protocol) {
        this.vertx = vertx;
        this.settings = settings;
        this.connections = connections;
        this.protocol = protocol;
    }

    void mount(Router router, ContractRequests contract) {
        ContractRequests.Check customerStream = contract.operation("streamOrdersOfCustomer");
        ContractRequests.Check orderStream = contract.operation("streamOrder");
        router.get("/api/customers/:id/orders/stream").handler(ctx -> stream(ctx, customerStream, Watch.Customer::new));
        router.get("/api/orders/:id/stream").handler(ctx -> stream(ctx, orderStream, Watch.Order::new));
    }

    /** A stream's request: what it watches, and where it resumes (null: from the current state). */
    private record StreamRequest(Watch watch, Long lastEventId) {
    }

    private void stream(RoutingContext ctx, ContractRequests.Check operation, Function<UUID, Watch> watchOf) {
        Caller caller = Caller.of(ctx);
        connections.admit(ctx, () -> {
            operation.check(ctx);
            return new StreamRequest(watchOf.apply(PushRequests.uuid(ctx.pathParam("id"))),
                    PushRequests.resumeId(ctx.request()));
        }).ifPresent(request -> open(ctx, caller, request));
    }

    private void open(RoutingContext ctx, Caller caller, StreamRequest request) {
        Subscription[] opened = new Subscription[1];
        long expiry = vertx.setTimer(PushRequests.untilExpiry(caller), id -> expired(ctx, opened[0]));
        protocol.open(caller, request.watch(), request.lastEventId(), () -> {
                    vertx.cancelTimer(expiry);
                    connections.releaseConnection();
                },
                subscription -> {
                    opened[0] = subscription;
                    ctx.response().closeHandler(ignored -> subscription.closed());
                },
                () -> new SseSink(SseWriter.start(ctx.response(), settings.retryHint().toMillis())))
                .onFailure(error -> fail(ctx, error));
    }

    /**
     * The caller's token expired while its stream was open: a started stream gets {@code event: expired}
     * and ends; one still reading its state (nothing sent yet) is answered 401.
     */
    private void expired(RoutingContext ctx, Subscription subscription) {
        protocol.metrics().expired();
        if (subscription != null) {
            subscription.expire();
        }
        Problems.send(ctx, ProblemException.unauthorized("the token expired; sign in again, then resume"));
    }

    private static void fail(RoutingContext ctx, Throwable error) {
        if (ctx.response().ended() || ctx.response().closed()) {
            return;
        }
        if (error instanceof ProblemException problem) {
            Problems.send(ctx, problem);
        } else if (!ctx.response().headWritten() && !ctx.response().closed()) {
            ctx.fail(error);
        }
    }
}
