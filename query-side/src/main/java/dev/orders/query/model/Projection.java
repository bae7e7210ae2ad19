package dev.orders.query.model;

import dev.orders.events.CustomerEvent;
import dev.orders.events.CustomerEvent.CreditLimitExceeded;
import dev.orders.events.CustomerEvent.CreditReleased;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.events.EventEnvelope;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import dev.orders.events.OrderEvent.OrderApproved;
import dev.orders.events.OrderEvent.OrderCancelled;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.events.OrderEvent.OrderRejected;
import dev.orders.events.OrderStatus;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The projections as pure functions: how one event changes a view ({@link #order}, {@link #customer}),
 * and the fold of a whole stream ({@link #foldOrder}, {@link #foldCustomer}). No I/O, no clock.
 *
 * <p>The idempotency rule lives here: an event whose version is not above the view's version is
 * {@link Step.Stale} and changes nothing. An event that skips versions is applied, but the view is
 * marked as needing attention (a record between them was parked).
 */
public final class Projection {

    private Projection() {
    }

    /** What one event does to a view. */
    public sealed interface Step<V> {
        /** The event was applied; {@code gap} when versions were skipped. */
        record Applied<V>(V view, boolean gap) implements Step<V> {
        }

        /** Already applied (version not above the view's): nothing changes. */
        record Stale<V>() implements Step<V> {
        }

        /** The stream has no view yet and the event does not create one (its creation was parked). */
        record NoView<V>() implements Step<V> {
        }
    }

    public static Step<OrderView> order(OrderView current, EventEnvelope envelope) {
        if (!(envelope.event() instanceof OrderEvent event)) {
            throw new IllegalArgumentException("not an order event: " + envelope.type());
        }
        long version = envelope.version();
        if (current != null && version <= current.version()) {
            return new Step.Stale<>();
        }
        Instant at = truncate(envelope.occurredAt());
        boolean gap = version != (current == null ? 1 : current.version() + 1);
        OrderView next = switch (event) {
            case OrderCreated created -> new OrderView(created.orderId(), created.customerId(), OrderStatus.PENDING,
                    created.total(), null, version, at, at, false);
            case OrderApproved approved -> current == null ? null
                    : current.evolved(OrderStatus.APPROVED, null, version, at);
            case OrderRejected rejected -> current == null ? null
                    : current.evolved(OrderStatus.REJECTED, rejected.reason(), version, at);
            case OrderCancelled cancelled -> current == null ? null
                    : current.evolved(OrderStatus.CANCELLED, current.reason(), version, at);
        };
        if (next == null) {
            return new Step.NoView<>();
        }
        boolean attention = gap || (current != null && current.needsAttention());
        return new Step.Applied<>(next.withNeedsAttention(attention), gap);
    }

    public static Step<CustomerView> customer(CustomerView current, EventEnvelope envelope) {
        if (!(envelope.event() instanceof CustomerEvent event)) {
            throw new IllegalArgumentException("not a customer event: " + envelope.type());
        }
        long version = envelope.version();
        if (current != null && version <= current.version()) {
            return new Step.Stale<>();
        }
        boolean gap = version != (current == null ? 1 : current.version() + 1);
        CustomerView next = switch (event) {
            case CustomerCreated created -> new CustomerView(created.customerId(), created.name(),
                    created.creditLimit(), Money.zero(created.creditLimit().currency()), version);
            case CreditReserved reserved -> current == null ? null : new CustomerView(current.customerId(),
                    current.name(), current.creditLimit(), current.creditReserved().plus(reserved.amount()), version);
            case CreditReleased released -> current == null ? null : new CustomerView(current.customerId(),
                    current.name(), current.creditLimit(), release(current.creditReserved(), released.amount()), version);
            case CreditLimitExceeded exceeded -> current == null ? null : new CustomerView(current.customerId(),
                    current.name(), current.creditLimit(), current.creditReserved(), version);
        };
        return next == null ? new Step.NoView<>() : new Step.Applied<>(next, gap);
    }

    /**
     * The view of an order stream from all its events (in any order; duplicates by version count
     * once); empty when the stream has no creation event. It needs attention when versions are not
     * contiguous from 1.
     */
    public static Optional<OrderView> foldOrder(List<EventEnvelope> events) {
        OrderView view = null;
        for (EventEnvelope envelope : byVersion(events)) {
            if (order(view, envelope) instanceof Step.Applied<OrderView> applied) {
                view = applied.view();
            }
        }
        return Optional.ofNullable(view);
    }

    /** Whether an order stream's events are contiguous from version 1. */
    public static boolean contiguous(List<EventEnvelope> events) {
        long expected = 1;
        for (EventEnvelope envelope : byVersion(events)) {
            if (envelope.version() < expected) {
                continue;
            }
            if (envelope.version() != expected) {
                return false;
            }
            expected++;
        }
        return true;
    }

    /** The view of a customer stream from all its events, like {@link #foldOrder}. */
    public static Optional<CustomerView> foldCustomer(List<EventEnvelope> events) {
        CustomerView view = null;
        for (EventEnvelope envelope : byVersion(events)) {
            if (customer(view, envelope) instanceof Step.Applied<CustomerView> applied) {
                view = applied.view();
            }
        }
        return Optional.ofNullable(view);
    }

    /** Times as PostgreSQL stores them (microseconds), so that a view read back equals the one written. */
    public static Instant truncate(Instant instant) {
        return instant.truncatedTo(ChronoUnit.MICROS);
    }

    private static Money release(Money reserved, Money amount) {
        // Never below zero: a release without its reservation (a parked record) must not go negative.
        return reserved.compareTo(amount) >= 0 ? reserved.minus(amount) : Money.zero(reserved.currency());
    }

    private static List<EventEnvelope> byVersion(List<EventEnvelope> events) {
        return events.stream().sorted(Comparator.comparingLong(EventEnvelope::version)).toList();
    }
}
