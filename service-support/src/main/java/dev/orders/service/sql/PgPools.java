package dev.orders.service.sql;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

/** Creates the reactive PostgreSQL pools of the services: sized, with a bounded wait queue. */
public final class PgPools {

    private PgPools() {
    }

    /**
     * A pool of at most {@code size} connections. Requests beyond {@code maxWaitQueue} waiting for a
     * connection fail at once (the HTTP edge answers 503) instead of queueing without end.
     */
    public static Pool create(Vertx vertx, String uri, int size, int maxWaitQueue, String name) {
        PgConnectOptions connect = connectOptions(uri);
        PoolOptions pool = new PoolOptions().setMaxSize(size).setMaxWaitQueueSize(maxWaitQueue).setName(name)
                .setShared(false);
        return PgBuilder.pool().with(pool).connectingTo(connect).using(vertx).build();
    }

    /** Connection options from a {@code postgresql://} URI, with statement caching on. */
    public static PgConnectOptions connectOptions(String uri) {
        return PgConnectOptions.fromUri(uri).setCachePreparedStatements(true).setPipeliningLimit(256);
    }
}
