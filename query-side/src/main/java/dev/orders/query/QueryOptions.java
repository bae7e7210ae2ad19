package dev.orders.query;

import dev.orders.infra.config.OrdersConfig;

import java.time.Duration;
import java.util.Objects;

/**
 * The query side's own settings, beside {@link OrdersConfig}'s shared ones.
 *
 * @param minVersionWait     how long {@code ?minVersion} waits before answering 503 with Retry-After
 * @param projectorBatchSize the most records one poll of a projector gives ({@code max.poll.records}); a
 *                           projection transaction holds at most two polls' records
 * @param projectors         projector verticles in this process (one consumer each, one group)
 */
public record QueryOptions(Duration minVersionWait, int projectorBatchSize, int projectors) {

    public QueryOptions {
        Objects.requireNonNull(minVersionWait, "minVersionWait");
        if (minVersionWait.isNegative() || minVersionWait.isZero()) {
            throw new IllegalArgumentException("minVersionWait must be positive");
        }
        if (projectorBatchSize < 1 || projectors < 1) {
            throw new IllegalArgumentException("projectorBatchSize and projectors must be at least 1");
        }
    }

    public static QueryOptions defaults() {
        return new QueryOptions(Duration.ofSeconds(5), 500, 1);
    }

    public QueryOptions withMinVersionWait(Duration value) {
        return new QueryOptions(value, projectorBatchSize, projectors);
    }

    public QueryOptions withProjectors(int value) {
        return new QueryOptions(minVersionWait, projectorBatchSize, value);
    }
}
