package dev.orders.command.messaging;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's lease: a dedicated connection holding a session advisory lock. The lock lives exactly as
 * long as the connection, so the relay does all of its reading and checkpointing on this connection:
 * a relay whose connection died can no longer store anything, even if it has not noticed yet. The same
 * connection listens for {@code events_appended}.
 */
final class RelayLease {

    private static final Logger LOG = LoggerFactory.getLogger(RelayLease.class);

    private final Vertx vertx;
    private final PgConnectOptions options;
    private final Runnable onLost;
    private final Runnable onNotification;
    private PgConnection connection;
    private boolean held;

    RelayLease(Vertx vertx, PgConnectOptions options, Runnable onLost, Runnable onNotification) {
        this.vertx = vertx;
        this.options = options;
        this.onLost = onLost;
        this.onNotification = onNotification;
    }

    /** Asks for the lease once; true when this relay holds it (and listens for appends). */
    Future<Boolean> tryAcquire() {
        if (held) {
            return Future.succeededFuture(true);
        }
        return connect().compose(c -> c.preparedQuery(RelaySql.TRY_LEASE).execute(Tuple.of(RelaySql.LEASE_KEY))
                .compose(rows -> {
                    if (!rows.iterator().next().getBoolean(0)) {
                        return Future.succeededFuture(false);
                    }
                    return c.query(RelaySql.LISTEN).execute().map(ignored -> {
                        held = c == connection;
                        return held;
                    });
                }));
    }

    private Future<PgConnection> connect() {
        if (connection != null) {
            return Future.succeededFuture(connection);
        }
        return PgConnection.connect(vertx, options).onSuccess(c -> {
            connection = c;
            c.notificationHandler(n -> {
                if (RelaySql.CHANNEL.equals(n.getChannel())) {
                    onNotification.run();
                }
            });
            c.exceptionHandler(e -> LOG.debug("relay lease connection: {}", e.toString()));
            c.closeHandler(ignored -> closed(c));
        });
    }

    private void closed(PgConnection c) {
        if (c != connection) {
            return;
        }
        connection = null;
        boolean wasHeld = held;
        held = false;
        if (wasHeld) {
            onLost.run();
        }
    }

    boolean held() {
        return held;
    }

    /** The lease's connection; only valid while {@link #held()}. */
    PgConnection connection() {
        return connection;
    }

    /** The PostgreSQL backend of the lease connection, -1 without one (for tests and logs). */
    int backendPid() {
        PgConnection c = connection;
        return c == null ? -1 : c.processId();
    }

    /** Closes the connection, which releases the lock; {@code onLost} follows if it was held. */
    Future<Void> drop() {
        PgConnection c = connection;
        return c == null ? Future.succeededFuture() : c.close();
    }
}
