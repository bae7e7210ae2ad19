package dev.orders.service.sql;

import io.vertx.core.VertxException;
import io.vertx.core.http.ConnectionPoolTooBusyException;

/**
 * Tells a failure that says no pooled PostgreSQL connection could be had in time: the service is
 * overloaded (not broken), so the HTTP edge answers {@code 503} with {@code Retry-After} on both sides.
 */
public final class PoolOverload {

    /** What the Vert.x 5 pool fails with once a request waited past the pool's connection timeout. */
    private static final String POOL_TIMEOUT_MESSAGE = "Timeout waiting for connection";

    private PoolOverload() {
    }

    /**
     * Whether the failure (or one of its causes) says that no pooled connection could be had: the Vert.x 5
     * pool fails an acquisition past its bounded wait queue at once with a
     * {@link ConnectionPoolTooBusyException} ("Connection pool reached max wait queue size of N"; the class
     * sits in {@code io.vertx.core.http} but is the one all Vert.x connection pools use), and one that
     * waited past the pool's connection timeout with a {@code VertxException} whose message is exactly
     * {@value #POOL_TIMEOUT_MESSAGE}.
     */
    public static boolean causes(Throwable failure) {
        Throwable cause = failure;
        for (int depth = 0; cause != null && depth < 16; depth++, cause = cause.getCause()) {
            if (cause instanceof ConnectionPoolTooBusyException) {
                return true;
            }
            if (cause instanceof VertxException && POOL_TIMEOUT_MESSAGE.equals(cause.getMessage())) {
                return true;
            }
        }
        return false;
    }
}
