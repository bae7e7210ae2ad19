package dev.orders.command.store;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.tracing.TracingPolicy;

/**
 * The in-process signal that events were committed: whoever commits an append announces it here, after
 * the commit, and the relay of this process wakes on it. Only local consumers hear it (the event bus is
 * not clustered); other processes learn of appends from a notification sent outside the appending
 * transaction.
 */
public final class AppendSignal {

    /** Local event-bus address; the message body is empty. */
    public static final String ADDRESS = "command.events-appended";
    /** A wake-up, not a step of an order's journey: no span (the relay's publish continues each event's trace). */
    private static final DeliveryOptions UNTRACED = new DeliveryOptions().setTracingPolicy(TracingPolicy.IGNORE);

    private AppendSignal() {
    }

    /** Announces that events were committed just now. Call after the commit, never inside it. */
    public static void committed(Vertx vertx) {
        vertx.eventBus().publish(ADDRESS, null, UNTRACED);
    }
}
