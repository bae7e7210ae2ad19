package dev.orders.command.messaging;

import io.vertx.pgclient.PgConnection;

/**
 * Where a relay stands; each state carries what belongs to it. A relay starts in {@link Standby}, competes
 * for the lease, repairs what the last relay left while {@link TakingOver}, publishes while {@link Active}
 * and ends {@link Stopped}. Losing the lease takes it from {@code TakingOver} or {@code Active} back to
 * {@code Standby}. The lease connection of a term names the term: an answer that arrives for another one
 * is ignored.
 */
sealed interface RelayState {

    /** Without the lease: asks for it every lease retry. */
    record Standby() implements RelayState {
    }

    /** Holds the lease on {@code lease}: reads the checkpoint and starts this term's producer. */
    record TakingOver(PgConnection lease) implements RelayState {
    }

    /** Holds the lease on {@code lease} and publishes through {@code pipeline}. */
    record Active(PgConnection lease, RelayPipeline pipeline) implements RelayState {
    }

    /** Stopped: competes no more; a stop first lets the batches in flight finish. */
    record Stopped() implements RelayState {
    }

    /** The role shown in the relay's metrics. */
    default String role() {
        return switch (this) {
            case Standby s -> "standby";
            case TakingOver t -> "standby";
            case Active a -> "active";
            case Stopped s -> "stopped";
        };
    }
}
