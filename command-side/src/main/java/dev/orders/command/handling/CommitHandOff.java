package dev.orders.command.handling;

import dev.orders.command.store.AppendSignal;
import dev.orders.events.EventEnvelope;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;

/**
 * The events a {@link CommandHandler} has just committed, handed to one receiver of the same process (the saga),
 * so that it can react to them at once instead of after the relay has read them back and Kafka has carried them.
 * Kafka stays the source: every committed event is published and delivered as before, and the receiver decides
 * what it takes (see {@code PartitionQueues#committed}); what it does not take reaches it through Kafka.
 *
 * <p>Called on the committing event loop right after the commit; the events are delivered on the receiver's own
 * context, so the committing loop never waits for the receiver. Nothing is handed while no receiver is attached.
 *
 * <p>It also tells the relay of this process that events were committed ({@link AppendSignal}), and when. Without a
 * receiver, at once. With one, once the receiver is done with the events (it reacted to them, or left them to
 * Kafka), and only when their whole <em>chain</em> is: the events of one correlation id (an order's creation, the
 * credit the saga reserved for it, its approval) whose reactions, each committed and handed here, are still under
 * way. So a quiet order's events are read by the relay together and travel as one batch (one Kafka send, one
 * projector transaction) instead of one behind the other; under load the saga leaves most events to Kafka and
 * they are signalled at once. Chains end independently, each with a signal, and while any is held the relay is
 * signalled at least every {@link #HOLD_LIMIT_MS} (a safety net, not the path), so a reaction that does not end
 * never holds the relay back.
 */
public final class CommitHandOff {

    /** The longest the relay goes without a signal while chains are held. */
    static final long HOLD_LIMIT_MS = 5;

    /** Who receives, on which context: the events, and what to run once it is done with them. */
    private record Attached(Context context, BiConsumer<List<EventEnvelope>, Runnable> receiver) {
    }

    private final Vertx vertx;
    private final AppendSignal signal;
    private final long holdLimitMs;
    private volatile Attached attached;
    /** Per held chain (correlation id), the hand-offs of it that the receiver is not done with. */
    private final Map<String, Integer> held = new HashMap<>();
    /** The safety net's timer while chains are held, else -1. */
    private long limit = -1;

    public CommitHandOff(Vertx vertx, AppendSignal signal) {
        this(vertx, signal, HOLD_LIMIT_MS);
    }

    /** With another limit than {@link #HOLD_LIMIT_MS} on how long the relay goes without a signal while chains are held. */
    CommitHandOff(Vertx vertx, AppendSignal signal, long holdLimitMs) {
        this.vertx = vertx;
        this.signal = signal;
        this.holdLimitMs = holdLimitMs;
    }

    /**
     * From now on, committed events go to {@code receiver} on {@code context} (one receiver at a time), which runs
     * the {@code Runnable} it is given with them exactly once, when it is done with them.
     */
    public void attach(Context context, BiConsumer<List<EventEnvelope>, Runnable> receiver) {
        attached = new Attached(context, receiver);
    }

    /** Stops handing events to {@code receiver}, if it is the one attached; every chain held is let go. */
    public void detach(BiConsumer<List<EventEnvelope>, Runnable> receiver) {
        Attached now = attached;
        if (now != null && now.receiver() == receiver) {
            attached = null;
            synchronized (this) {
                held.clear();
                stopLimit();
            }
            signal.committed();
        }
    }

    /** Events committed just now: handed to the receiver, if one is attached, and signalled to the relay. */
    void hand(List<EventEnvelope> committed) {
        Attached to = attached;
        if (to == null || committed.isEmpty()) {
            signal.committed();
            return;
        }
        Set<String> chains = new LinkedHashSet<>();
        for (EventEnvelope event : committed) {
            String correlation = event.metadata().correlationId();
            chains.add(correlation != null ? correlation : event.eventId().toString());
        }
        hold(chains);
        AtomicBoolean done = new AtomicBoolean();
        to.context().runOnContext(ignored -> to.receiver().accept(committed, () -> {
            if (done.compareAndSet(false, true)) {
                release(chains);
            }
        }));
    }

    private synchronized void hold(Set<String> chains) {
        chains.forEach(chain -> held.merge(chain, 1, Integer::sum));
        if (limit < 0) {
            limit = vertx.setPeriodic(holdLimitMs, id -> signal.committed());
        }
    }

    private void release(Set<String> chains) {
        boolean ended = false;
        synchronized (this) {
            for (String chain : chains) {
                Integer left = held.computeIfPresent(chain, (key, count) -> count > 1 ? count - 1 : null);
                ended |= left == null;
            }
            if (held.isEmpty()) {
                stopLimit();
            }
        }
        if (ended) {
            signal.committed();
        }
    }

    private void stopLimit() {
        if (limit >= 0) {
            vertx.cancelTimer(limit);
            limit = -1;
        }
    }
}
