package dev.orders.query.push;

import dev.orders.service.http.ProblemException;
import dev.orders.service.http.Problems;
import dev.orders.service.security.Caller;
import dev.orders.service.security.OriginPolicy;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

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
 * increasing per connection. {@code Last-Event-ID} (or {@code ?lastEventId=}, or the WebSocket's
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
 */
public final class PushHub {

    private final Vertx vertx;
    private final PushSettings settings;
    private final PushStore store;
    private final PushMetrics metrics = new PushMetrics();
    private final OriginPolicy origins;
    private final Map<UUID, Set<Subscription>> byCustomer = new ConcurrentHashMap<>();
    private final Map<UUID, Set<Subscription>> byOrder = new ConcurrentHashMap<>();
    private final Map<UUID, AtomicInteger> perCustomer = new ConcurrentHashMap<>();
    private final Set<Subscription> all = ConcurrentHashMap.newKeySet();
    private final List<Consumer<List<ChangeRow>>> observers = new CopyOnWriteArrayList<>();
    /** Set by {@link #drain()}: no new stream. */
    private volatile boolean draining;
    /** Set by {@link #suspend()} while the order-change log is lost and being refilled: no new stream. */
    private volatile boolean suspended;
    private final AtomicInteger connections = new AtomicInteger();
    private final ChangeFollower follower;
    private final Context followerContext;
    private final ChangeRetention retention;

    private PushHub(Vertx vertx, Pool pool, PgConnectOptions listenOptions, PushSettings settings) {
        this.vertx = vertx;
        this.settings = settings;
        this.store = new PushStore(pool);
        this.origins = new OriginPolicy(settings.allowedOrigins());
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

    public void mount(Router router) {
        router.get("/api/customers/:id/orders/stream").handler(ctx -> stream(ctx, Watch.Customer::new));
        router.get("/api/orders/:id/stream").handler(ctx -> stream(ctx, Watch.Order::new));
        router.get("/api/ws").handler(this::webSocket);
    }

    /**
     * The first step of a graceful stop: new streams are refused ({@code 503}, another node serves them)
     * and every open one is told to reconnect elsewhere and ended (SSE {@code event: reconnect}, WebSocket
     * close code 1012); the clients resume there with their last id and miss nothing.
     *
     * @return done when every stream has been told
     */
    public Future<Void> drain() {
        draining = true;
        List<Future<Void>> told = new ArrayList<>();
        for (Subscription subscription : List.copyOf(all)) {
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
        suspended = true;
        for (Subscription subscription : List.copyOf(all)) {
            subscription.context.runOnContext(ignored -> subscription.close());
        }
    }

    /** The log is back and refilled: the follower goes on from its end, and streams are accepted again. */
    public Future<Void> resume() {
        Promise<Void> caughtUp = Promise.promise();
        followerContext.runOnContext(ignored -> follower.skipToEnd().onComplete(caughtUp));
        return caughtUp.future().onSuccess(v -> suspended = false);
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
        for (Subscription subscription : List.copyOf(all)) {
            subscription.context.runOnContext(ignored -> subscription.close());
        }
        return stopped.future();
    }

    // ---- SSE ---------------------------------------------------------------------------------------

    private void stream(RoutingContext ctx, Function<UUID, Watch> watchOf) {
        HttpServerRequest request = ctx.request();
        Caller caller = Caller.of(ctx);
        Watch watch;
        Long lastEventId;
        try {
            if (!origins.allows(request)) {
                throw new ProblemException(403, "Forbidden", "streams are not served to the origin " + request.getHeader("Origin"));
            }
            watch = watchOf.apply(uuid(ctx.pathParam("id")));
            String header = request.getHeader("Last-Event-ID");
            lastEventId = parseEventId(header != null && !header.isBlank() ? header : request.getParam("lastEventId"));
            acquireConnection();
        } catch (ProblemException problem) {
            metrics.rejected();
            Problems.send(ctx, problem);
            return;
        }
        Subscription[] opened = new Subscription[1];
        long expiry = vertx.setTimer(untilExpiry(caller), id -> expired(ctx, opened[0]));
        open(caller, watch, lastEventId, () -> {
                    vertx.cancelTimer(expiry);
                    releaseConnection();
                },
                subscription -> {
                    opened[0] = subscription;
                    ctx.response().closeHandler(ignored -> subscription.closed());
                },
                () -> new SseSink(SseWriter.start(ctx.response(), settings.retryHint().toMillis())))
                .onFailure(error -> fail(ctx, error));
    }

    /**
     * The caller's token expired while its stream was open: a started stream gets {@code event: expired}
     * and ends; one still reading its state (nothing sent yet) is answered 401.
     */
    private void expired(RoutingContext ctx, Subscription subscription) {
        metrics.expired();
        if (subscription != null) {
            subscription.expire();
        }
        Problems.send(ctx, ProblemException.unauthorized("the token expired; sign in again, then resume"));
    }

    /** Milliseconds until the caller's token expires; at least 1, so that an expired one ends at once. */
    static long untilExpiry(Caller caller) {
        return Math.max(1, Duration.between(Instant.now(), caller.expiresAt()).toMillis());
    }

    private static void fail(RoutingContext ctx, Throwable error) {
        if (ctx.response().ended() || ctx.response().closed()) {
            return;
        }
        if (error instanceof ProblemException problem) {
            Problems.send(ctx, problem);
        } else if (!ctx.response().headWritten() && !ctx.response().closed()) {
            ctx.fail(error);
        }
    }

    // ---- WebSocket ---------------------------------------------------------------------------------

    private void webSocket(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        Caller caller = Caller.of(ctx);
        try {
            if (!origins.allows(request)) {
                throw new ProblemException(403, "Forbidden", "WebSocket handshakes from the origin "
                        + request.getHeader("Origin") + " are refused");
            }
            if (!"websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
                throw ProblemException.badRequest("/api/ws takes a WebSocket handshake ('Upgrade: websocket') only");
            }
            acquireConnection();
        } catch (ProblemException problem) {
            metrics.rejected();
            Problems.send(ctx, problem);
            return;
        }
        request.toWebSocket().onComplete(upgraded -> {
            if (upgraded.failed()) {
                releaseConnection();
                return;
            }
            new WebSocketSession(this, vertx, upgraded.result(), caller, this::releaseConnection);
        });
    }

    /** Opens a subscription for a WebSocket; the socket is already counted as a connection. */
    Future<Subscription> subscribe(Caller caller, Watch watch, Long lastEventId, Consumer<Subscription> bindClose,
                                   Supplier<PushSink> sink) {
        return open(caller, watch, lastEventId, () -> { }, bindClose, sink);
    }

    // ---- the subscription protocol -------------------------------------------------------------------

    /**
     * Authorizes, then subscribes. {@code release} runs exactly once, when the subscription ends or is
     * refused.
     */
    private Future<Subscription> open(Caller caller, Watch watch, Long lastEventId, Runnable release,
                                      Consumer<Subscription> bindClose, Supplier<PushSink> sinkFactory) {
        if (watch instanceof Watch.Customer && !caller.maySee(watch.id())) {
            release.run();
            return Future.failedFuture(unknown(watch));
        }
        UUID owner = caller.operator() ? null : caller.customerId();
        Context context = vertx.getOrCreateContext();
        Subscription[] holder = new Subscription[1];
        Subscription subscription = new Subscription(watch, owner, context, vertx, settings, metrics,
                () -> unregister(holder[0], release));
        holder[0] = subscription;
        register(subscription);
        bindClose.accept(subscription);
        return store.snapshot(watch, owner)
                .compose(snapshot -> {
                    countCustomer(subscription, countedCustomer(owner, watch, snapshot));
                    if (lastEventId == null) {
                        return Future.succeededFuture(new Start(false, snapshot.latest(), snapshot.asOf()));
                    }
                    Start reset = new Start(true, snapshot.latest(), snapshot.asOf());
                    if (lastEventId > snapshot.asOf() || lastEventId < snapshot.minRetained() && snapshot.asOf() > 0) {
                        return Future.succeededFuture(reset);
                    }
                    // The log may have been pruned past the id since the snapshot: the replay says so too.
                    return store.replay(watch, owner, lastEventId, snapshot.asOf(), settings.maxReplay() + 1)
                            .map(replay -> replay.changes().size() > settings.maxReplay()
                                    || lastEventId < replay.minRetained() ? reset
                                    : new Start(false, replay.changes(), snapshot.asOf()));
                })
                .map(start -> {
                    if (subscription.isClosed()) {
                        return subscription;
                    }
                    subscription.attach(sinkFactory.get());
                    if (start.reset()) {
                        subscription.reset();
                    }
                    subscription.send(start.changes());
                    subscription.goLive(start.asOf());
                    return subscription;
                })
                .onFailure(ignored -> subscription.closed());
    }

    /**
     * Whose stream cap a subscription counts against: the customer's own, for a customer; for an operator,
     * the watched customer (of an order, once it is known).
     */
    private static UUID countedCustomer(UUID owner, Watch watch, PushStore.Snapshot snapshot) {
        if (owner != null) {
            return owner;
        }
        return switch (watch) {
            case Watch.Customer customer -> customer.id();
            case Watch.Order ignored -> snapshot.latest().isEmpty() ? null : snapshot.latest().get(0).customerId();
        };
    }

    /** The 404 of an unknown id: also the answer for another customer's, so that the two look alike. */
    private static ProblemException unknown(Watch watch) {
        return ProblemException.notFound("no such " + (watch instanceof Watch.Order ? "order: " : "customer: ") + watch.id());
    }

    /** What a new subscription sends before it goes live. */
    private record Start(boolean reset, List<ChangeRow> changes, long asOf) {
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

    private void releaseConnection() {
        connections.decrementAndGet();
        metrics.connectionClosed();
    }

    private void countCustomer(Subscription subscription, UUID customerId) {
        if (customerId == null) {
            return;
        }
        AtomicInteger count = perCustomer.computeIfAbsent(customerId, id -> new AtomicInteger());
        if (count.incrementAndGet() > settings.maxConnectionsPerCustomer()) {
            count.decrementAndGet();
            throw new ProblemException(429, "Too many requests", "customer " + customerId + " has "
                    + settings.maxConnectionsPerCustomer() + " live streams open already; close one",
                    Map.of("Retry-After", "5"));
        }
        subscription.customerId(customerId);
    }

    private void register(Subscription subscription) {
        all.add(subscription);
        index(subscription.watch).compute(subscription.watch.id(), (id, set) -> {
            Set<Subscription> subscribers = set == null ? ConcurrentHashMap.newKeySet() : set;
            subscribers.add(subscription);
            return subscribers;
        });
    }

    private void unregister(Subscription subscription, Runnable release) {
        all.remove(subscription);
        index(subscription.watch).computeIfPresent(subscription.watch.id(), (id, set) -> {
            set.remove(subscription);
            return set.isEmpty() ? null : set;
        });
        UUID customerId = subscription.customerId();
        if (customerId != null) {
            perCustomer.computeIfPresent(customerId, (id, count) -> count.decrementAndGet() <= 0 ? null : count);
        }
        release.run();
    }

    private Map<UUID, Set<Subscription>> index(Watch watch) {
        return switch (watch) {
            case Watch.Customer ignored -> byCustomer;
            case Watch.Order ignored -> byOrder;
        };
    }

    /** On the follower's context: hands each subscriber its rows, in order, on its own context. */
    private void fanOut(List<ChangeRow> changes) {
        observers.forEach(observer -> observer.accept(changes));
        Map<Subscription, List<ChangeRow>> bySubscriber = new LinkedHashMap<>();
        for (ChangeRow change : changes) {
            for (Subscription subscription : byOrder.getOrDefault(change.orderId(), Set.of())) {
                bySubscriber.computeIfAbsent(subscription, s -> new ArrayList<>()).add(change);
            }
            for (Subscription subscription : byCustomer.getOrDefault(change.customerId(), Set.of())) {
                bySubscriber.computeIfAbsent(subscription, s -> new ArrayList<>()).add(change);
            }
        }
        bySubscriber.forEach((subscription, rows) -> subscription.context.runOnContext(ignored -> subscription.offer(rows)));
    }

    // ---- parsing ---------------------------------------------------------------------------------------

    static UUID uuid(String text) {
        try {
            UUID id = UUID.fromString(text);
            if (id.toString().equalsIgnoreCase(text)) {
                return id;
            }
        } catch (RuntimeException ignored) {
            // answered below
        }
        throw ProblemException.badRequest("'" + text + "' is not a UUID");
    }

    /** A resume id: absent (null), or a non-negative decimal position; anything else is a 400. */
    static Long parseEventId(String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        if (text.length() > 19 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw ProblemException.badRequest("Last-Event-ID must be a position (a non-negative integer), was '"
                    + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "'");
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("Last-Event-ID is out of range");
        }
    }
}
