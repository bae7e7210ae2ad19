package dev.orders.query.push;

import dev.orders.service.http.ContractRequests;
import dev.orders.service.security.OriginPolicy;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Live push of order changes to browsers: SSE ({@code GET /api/customers/{id}/orders/stream},
 * {@code GET /api/orders/{id}/stream}) and WebSocket ({@code GET /api/ws}).
 *
 * <h2>How every node sees every change</h2>
 * The projector writes each change of an order's view to the order-change log ({@code order_changes})
 * and, right after its commit, wakes this process's follower on the local event bus and sends
 * {@code pg_notify('order_changes', position)} for the other nodes (outside the transaction, so that it
 * does not serialise commits). Each query node runs ONE {@link ChangeFollower}: woken in-process, or by a
 * dedicated PostgreSQL connection that LISTENs on that channel, it reads the log after its last position,
 * in position order, then fans the rows out to its own subscribers by customer id and by order id. So
 * whichever node projected a change, every node delivers it, with no extra broker and no Kafka consumer
 * group per node; a wake-up is only that (the rows are read from the table), so a lost one costs latency,
 * not data: a slow poll and the catch-up read after a reconnect cover it. The fan-out's cost is one
 * indexed range read per batch per node.
 *
 * <h2>Guarantees</h2>
 * A stream subscribes to live changes first, then reads the state as of a position {@code P} in one
 * statement, sends it, and delivers only live changes after {@code P}; ids (log positions) are strictly
 * increasing per connection, and a start that ends below {@code P} (no order to show, above all) gives the
 * client {@code P} alone ({@link PushSink#position}), so that every client holds an id to resume with: one cut
 * before any change of its own would otherwise come back as a new client, sent the state only, and miss each
 * change made meanwhile. {@code Last-Event-ID} (or {@code ?lastEventId=}, or the WebSocket's
 * {@code lastEventId}) replays exactly the changes after it, if it is not older than the oldest retained
 * position of the log and the replay is not longer than {@link PushSettings#maxReplay()}; otherwise
 * {@code reset} and the full current state. The log keeps a window ({@link PushSettings.Retention}, pruned
 * from below in the background by {@link ChangeRetention}); the state comes from each order's newest
 * change, kept apart from the window, so it costs one row per watched order however long the history.
 * This rests on the log's contract that positions become visible in increasing order.
 *
 * <h2>Who sees what</h2>
 * Every stream and every WebSocket subscription is authorized against its caller (the token of the
 * request, or of the WebSocket's handshake) before anything is read or sent, resumes included: an
 * operator may watch anything, a customer only itself and its own orders. A stream never fails because
 * the read model lags: what a caller may see is known before the projection has it, so the stream is
 * accepted at once and the state follows when projected. A customer stream is checked against the
 * token alone: its own customer is accepted (even one the read model has not seen yet), another's gets
 * the 404 of an unknown id before any read. An order stream cannot be checked that way (a customer may
 * watch the order it has just placed, before it is projected), so it is always accepted, and a
 * customer's is restricted to its own orders in every read and every pushed change: an order of another
 * customer, or one that never comes, shows nothing at all, exactly alike, so neither leaks.
 * A connection ends when its caller's token expires: an SSE stream with {@code event: expired}, a
 * WebSocket with close code 4401; the client signs in again and resumes with its last id.
 *
 * <h2>Its parts</h2>
 * {@link SseRoutes} and {@link WebSocketRoutes} take the connections ({@link PushConnections} counts them),
 * {@link SubscriptionProtocol} starts each subscription, {@link Subscriptions} indexes the open ones and
 * fans changes out to them, {@link PushRequests} reads ids; this class puts them together with the
 * node's {@link ChangeFollower} and {@link ChangeRetention}.
 */
public final class PushHub {

    private final PushMetrics metrics = new PushMetrics();
    private final Subscriptions subscriptions;
    private final PushConnections connections;
    private final SseRoutes sse;
    private final WebSocketRoutes webSockets;
    private final List<Consumer<List<ChangeRow>>> observers = new CopyOnWriteArrayList<>();
    private final ChangeFollower follower;
    private final Context followerContext;
    private final ChangeRetention retention;

    private PushHub(Vertx vertx, Pool pool, PgConnectOptions listenOptions, PushSettings settings) {
        PushStore store = new PushStore(pool);
        OriginPolicy origins = new OriginPolicy(settings.allowedOrigins());
        this.subscriptions = new Subscriptions(settings);
        this.connections = new PushConnections(settings, metrics, origins);
        SubscriptionProtocol protocol = new SubscriptionProtocol(vertx, settings, store, metrics, subscriptions);
        this.sse = new SseRoutes(vertx, settings, connections, protocol);
        this.webSockets = new WebSocketRoutes(vertx, connections, protocol);
        this.followerContext = vertx.getOrCreateContext();
        this.retention = new ChangeRetention(vertx, store, settings.retention());
        this.follower = new ChangeFollower(vertx, followerContext, store, listenOptions, settings, metrics,
                this::fanOut);
    }

    /** Starts the node's follower; succeeds once it LISTENs. */
    public static Future<PushHub> start(Vertx vertx, Pool pool, PgConnectOptions listenOptions, PushSettings settings) {
        PushHub hub = new PushHub(vertx, pool, listenOptions, settings);
        Promise<Void> started = Promise.promise();
        hub.followerContext.runOnContext(ignored -> {
            hub.retention.start();
            hub.follower.start().onComplete(started);
        });
        return started.future().map(hub);
    }

    public PushMetrics metrics() {
        return metrics;
    }

    /** Also hands every batch of changes this node reads to {@code observer}, on the follower's context. */
    public void observe(Consumer<List<ChangeRow>> observer) {
        observers.add(observer);
    }

    /** Mounts the SSE streams, their parameters checked against {@code contract}, the served query document, and the WebSocket handshake. */
    public void mount(Router router, ContractRequests contract) {
        sse.mount(router, contract);
        webSockets.mount(router, contract);
    }

    /**
     * The first step of a graceful stop: new streams are refused ({@code 503}, another node serves them)
     * and every open one is told to reconnect elsewhere and ended (SSE {@code event: reconnect}, WebSocket
     * close code 1012, also a socket that has not subscribed yet); the clients resume there with their last
     * id and miss nothing.
     *
     * @return done when every stream has been told
     */
    public Future<Void> drain() {
        connections.drain();
        List<Future<Void>> told = new ArrayList<>();
        told.add(webSockets.moveOn());
        for (Subscription subscription : subscriptions.all()) {
            Promise<Void> done = Promise.promise();
            subscription.context.runOnContext(ignored -> {
                subscription.moveOn();
                done.complete();
            });
            told.add(done.future());
        }
        return Future.join(told).mapEmpty();
    }

    /**
     * The order-change log was lost: every open stream is ended (its ids belong to the lost log) and new
     * ones are refused ({@code 503} with {@code Retry-After}) until {@link #resume()}. The clients connect
     * again with their last id, which the recreated log does not hold: they get {@code reset} and the
     * current state, then every later change.
     */
    public void suspend() {
        connections.suspend();
        for (Subscription subscription : subscriptions.all()) {
            subscription.context.runOnContext(ignored -> subscription.close());
        }
    }

    /** The log is back and refilled: the follower goes on from its end, and streams are accepted again. */
    public Future<Void> resume() {
        Promise<Void> caughtUp = Promise.promise();
        followerContext.runOnContext(ignored -> follower.skipToEnd().onComplete(caughtUp));
        return caughtUp.future().onSuccess(v -> connections.resume());
    }

    /** The highest change-log position this node's follower has read. */
    public long followerPosition() {
        return follower.lastSeen();
    }

    public Future<Void> close() {
        Promise<Void> stopped = Promise.promise();
        followerContext.runOnContext(ignored -> {
            retention.close();
            follower.close().onComplete(stopped);
        });
        for (Subscription subscription : subscriptions.all()) {
            subscription.context.runOnContext(ignored -> subscription.close());
        }
        return stopped.future();
    }

    /** On the follower's context: the observers first, then each subscriber its rows. */
    private void fanOut(List<ChangeRow> changes) {
        observers.forEach(observer -> observer.accept(changes));
        subscriptions.fanOut(changes);
    }
}
