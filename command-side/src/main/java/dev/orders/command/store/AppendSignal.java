package dev.orders.command.store;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.shareddata.Shareable;
import io.vertx.core.tracing.TracingPolicy;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The in-process signal that events were committed: whoever commits an append announces it here, after
 * the commit, and the relay of this process wakes on it. Only local consumers hear it (the event bus is
 * not clustered); other processes learn of appends from a notification sent outside the appending
 * transaction.
 *
 * <p>Signals coalesce: one is sent, and every commit after it adds nothing until its listener has heard it and is
 * about to read the store ({@link #heard()}); that read sees every commit made before it, and a commit after it
 * sends the next signal. Under load the relay is woken once per read, not once per commit. There is one signal
 * per Vert.x instance.
 */
public final class AppendSignal implements Shareable {

    /** Local event-bus address; the message body is empty. */
    public static final String ADDRESS = "command.events-appended";
    /** A wake-up, not a step of an order's journey: no span (the relay's publish continues each event's trace). */
    private static final DeliveryOptions UNTRACED = new DeliveryOptions().setTracingPolicy(TracingPolicy.IGNORE);

    private final EventBus bus;
    /** A signal was sent and its listener has not read since: a commit now is seen by that read. */
    private final AtomicBoolean due = new AtomicBoolean();

    private AppendSignal(EventBus bus) {
        this.bus = bus;
    }

    /** The signal of this Vert.x instance. */
    public static AppendSignal of(Vertx vertx) {
        return vertx.sharedData().<String, AppendSignal>getLocalMap(ADDRESS)
                .computeIfAbsent(ADDRESS, key -> new AppendSignal(vertx.eventBus()));
    }

    /** Announces that events were committed just now. Call after the commit, never inside it. */
    public static void committed(Vertx vertx) {
        of(vertx).committed();
    }

    /** Announces that events were committed just now, unless a signal is already due. */
    public void committed() {
        if (!due.get() && due.compareAndSet(false, true)) {
            bus.publish(ADDRESS, null, UNTRACED);
        }
    }

    /**
     * The listener has heard the signal and is about to read the store (call it before the read is sent), or the
     * signal causes no read: a commit from now on sends a signal again.
     */
    public void heard() {
        due.set(false);
    }
}
