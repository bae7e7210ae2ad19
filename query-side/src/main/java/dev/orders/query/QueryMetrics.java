package dev.orders.query;

import dev.orders.query.push.PushMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The query side's meters: projection lag (records and seconds behind; per partition, the {@code ConsumerLag}'s own), dead letters
 * waiting, and the push hub's connections, pushes, coalesced and dropped changes and latency. Values
 * that need I/O are read again every {@code metrics.refresh-interval}, off the request path.
 */
final class QueryMetrics {

    private final Vertx vertx;
    private final Supplier<Future<Long>> pendingDeadLetters;
    private final Supplier<Future<JsonObject>> lag;
    private final AtomicLong recordsBehind = new AtomicLong();
    private final AtomicLong secondsBehind = new AtomicLong();
    private final AtomicLong lastPosition = new AtomicLong();
    private final AtomicLong deadLetters = new AtomicLong();
    private final long timer;

    QueryMetrics(Vertx vertx, PrometheusMeterRegistry registry, Duration refreshInterval,
                 Supplier<Future<Long>> pendingDeadLetters,
                 Supplier<Future<JsonObject>> lag,
                 PushMetrics push) {
        this.vertx = vertx;
        this.pendingDeadLetters = pendingDeadLetters;
        this.lag = lag;
        Gauge.builder("orders.projection.lag.records", recordsBehind, AtomicLong::get)
                .description("records on the topics not yet projected").register(registry);
        Gauge.builder("orders.projection.lag.seconds", secondsBehind, AtomicLong::get)
                .description("age of the last projected event while records wait").register(registry);
        Gauge.builder("orders.projection.position", lastPosition, AtomicLong::get)
                .description("last global position projected").register(registry);
        Gauge.builder("orders.dead.letters", deadLetters, AtomicLong::get)
                .description("parked records not yet re-driven").register(registry);
        Gauge.builder("orders.push.connections", push, PushMetrics::openConnections)
                .description("open SSE and WebSocket connections").register(registry);
        FunctionCounter.builder("orders.push.pushed", push, PushMetrics::pushed)
                .description("changes written to clients").register(registry);
        FunctionCounter.builder("orders.push.coalesced", push, PushMetrics::coalescedCount)
                .description("changes replaced by a later state while a client was slow").register(registry);
        FunctionCounter.builder("orders.push.dropped", push, PushMetrics::droppedCount)
                .description("clients closed for staying stalled").register(registry);
        FunctionCounter.builder("orders.push.expired", push, PushMetrics::expiredCount)
                .description("streams closed because their caller's token expired").register(registry);
        push.bindTo(registry);
        this.timer = vertx.setPeriodic(0, refreshInterval.toMillis(), id -> refresh());
    }

    /** Reads the lag and the dead letters; completes when the gauges hold the new values. */
    private Future<Void> refresh() {
        Future<Void> lagRead = lag.get().map(json -> {
            recordsBehind.set(json.getLong("recordsBehind", 0L));
            secondsBehind.set(json.getLong("secondsBehind", 0L));
            lastPosition.set(json.getLong("lastAppliedPosition", 0L));
            return null;
        });
        Future<Void> deadRead = pendingDeadLetters.get().map(count -> {
            deadLetters.set(count);
            return null;
        });
        return Future.join(lagRead, deadRead).mapEmpty();
    }

    void close() {
        vertx.cancelTimer(timer);
    }
}
