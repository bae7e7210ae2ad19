package dev.orders.query.push;

import dev.orders.service.http.ProblemException;
import dev.orders.service.http.Problems;
import dev.orders.service.security.OriginPolicy;
import io.vertx.ext.web.RoutingContext;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The node's live connections (SSE streams and WebSockets): admitted from allowed origins only (403), at most
 * {@link PushSettings#maxConnections()}, none new once the node drains or while its change log is refilled; a
 * refusal is a 503 that names when to retry.
 */
final class PushConnections {

    private final PushSettings settings;
    private final PushMetrics metrics;
    private final OriginPolicy origins;
    private final AtomicInteger connections = new AtomicInteger();
    /** Set by {@link #drain()}: no new stream. */
    private volatile boolean draining;
    /** Set by {@link #suspend()} while the order-change log is lost and being refilled: no new stream. */
    private volatile boolean suspended;

    PushConnections(PushSettings settings, PushMetrics metrics, OriginPolicy origins) {
        this.settings = settings;
        this.metrics = metrics;
        this.origins = origins;
    }

    /**
     * Admits a new stream or WebSocket: its origin allowed, its request read by {@code request} (which throws
     * a {@link ProblemException} for a bad one), then a connection taken; a refusal, the request's or this
     * node's, is counted and answered here.
     *
     * @return what {@code request} read, once the connection is taken (the caller releases it when it ends);
     *         empty when refused
     */
    <T> Optional<T> admit(RoutingContext ctx, Supplier<T> request) {
        try {
            origins.requireStreamOrigin(ctx.request());
            T read = request.get();
            acquireConnection();
            return Optional.of(read);
        } catch (ProblemException problem) {
            metrics.rejected();
            Problems.send(ctx, problem);
            return Optional.empty();
        }
    }

    /** No new connection from now on. */
    void drain() {
        draining = true;
    }

    /** No new connection until {@link #resume()}: the order-change log is being refilled. */
    void suspend() {
        suspended = true;
    }

    void resume() {
        suspended = false;
    }

    private void acquireConnection() {
        if (draining) {
            throw ProblemException.unavailable("this node is shutting down; reconnect (another node serves you)", 1);
        }
        if (suspended) {
            throw ProblemException.unavailable("the read model is being restored from the event store; reconnect"
                    + " shortly with your last id", 2);
        }
        if (connections.incrementAndGet() > settings.maxConnections()) {
            connections.decrementAndGet();
            throw ProblemException.unavailable("this node serves its maximum of " + settings.maxConnections()
                    + " live connections; retry, or another node", 5);
        }
        metrics.connectionOpened();
    }

    void releaseConnection() {
        connections.decrementAndGet();
        metrics.connectionClosed();
    }
}
