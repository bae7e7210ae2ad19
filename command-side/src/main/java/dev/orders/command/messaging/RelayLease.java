package dev.orders.command.messaging;

import dev.orders.service.sql.PgPools;
import dev.orders.service.sql.PgSessions;
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
 *
 * <p>A relay host that vanishes without closing its connection (power loss, a cut network: no TCP reset)
 * would keep the lock until the server notices the connection is dead, by default after more than two
 * hours of TCP keepalive. The lease connection asks the server for keepalive probes after
 * {@value #KEEPALIVE_IDLE_SECONDS} s of silence, every {@value #KEEPALIVE_INTERVAL_SECONDS} s, giving up after
 * {@value #KEEPALIVE_COUNT} unanswered, and for {@code tcp_user_timeout} of {@value #USER_TIMEOUT_MILLIS} ms on
 * data it sent: the server ends the session, which releases the lock, at most about
 * {@value #FAILOVER_BOUND_SECONDS} s after the host went silent; a standby takes over within its next lease
 * retry. The connection never opens a transaction (its statements run one by one in autocommit), so the
 * idle-in-transaction timeout of the services' sessions cannot end it.
 */
final class RelayLease {

    private static final Logger LOG = LoggerFactory.getLogger(RelayLease.class);
    static final int KEEPALIVE_IDLE_SECONDS = 5;
    static final int KEEPALIVE_INTERVAL_SECONDS = 2;
    static final int KEEPALIVE_COUNT = 3;
    static final int USER_TIMEOUT_MILLIS = 10_000;
    /** Idle time plus every probe unanswered. */
    static final int FAILOVER_BOUND_SECONDS = KEEPALIVE_IDLE_SECONDS + KEEPALIVE_INTERVAL_SECONDS * KEEPALIVE_COUNT;

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

    /**
     * The lease connection's options: named {@code orders-relay-lease}, bounded, with the server's keepalive set,
     * and its statements planned once per session. The relay's read ({@link RelaySql#READ_SAFE}) runs hundreds of
     * times a second under load and three times on each quiet order's path; left to choose, PostgreSQL plans it
     * again at every call (its generic plan's estimate is worse than a custom plan's, though the plan is the same
     * walk of the {@code (tx, id)} index), and that planning (probing the index for the parameter's place) cost
     * several times the read itself. The generic plan walks that index on an empty store, a young one without
     * statistics and a big one alike ({@code RelayReadCostTest}); the session's other statements are single-row
     * functions and lock calls.
     */
    static PgConnectOptions options(String uri, PgSessions sessions) {
        return sessions.applyTo(PgPools.connectOptions(uri), "relay-lease")
                .addProperty("plan_cache_mode", "force_generic_plan")
                .addProperty("tcp_keepalives_idle", Integer.toString(KEEPALIVE_IDLE_SECONDS))
                .addProperty("tcp_keepalives_interval", Integer.toString(KEEPALIVE_INTERVAL_SECONDS))
                .addProperty("tcp_keepalives_count", Integer.toString(KEEPALIVE_COUNT))
                .addProperty("tcp_user_timeout", Integer.toString(USER_TIMEOUT_MILLIS));
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

    /** Closes the connection, which releases the lock; {@code onLost} follows if it was held. */
    Future<Void> drop() {
        PgConnection c = connection;
        return c == null ? Future.succeededFuture() : c.close();
    }
}
