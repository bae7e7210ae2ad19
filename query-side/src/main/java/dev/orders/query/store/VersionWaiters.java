package dev.orders.query.store;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Requests waiting for an order's projection to reach a version ({@code ?minVersion}), one registry per
 * Vert.x instance. They are woken by {@link #reached}, not by polling: this process's projector calls it
 * right after its commit ({@link ProjectionStore}), and the push hub's change follower for every change it
 * reads from the log, whichever node projected it (it hears the other nodes' notifications). The caller's
 * thread looks the order up: a change nobody waits for costs that look-up and no hand-off to another thread;
 * a waiter is completed once, on the context of its request. Each wait is bounded by a timer.
 */
public final class VersionWaiters implements Shareable {

    private static final String KEY = "query.version-waiters";

    /** Completed once, on the context of the request that waits, whichever thread signals. */
    private record Waiter(long version, Promise<Boolean> promise, Context context, AtomicBoolean done) {
        void complete(boolean reached) {
            if (done.compareAndSet(false, true)) {
                context.runOnContext(ignored -> promise.tryComplete(reached));
            }
        }
    }

    private final Vertx vertx;
    private final Map<UUID, Set<Waiter>> waiting = new ConcurrentHashMap<>();

    private VersionWaiters(Vertx vertx) {
        this.vertx = vertx;
    }

    /** The registry of this Vert.x instance. */
    public static VersionWaiters of(Vertx vertx) {
        return vertx.sharedData().<String, VersionWaiters>getLocalMap(KEY)
                .computeIfAbsent(KEY, key -> new VersionWaiters(vertx));
    }

    /** Registers first, so that a signal between registering and the caller's check is not lost. */
    public Registration register(UUID orderId, long version, long timeoutMs) {
        Promise<Boolean> promise = Promise.promise();
        Waiter waiter = new Waiter(version, promise, vertx.getOrCreateContext(), new AtomicBoolean());
        waiting.computeIfAbsent(orderId, id -> ConcurrentHashMap.newKeySet()).add(waiter);
        long timer = vertx.setTimer(timeoutMs, id -> waiter.complete(false));
        promise.future().onComplete(done -> {
            vertx.cancelTimer(timer);
            waiting.computeIfPresent(orderId, (id, set) -> {
                set.remove(waiter);
                return set.isEmpty() ? null : set;
            });
        });
        return new Registration(promise);
    }

    /** A pending wait: {@link #reached()} is true once signalled, false after the timeout. */
    public static final class Registration {
        private final Promise<Boolean> promise;

        private Registration(Promise<Boolean> promise) {
            this.promise = promise;
        }

        public Future<Boolean> reached() {
            return promise.future();
        }

        public void cancel() {
            promise.tryComplete(true);
        }
    }

    /** The view of {@code orderId} reached {@code version} and is committed; safe to call from any thread. */
    public void reached(UUID orderId, long version) {
        Set<Waiter> set = waiting.get(orderId);
        if (set != null) {
            for (Waiter waiter : set) {
                if (version >= waiter.version()) {
                    waiter.complete(true);
                }
            }
        }
    }
}
