package dev.orders.query.push;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The push hub's counters and gauges, read by the metrics endpoint (exported to Prometheus by a
 * later issue). Thread-safe: connections on every event loop update them.
 */
public final class PushMetrics {

    /** Upper bounds (milliseconds) of the push-latency histogram buckets; the last bucket is +Inf. */
    public static final long[] LATENCY_BUCKETS_MS = {5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000};

    private final AtomicLong openConnections = new AtomicLong();
    private final LongAdder opened = new LongAdder();
    private final LongAdder pushed = new LongAdder();
    private final LongAdder coalesced = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder expired = new LongAdder();
    private final LongAdder resets = new LongAdder();
    private final LongAdder latencySumMs = new LongAdder();
    private final LongAdder[] latencyBuckets = new LongAdder[LATENCY_BUCKETS_MS.length + 1];
    private final AtomicLong followerPosition = new AtomicLong();

    PushMetrics() {
        for (int i = 0; i < latencyBuckets.length; i++) {
            latencyBuckets[i] = new LongAdder();
        }
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
        long ms = Math.max(0, latencyMs);
        latencySumMs.add(ms);
        int bucket = 0;
        while (bucket < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[bucket]) {
            bucket++;
        }
        latencyBuckets[bucket].increment();
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

    public long latencySumMs() {
        return latencySumMs.sum();
    }

    /** Non-cumulative counts per bucket of {@link #LATENCY_BUCKETS_MS}, plus the +Inf bucket last. */
    public long[] latencyBuckets() {
        long[] counts = new long[latencyBuckets.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = latencyBuckets[i].sum();
        }
        return counts;
    }

    /** The last change-log position the follower of this node has read. */
    public long followerPosition() {
        return followerPosition.get();
    }
}
