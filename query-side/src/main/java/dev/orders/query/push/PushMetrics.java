package dev.orders.query.push;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The push hub's counters and gauges, read by the metrics endpoint, and its latency timer. Thread-safe:
 * connections on every event loop update them.
 */
public final class PushMetrics {

    /** The service-level buckets of the push latency: what a dashboard draws percentiles and SLOs from. */
    private static final Duration[] LATENCY_SLOS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
        Duration.ofSeconds(1), Duration.ofMillis(2_500), Duration.ofSeconds(5), Duration.ofSeconds(10)};

    private final AtomicLong openConnections = new AtomicLong();
    private final LongAdder opened = new LongAdder();
    private final LongAdder pushed = new LongAdder();
    private final LongAdder coalesced = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder expired = new LongAdder();
    private final LongAdder resets = new LongAdder();
    /** The latency timer lives here from the start; {@link #bindTo} adds the registries it is exported to. */
    private final CompositeMeterRegistry latencyRegistries = new CompositeMeterRegistry();
    private final Timer latency = Timer.builder("orders.push.latency")
            .description("from a change's commit to its write to a client")
            .serviceLevelObjectives(LATENCY_SLOS)
            .register(latencyRegistries);
    private final AtomicLong followerPosition = new AtomicLong();

    PushMetrics() {
    }

    /** Exports the latency timer (as {@code orders_push_latency_seconds} with its buckets) to a registry. */
    public void bindTo(MeterRegistry registry) {
        latencyRegistries.add(registry);
    }

    void connectionOpened() {
        openConnections.incrementAndGet();
        opened.increment();
    }

    void connectionClosed() {
        openConnections.decrementAndGet();
    }

    void rejected() {
        rejected.increment();
    }

    /** A stream or WebSocket closed because its caller's token expired. */
    void expired() {
        expired.increment();
    }

    void reset() {
        resets.increment();
    }

    /** One change written to a client, {@code latencyMs} after it was committed. */
    void pushed(long latencyMs) {
        pushed.increment();
        latency.record(Math.max(0, latencyMs), TimeUnit.MILLISECONDS);
    }

    void coalesced() {
        coalesced.increment();
    }

    void dropped() {
        dropped.increment();
    }

    void followerAt(long position) {
        followerPosition.set(position);
    }

    public long openConnections() {
        return openConnections.get();
    }

    public long connectionsOpened() {
        return opened.sum();
    }

    public long pushed() {
        return pushed.sum();
    }

    public long coalescedCount() {
        return coalesced.sum();
    }

    public long droppedCount() {
        return dropped.sum();
    }

    public long rejectedCount() {
        return rejected.sum();
    }

    public long expiredCount() {
        return expired.sum();
    }

    public long resetCount() {
        return resets.sum();
    }

    /** The push latency: count, total, max and the service-level buckets. */
    public Timer latency() {
        return latency;
    }

    /** The last change-log position the follower of this node has read. */
    public long followerPosition() {
        return followerPosition.get();
    }
}
