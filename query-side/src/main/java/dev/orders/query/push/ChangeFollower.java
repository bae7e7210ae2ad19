package dev.orders.query.push;

import dev.orders.query.store.ProjectionStore;
import dev.orders.query.store.VersionWaiters;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Follows the order-change log for one node. It is woken three ways: in-process, right after a
 * projector of this process committed changes ({@link ProjectionStore#CHANGES_COMMITTED} on the local
 * event bus), which carries the committed rows, pushed as they are when they follow the last row read
 * (no database round trip at all); by other nodes' projectors, through a dedicated connection
 * that LISTENs on {@code order_changes}; and by a slow poll, the fallback for a notification lost while
 * that connection was down. Each wake-up triggers a read of every row after the last position read, in position order, handed to the
 * fan-out. Each order's newest version read from the log is also handed to {@link VersionWaiters}, so
 * that requests waiting for it ({@code ?minVersion}) wake on this node whichever node projected it (the rows of
 * this process's commits, pushed as they came, were handed over by the projector already). A lost connection is reopened with a growing backoff, and the read after it catches up
 * from the last position, so nothing committed meanwhile is missed. Reads never overlap: a trigger
 * during a read asks for one more read after it.
 */
final class ChangeFollower {

    static final String CHANNEL = "order_changes";
    private static final Logger LOG = LoggerFactory.getLogger(ChangeFollower.class);
    private static final int BATCH = 500;
    private static final long MIN_BACKOFF_MS = 100;
    private static final long MAX_BACKOFF_MS = 5_000;

    private final Vertx vertx;
    private final Context context;
    private final PushStore store;
    private final PgConnectOptions listenOptions;
    private final PushSettings settings;
    private final PushMetrics metrics;
    private final Consumer<List<ChangeRow>> fanOut;
    private final VersionWaiters waiters;

    /** Written on the context only; read elsewhere too (see {@link PushHub#followerPosition()}). */
    private volatile long lastSeen;
    private boolean reading;
    private boolean readAgain;
    private boolean closed;
    private long backoffMs = MIN_BACKOFF_MS;
    private long pollTimer = -1;
    private PgConnection listener;
    private MessageConsumer<JsonObject> localCommits;

    ChangeFollower(Vertx vertx, Context context, PushStore store, PgConnectOptions listenOptions,
                   PushSettings settings, PushMetrics metrics, Consumer<List<ChangeRow>> fanOut) {
        this.vertx = vertx;
        this.context = context;
        this.store = store;
        this.listenOptions = listenOptions;
        this.settings = settings;
        this.metrics = metrics;
        this.fanOut = fanOut;
        this.waiters = VersionWaiters.of(vertx);
    }

    /** Starts from the log's current end; succeeds once the LISTEN is in place. Call on the context. */
    Future<Void> start() {
        return store.maxPosition()
                .compose(position -> {
                    lastSeen = position;
                    metrics.followerAt(position);
                    pollTimer = vertx.setPeriodic(settings.pollInterval().toMillis(), id -> requestRead());
                    localCommits = vertx.eventBus().localConsumer(ProjectionStore.CHANGES_COMMITTED,
                            message -> committed(message.body()));
                    return listen();
                });
    }

    Future<Void> close() {
        closed = true;
        if (pollTimer >= 0) {
            vertx.cancelTimer(pollTimer);
        }
        if (localCommits != null) {
            localCommits.unregister();
        }
        PgConnection connection = listener;
        listener = null;
        return connection == null ? Future.succeededFuture() : connection.close();
    }

    long lastSeen() {
        return lastSeen;
    }

    /**
     * Goes on from the log's current end without reading what lies before it: after a lost log was
     * recreated and refilled, while no stream was open to be sent those changes. Call on the context.
     */
    Future<Void> skipToEnd() {
        return store.maxPosition().map(position -> {
            lastSeen = Math.max(lastSeen, position);
            metrics.followerAt(lastSeen);
            return null;
        });
    }

    private Future<Void> listen() {
        return PgConnection.connect(vertx, listenOptions).compose(connection -> {
            connection.notificationHandler(notification -> {
                if (CHANNEL.equals(notification.getChannel()) && isNew(notification.getPayload())) {
                    requestRead();
                }
            });
            connection.exceptionHandler(error -> LOG.warn("change follower connection failed", error));
            connection.closeHandler(ignored -> context.runOnContext(v -> lost(connection)));
            return connection.query("LISTEN " + CHANNEL).execute().map(ignored -> {
                if (closed) {
                    connection.close();
                } else {
                    listener = connection;
                    backoffMs = MIN_BACKOFF_MS;
                    requestRead();
                }
                return (Void) null;
            }).onFailure(ignored -> connection.close());
        });
    }

    private boolean isNew(String payload) {
        try {
            return Long.parseLong(payload.trim()) > lastSeen;
        } catch (RuntimeException e) {
            return true;
        }
    }

    private void lost(PgConnection connection) {
        if (closed || listener != connection) {
            return;
        }
        listener = null;
        LOG.warn("change follower lost its LISTEN connection; reconnecting in {} ms", backoffMs);
        reconnectLater();
    }

    private void reconnectLater() {
        long delay = backoffMs;
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
        vertx.setTimer(delay, id -> {
            if (!closed) {
                listen().onFailure(error -> {
                    LOG.warn("change follower could not LISTEN again; retrying", error);
                    reconnectLater();
                });
            }
        });
    }

    /**
     * This process's projector committed changes: when they follow the last row read, they are exactly what a
     * read would answer next (positions are taken under a lock held until commit), so they go out as they are,
     * with no round trip; otherwise (a read under way, another node's rows in between) the log is read.
     */
    private void committed(JsonObject commit) {
        if (commit == null || commit.getLong(ProjectionStore.LAST, Long.MAX_VALUE) <= lastSeen) {
            return;
        }
        JsonArray changes = commit.getJsonArray(ProjectionStore.CHANGES, new JsonArray());
        if (reading || closed || changes.isEmpty() || changes.getJsonObject(0).getLong("position") != lastSeen + 1) {
            requestRead();
            return;
        }
        List<ChangeRow> rows = new ArrayList<>(changes.size());
        for (int i = 0; i < changes.size(); i++) {
            rows.add(ChangeRow.fromJson(changes.getJsonObject(i)));
        }
        deliver(rows);
    }

    /** Rows that follow the last one read, in position order: handed to the fan-out. */
    private void deliver(List<ChangeRow> rows) {
        lastSeen = rows.getLast().position();
        metrics.followerAt(lastSeen);
        try {
            fanOut.accept(rows);
        } catch (RuntimeException e) {
            LOG.error("push fan-out failed", e);
        }
    }

    /** Rows read from the log, maybe projected by another node: their versions go to the requests waiting here. */
    private void announceVersions(List<ChangeRow> rows) {
        Map<UUID, Integer> newest = new HashMap<>();
        rows.forEach(row -> newest.merge(row.orderId(), row.version(), Math::max));
        newest.forEach(waiters::reached);
    }

    private void requestRead() {
        if (closed) {
            return;
        }
        if (reading) {
            readAgain = true;
            return;
        }
        reading = true;
        readAgain = false;
        store.changesAfter(lastSeen, BATCH).onComplete(done -> {
            reading = false;
            if (done.failed()) {
                LOG.warn("change follower could not read the change log; the poll retries", done.cause());
                return;
            }
            List<ChangeRow> rows = done.result();
            if (!rows.isEmpty()) {
                deliver(rows);
                announceVersions(rows);
            }
            if (rows.size() == BATCH || readAgain) {
                requestRead();
            }
        });
    }
}
