package dev.orders.query.push;

import dev.orders.service.http.ProblemException;
import dev.orders.service.security.Caller;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * How a subscription starts, for SSE and WebSocket alike: authorized against its caller, registered for
 * live changes first, then the state as of a position {@code P} (or the replay after the client's resume
 * id, or {@code reset} and the state when that id is too old or the replay too long), then live changes
 * after {@code P}.
 */
final class SubscriptionProtocol {

    private final Vertx vertx;
    private final PushSettings settings;
    private final PushStore store;
    private final PushMetrics metrics;
    private final Subscriptions subscriptions;

    SubscriptionProtocol(Vertx vertx, PushSettings settings, PushStore store, PushMetrics metrics,
                         Subscriptions subscriptions) {
        this.vertx = vertx;
        this.settings = settings;
        this.store = store;
        this.metrics = metrics;
        this.subscriptions = subscriptions;
    }

    PushMetrics metrics() {
        return metrics;
    }

    /** Opens a subscription for a WebSocket; the socket is already counted as a connection. */
    Future<Subscription> subscribe(Caller caller, Watch watch, Long lastEventId, Consumer<Subscription> bindClose,
                                   Supplier<PushSink> sink) {
        return open(caller, watch, lastEventId, () -> { }, bindClose, sink);
    }

    /**
     * Authorizes, then subscribes. {@code release} runs exactly once, when the subscription ends or is
     * refused.
     */
    Future<Subscription> open(Caller caller, Watch watch, Long lastEventId, Runnable release,
                              Consumer<Subscription> bindClose, Supplier<PushSink> sinkFactory) {
        if (watch instanceof Watch.Customer && !caller.maySee(watch.id())) {
            release.run();
            return Future.failedFuture(unknown(watch));
        }
        UUID owner = caller.operator() ? null : caller.customerId();
        Context context = vertx.getOrCreateContext();
        Subscription[] holder = new Subscription[1];
        Subscription subscription = new Subscription(watch, owner, context, vertx, settings, metrics,
                () -> subscriptions.unregister(holder[0], release));
        holder[0] = subscription;
        subscriptions.register(subscription);
        bindClose.accept(subscription);
        return store.snapshot(watch, owner)
                .compose(snapshot -> {
                    subscriptions.countCustomer(subscription, countedCustomer(owner, watch, snapshot));
                    if (lastEventId == null) {
                        return Future.succeededFuture(new Start(false, snapshot.latest(), snapshot.asOf(), -1));
                    }
                    Start reset = new Start(true, snapshot.latest(), snapshot.asOf(), -1);
                    if (lastEventId > snapshot.asOf() || missedPruned(lastEventId, snapshot.minRetained())) {
                        return Future.succeededFuture(reset);
                    }
                    // The log may have been pruned past the id since the snapshot: the replay says so too.
                    return store.replay(watch, owner, lastEventId, snapshot.asOf(), settings.maxReplay() + 1)
                            .map(replay -> replay.changes().size() > settings.maxReplay()
                                    || missedPruned(lastEventId, replay.minRetained()) ? reset
                                    : new Start(false, replay.changes(), snapshot.asOf(), lastEventId));
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
                    subscription.goLive(start.asOf(), start.resumedFrom());
                    return subscription;
                })
                .onFailure(ignored -> subscription.closed());
    }

    /**
     * Whether changes after {@code lastEventId} may have been pruned: the log's oldest retained position is
     * not the next one after it. An id just below the oldest (0 for a log that starts at 1, as a stream of an
     * empty log hands out) has missed nothing.
     */
    private static boolean missedPruned(long lastEventId, long minRetained) {
        return lastEventId + 1 < minRetained;
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

    /** What a new subscription sends before it goes live, and the id its client holds already (-1: none). */
    private record Start(boolean reset, List<ChangeRow> changes, long asOf, long resumedFrom) {
    }
}
