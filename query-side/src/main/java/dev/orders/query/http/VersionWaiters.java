package dev.orders.query.http;

import dev.orders.query.store.ProjectionStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Requests waiting for an order's projection to reach a version ({@code ?minVersion}). They are woken
 * by {@link ProjectionStore#ORDER_CHANGED}, not by polling: this process's projector signals right after
 * its commit, and the push hub's change follower for every change in the log, whichever node projected it
 * (it hears the other nodes' notifications). Each wait is bounded by a timer.
 */
final class VersionWaiters {

    /** Completed on the context of the request that waits, whichever thread signals. */
    private record Waiter(long version, Promise<Boolean> promise, Context context) {
        void complete(boolean reached) {
            context.runOnContext(ignored -> promise.tryComplete(reached));
        }
    }

    private final Vertx vertx;
    private final Map<UUID, Set<Waiter>> waiting = new ConcurrentHashMap<>();
    private final MessageConsumer<JsonObject> consumer;

    VersionWaiters(Vertx vertx) {
        this.vertx = vertx;
        this.consumer = vertx.eventBus().<JsonObject>localConsumer(ProjectionStore.ORDER_CHANGED,
                message -> changed(UUID.fromString(message.body().getString("orderId")),
                        message.body().getLong("version")));
    }

    /** Registers first, so that a signal between registering and the caller's check is not lost. */
    Registration register(UUID orderId, long version, long timeoutMs) {
        Promise<Boolean> promise = Promise.promise();
        Waiter waiter = new Waiter(version, promise, vertx.getOrCreateContext());
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
    static final class Registration {
        private final Promise<Boolean> promise;

        private Registration(Promise<Boolean> promise) {
            this.promise = promise;
        }

        Future<Boolean> reached() {
            return promise.future();
        }

        void cancel() {
            promise.tryComplete(true);
        }
    }

    private void changed(UUID orderId, long version) {
        Set<Waiter> set = waiting.get(orderId);
        if (set != null) {
            for (Waiter waiter : set) {
                if (version >= waiter.version()) {
                    waiter.complete(true);
                }
            }
        }
    }

    Future<Void> close() {
        return consumer.unregister();
    }
}
