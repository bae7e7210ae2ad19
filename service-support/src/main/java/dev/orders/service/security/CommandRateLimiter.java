package dev.orders.service.security;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * A token bucket per customer: {@code burst} commands at once, then {@code perSecond} sustained. The
 * map of buckets is bounded: past {@value #MAX_BUCKETS} customers, buckets that have refilled (their
 * customers have been quiet) are dropped, which loses nothing since a full bucket is the default.
 */
public final class CommandRateLimiter {

    static final int MAX_BUCKETS = 100_000;

    private final double perSecond;
    private final double burst;
    private final LongSupplier nanoClock;
    private final Map<UUID, Bucket> buckets = new HashMap<>();

    public CommandRateLimiter(double perSecond, int burst, LongSupplier nanoClock) {
        this.perSecond = perSecond;
        this.burst = burst;
        this.nanoClock = nanoClock;
    }

    /**
     * Takes one command from the customer's bucket.
     *
     * @return 0 when the command may go, else the whole seconds (at least 1) until it may
     */
    public synchronized int acquire(UUID customerId) {
        long now = nanoClock.getAsLong();
        Bucket bucket = buckets.get(customerId);
        if (bucket == null) {
            if (buckets.size() >= MAX_BUCKETS) {
                dropRefilled(now);
            }
            bucket = new Bucket(burst, now);
            buckets.put(customerId, bucket);
        }
        bucket.refill(now);
        if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return 0;
        }
        return (int) Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
    }

    private void dropRefilled(long now) {
        buckets.values().removeIf(b -> {
            b.refill(now);
            return b.tokens >= burst;
        });
    }

    private final class Bucket {
        double tokens;
        long refilledAt;

        Bucket(double tokens, long refilledAt) {
            this.tokens = tokens;
            this.refilledAt = refilledAt;
        }

        void refill(long now) {
            double seconds = (now - refilledAt) / 1e9;
            if (seconds > 0) {
                tokens = Math.min(burst, tokens + seconds * perSecond);
                refilledAt = now;
            }
        }
    }
}
