package dev.orders.query.push;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The push hub's settings, validated once. {@link #defaults()} gives the production values; a test or
 * the service's configuration changes single values with the {@code with...} methods.
 *
 * @param heartbeat                 how often an idle stream gets a comment ({@code : hb}) or a WebSocket ping
 * @param stallTimeout              how long a client may keep its write queue full before it is closed
 * @param retryHint                 the SSE {@code retry:} hint sent to browsers
 * @param pollInterval              the follower's slow poll, the fallback for a lost notification
 * @param maxConnections            open streams per node; more answer 503
 * @param maxConnectionsPerCustomer open streams per customer (on this node); more answer 429
 * @param maxPendingOrders          per connection, the orders kept (latest state each) while it is stalled;
 *                                  past that the connection is dropped
 * @param maxBacklog                per connection, the changes buffered while its initial state is read
 * @param maxReplay                 the most changes a resume replays; more get {@code reset} and the state
 * @param allowedOrigins            origins allowed besides the request's own (the configured CORS origins)
 * @param retention                 how much of the order-change log is kept for resumes, and how often it is pruned
 */
public record PushSettings(Duration heartbeat, Duration stallTimeout, Duration retryHint, Duration pollInterval,
                           int maxConnections, int maxConnectionsPerCustomer, int maxPendingOrders,
                           int maxBacklog, int maxReplay, List<String> allowedOrigins, Retention retention) {

    /**
     * The window of the order-change log kept for resumes: a change is kept while it is newer than
     * {@code window} and among the newest {@code maxChanges}; the newest change is always kept. Pruned
     * every {@code pruneEvery}. A new subscription's state does not come from this log (see
     * {@link PushStore}), so pruning never loses an order's state, only the replay of old ids.
     */
    public record Retention(Duration window, int maxChanges, Duration pruneEvery) {

        public Retention {
            Objects.requireNonNull(window, "window");
            Objects.requireNonNull(pruneEvery, "pruneEvery");
            requirePositive("retention window", window);
            requirePositive("pruneEvery", pruneEvery);
            if (maxChanges < 1) {
                throw new IllegalArgumentException("the change log must keep at least 1 change");
            }
        }

        /** A window pruned about ten times per window, at most once a second and at least once a minute. */
        public static Retention of(Duration window, int maxChanges) {
            Duration every = window.dividedBy(10);
            every = every.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1)
                    : every.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : every;
            return new Retention(window, maxChanges, every);
        }
    }

    public PushSettings {
        Objects.requireNonNull(heartbeat, "heartbeat");
        Objects.requireNonNull(stallTimeout, "stallTimeout");
        Objects.requireNonNull(retryHint, "retryHint");
        Objects.requireNonNull(pollInterval, "pollInterval");
        Objects.requireNonNull(retention, "retention");
        allowedOrigins = List.copyOf(allowedOrigins);
        requirePositive("heartbeat", heartbeat);
        requirePositive("stallTimeout", stallTimeout);
        requirePositive("pollInterval", pollInterval);
        if (maxConnections < 1 || maxConnectionsPerCustomer < 1 || maxPendingOrders < 1 || maxBacklog < 1
                || maxReplay < 1) {
            throw new IllegalArgumentException("push limits must be at least 1");
        }
    }

    public static PushSettings defaults() {
        return new PushSettings(Duration.ofSeconds(15), Duration.ofSeconds(30), Duration.ofSeconds(3),
                Duration.ofSeconds(2), 20_000, 20, 1_000, 10_000, 10_000, List.of(),
                Retention.of(Duration.ofHours(24), 1_000_000));
    }

    public PushSettings withHeartbeat(Duration value) {
        return new PushSettings(value, stallTimeout, retryHint, pollInterval, maxConnections,
                maxConnectionsPerCustomer, maxPendingOrders, maxBacklog, maxReplay, allowedOrigins, retention);
    }

    public PushSettings withStallTimeout(Duration value) {
        return new PushSettings(heartbeat, value, retryHint, pollInterval, maxConnections,
                maxConnectionsPerCustomer, maxPendingOrders, maxBacklog, maxReplay, allowedOrigins, retention);
    }

    public PushSettings withPollInterval(Duration value) {
        return new PushSettings(heartbeat, stallTimeout, retryHint, value, maxConnections,
                maxConnectionsPerCustomer, maxPendingOrders, maxBacklog, maxReplay, allowedOrigins, retention);
    }

    public PushSettings withConnectionLimits(int perNode, int perCustomer) {
        return new PushSettings(heartbeat, stallTimeout, retryHint, pollInterval, perNode, perCustomer,
                maxPendingOrders, maxBacklog, maxReplay, allowedOrigins, retention);
    }

    public PushSettings withMaxPendingOrders(int value) {
        return new PushSettings(heartbeat, stallTimeout, retryHint, pollInterval, maxConnections,
                maxConnectionsPerCustomer, value, maxBacklog, maxReplay, allowedOrigins, retention);
    }

    public PushSettings withAllowedOrigins(List<String> value) {
        return new PushSettings(heartbeat, stallTimeout, retryHint, pollInterval, maxConnections,
                maxConnectionsPerCustomer, maxPendingOrders, maxBacklog, maxReplay, value, retention);
    }

    public PushSettings withRetention(Retention value) {
        return new PushSettings(heartbeat, stallTimeout, retryHint, pollInterval, maxConnections,
                maxConnectionsPerCustomer, maxPendingOrders, maxBacklog, maxReplay, allowedOrigins, value);
    }

    private static void requirePositive(String name, Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + value);
        }
    }
}
