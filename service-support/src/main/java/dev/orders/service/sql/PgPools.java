package dev.orders.service.sql;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

import java.util.concurrent.TimeUnit;

/**
 * Creates the reactive PostgreSQL pools of the services: sized, with a bounded wait queue, each session
 * named and bounded by {@link PgSessions}.
 */
public final class PgPools {

    /** How long a request waits in the queue for a connection before it fails (and answers 503). */
    public static final int CONNECTION_TIMEOUT_SECONDS = 5;

    private PgPools() {
    }

    /** A pool as {@link #create(Vertx, String, int, int, String, PgSessions)} with the default session bounds. */
    public static Pool create(Vertx vertx, String uri, int size, int maxWaitQueue, String name) {
        return create(vertx, uri, size, maxWaitQueue, name, PgSessions.DEFAULTS);
    }

    /**
     * A pool of at most {@code size} connections. Requests beyond {@code maxWaitQueue} waiting for a
     * connection fail at once (the HTTP edge answers 503) instead of queueing without end. Its sessions
     * are named {@code orders-<name>}.
     */
    public static Pool create(Vertx vertx, String uri, int size, int maxWaitQueue, String name, PgSessions sessions) {
        PgConnectOptions connect = sessions.applyTo(connectOptions(uri), name);
        PoolOptions pool = new PoolOptions().setMaxSize(size).setMaxWaitQueueSize(maxWaitQueue).setName(name)
                .setShared(false).setConnectionTimeout(CONNECTION_TIMEOUT_SECONDS).setConnectionTimeoutUnit(TimeUnit.SECONDS);
        return PgBuilder.pool().with(pool).connectingTo(connect).using(vertx).build();
    }

    /** Connection options from a {@code postgresql://} URI, with statement caching on. */
    public static PgConnectOptions connectOptions(String uri) {
        return PgConnectOptions.fromUri(uri).setCachePreparedStatements(true).setPipeliningLimit(256);
    }
}
