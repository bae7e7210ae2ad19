package dev.orders.query.push;

import dev.orders.service.http.ContractRequests;
import dev.orders.service.security.Caller;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The WebSocket handshake, {@code GET /api/ws}: admitted by {@link PushConnections#admit} (a foreign origin 403,
 * then its {@code Upgrade} and {@code Sec-WebSocket-Version} checked against the served document's
 * {@code openWebSocket}, 400, beyond the node's connections 503); each upgraded socket is a {@link WebSocketSession}, counted as one connection until
 * it closes.
 */
final class WebSocketRoutes {

    private final Vertx vertx;
    private final PushConnections connections;
    private final SubscriptionProtocol protocol;
    /** The sockets open now, each removed as it closes. */
    private final Set<WebSocketSession> open = ConcurrentHashMap.newKeySet();

    WebSocketRoutes(Vertx vertx, PushConnections connections, SubscriptionProtocol protocol) {
        this.vertx = vertx;
        this.connections = connections;
        this.protocol = protocol;
    }

    void mount(Router router, ContractRequests contract) {
        ContractRequests.Check handshake = contract.operation("openWebSocket");
        router.get("/api/ws").handler(ctx -> webSocket(ctx, handshake));
    }

    private void webSocket(RoutingContext ctx, ContractRequests.Check handshake) {
        Caller caller = Caller.of(ctx);
        connections.admit(ctx, () -> {
            handshake.check(ctx);
            return ctx.request();
        }).ifPresent(request -> request.toWebSocket()
                .onComplete(upgraded -> {
                    if (upgraded.failed()) {
                        connections.releaseConnection();
                        return;
                    }
                    open.add(new WebSocketSession(protocol, vertx, upgraded.result(), caller,
                            connections::releaseConnection, open::remove));
                }));
    }

    /**
     * Closes every open socket with {@value WebSocketSink#SERVICE_RESTART}, subscribed or not (a graceful
     * stop; new handshakes are refused by then).
     *
     * @return done when each has been closed
     */
    Future<Void> moveOn() {
        List<Future<Void>> closed = new ArrayList<>();
        open.forEach(session -> closed.add(session.moveOn()));
        return Future.join(closed).mapEmpty();
    }
}
