package dev.orders.query.push;

import dev.orders.infra.config.OrdersConfig;

import java.time.Duration;

/**
 * The limits of the operators' stream of every order change ({@code GET /api/orders/stream}).
 *
 * @param ratePerSecond order events written per connection per second at most (a token bucket refilled
 *                      every {@code tick}, holding at most one second's worth); changes beyond it wait,
 *                      coalesced to the latest state per order
 * @param maxPending    orders waiting per connection; past it the oldest waiting one is dropped and the
 *                      client is told how many were skipped ({@code event: skipped})
 * @param recent        changes a fresh connection gets first: the newest of the whole log
 * @param maxReplay     the most changes a resume replays; more get {@code reset} and the recent changes
 * @param maxBacklog    live changes buffered while the first read runs; past it the connection closes
 * @param maxStreams    operator streams per node; more answer 503
 * @param tick          how often the bucket is refilled and waiting changes are flushed
 */
public record OperatorStreamSettings(int ratePerSecond, int maxPending, int recent, int maxReplay, int maxBacklog,
                                     int maxStreams, Duration tick) {

    public OperatorStreamSettings {
        if (ratePerSecond < 1 || maxPending < 1 || recent < 0 || maxReplay < 1 || maxBacklog < 1 || maxStreams < 1) {
            throw new IllegalArgumentException("operator stream limits must be at least 1");
        }
        if (tick.isNegative() || tick.isZero()) {
            throw new IllegalArgumentException("tick must be positive, was " + tick);
        }
    }

    /** The limits by the configuration's defaults. */
    public static OperatorStreamSettings defaults() {
        return of(OrdersConfig.defaults());
    }

    /**
     * The limits an operator configures ({@code push.operator.events-per-second}, {@code push.operator.max-waiting},
     * {@code push.operator.max-streams}); the others are fixed.
     */
    public static OperatorStreamSettings of(OrdersConfig config) {
        return new OperatorStreamSettings(config.pushOperatorEventsPerSecond(), config.pushOperatorMaxWaiting(), 50,
                10_000, 20_000, config.pushOperatorMaxStreams(), Duration.ofMillis(100));
    }

    public OperatorStreamSettings withRate(int perSecond, int pending) {
        return new OperatorStreamSettings(perSecond, pending, recent, maxReplay, maxBacklog, maxStreams, tick);
    }

    /** Tokens added per tick: at least one. */
    int tokensPerTick() {
        return (int) Math.max(1, ratePerSecond * tick.toMillis() / 1000);
    }
}
