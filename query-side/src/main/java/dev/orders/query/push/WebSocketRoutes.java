package dev.orders.query.push;

import dev.orders.service.http.ProblemException;
import dev.orders.service.security.Caller;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The WebSocket handshake, {@code GET /api/ws}: admitted by {@link PushConnections#admit} (a foreign origin 403,
 * beyond the node's connections 503); each upgraded socket is a {@link WebSocketSession}, counted as one connection until
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

    void mount(Router router) {
        router.get("/api/ws").handler(this::webSocket);
    }

    private void webSocket(RoutingContext ctx) {
        Caller caller = Caller.of(ctx);
        connections.admit(ctx, () -> handshake(ctx.request())).ifPresent(request -> request.toWebSocket()
                .onComplete(upgraded -> {
                    if (upgraded.failed()) {
                        connections.releaseConnection();
                        return;
                    }
                    open.add(new WebSocketSession(protocol, vertx, upgraded.result(), caller,
                            connections::releaseConnection, open::remove));
                }));
    }

    private static HttpServerRequest handshake(HttpServerRequest request) {
        if (!"websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
            throw ProblemException.badRequest("/api/ws takes a WebSocket handshake ('Upgrade: websocket') only");
        }
        return request;
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
