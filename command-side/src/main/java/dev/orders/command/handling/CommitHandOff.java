package dev.orders.command.handling;

import dev.orders.events.EventEnvelope;
import io.vertx.core.Context;

import java.util.List;
import java.util.function.Consumer;

/**
 * The events a {@link CommandHandler} has just committed, handed to one receiver of the same process (the saga),
 * so that it can react to them at once instead of after the relay has read them back and Kafka has carried them.
 * Kafka stays the source: every committed event is published and delivered as before, and the receiver decides
 * what it takes (see {@code PartitionQueues#committed}); what it does not take reaches it through Kafka.
 *
 * <p>Called on the committing event loop right after the commit; the events are delivered on the receiver's own
 * context, so the committing loop never waits for the receiver. Nothing is handed while no receiver is attached.
 */
public final class CommitHandOff {

    /** Who receives, on which context. */
    private record Attached(Context context, Consumer<List<EventEnvelope>> receiver) {
    }

    private volatile Attached attached;

    /** From now on, committed events go to {@code receiver} on {@code context} (one receiver at a time). */
    public void attach(Context context, Consumer<List<EventEnvelope>> receiver) {
        attached = new Attached(context, receiver);
    }

    /** Stops handing events to {@code receiver}, if it is the one attached. */
    public void detach(Consumer<List<EventEnvelope>> receiver) {
        Attached now = attached;
        if (now != null && now.receiver() == receiver) {
            attached = null;
        }
    }

    /** Hands events committed just now to the receiver, if one is attached; returns at once. */
    void hand(List<EventEnvelope> committed) {
        Attached to = attached;
        if (to != null && !committed.isEmpty()) {
            to.context().runOnContext(ignored -> to.receiver().accept(committed));
        }
    }
}
