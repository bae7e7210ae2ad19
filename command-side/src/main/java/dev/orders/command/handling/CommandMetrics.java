package dev.orders.command.handling;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.TimeUnit;

/**
 * What the command handler counts: commands by aggregate, command and outcome, their latency, and the
 * optimistic-concurrency conflicts and retries behind them.
 */
final class CommandMetrics {

    /** How a command ended. */
    enum Outcome { ACCEPTED, UNCHANGED, REJECTED, CONFLICT, FAILED }

    private final MeterRegistry registry;

    CommandMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void completed(String aggregate, String command, Outcome outcome, long startNanos) {
        Counter.builder("orders.commands").description("commands handled, by outcome")
                .tags("aggregate", aggregate, "command", command, "outcome", outcome.name().toLowerCase())
                .register(registry).increment();
        Timer.builder("orders.command.duration").description("time to load, decide and append a command")
                .tags("aggregate", aggregate, "command", command)
                .register(registry).record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    }

    /** A group of creations committed together ({@link GroupCommit}), or failed: how many it held. */
    void group(int creations, boolean committed) {
        DistributionSummary.builder("orders.command.group.creations")
                .description("creations appended together in one transaction (group commit), by outcome")
                .tags("outcome", committed ? "committed" : "failed")
                .register(registry).record(creations);
    }

    void conflict(String aggregate, boolean retried) {
        Counter.builder("orders.append.conflicts").description("appends that lost a race on a stream version")
                .tags("aggregate", aggregate, "retried", Boolean.toString(retried))
                .register(registry).increment();
    }
}
