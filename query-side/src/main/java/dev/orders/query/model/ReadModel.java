package dev.orders.query.model;

import dev.orders.events.CustomerEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.OrderEvent;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The read model of a set of streams in memory: the views, the order changes that applying events
 * produced, and the streams that need a full re-fold. The projector loads the affected views of a
 * batch into one, applies the batch's events, and writes back what changed; tests fold random event
 * sequences through the same code. Not thread-safe: one batch, one owner.
 */
public final class ReadModel {

    /** What applying one event did. */
    public enum Outcome {
        /** A view changed. */
        APPLIED,
        /** The event was seen before (same event id, or a version not above the view's). */
        DUPLICATE,
        /** The event is new but older than the view, or its stream has no view: re-fold the stream. */
        NEEDS_REFOLD
    }

    private final Map<UUID, OrderView> orders = new LinkedHashMap<>();
    private final Map<UUID, CustomerView> customers = new LinkedHashMap<>();
    private final Set<UUID> seenEvents = new HashSet<>();
    private final Set<UUID> changedOrders = new LinkedHashSet<>();
    private final Set<UUID> changedCustomers = new LinkedHashSet<>();
    private final Set<UUID> refold = new LinkedHashSet<>();
    private final List<OrderChange> changes = new ArrayList<>();

    /** Starts from views loaded from the store. */
    public void load(OrderView view) {
        orders.put(view.orderId(), view);
    }

    public void load(CustomerView view) {
        customers.put(view.customerId(), view);
    }

    /**
     * Applies one event.
     *
     * @throws IllegalArgumentException when the event cannot apply to its view (e.g. another currency);
     *                                  nothing changed then
     */
    public Outcome apply(EventEnvelope envelope) {
        if (seenEvents.contains(envelope.eventId())) {
            return Outcome.DUPLICATE;
        }
        Outcome outcome = switch (envelope.event()) {
            case OrderEvent event -> applyOrder(event.orderId(), envelope);
            case CustomerEvent event -> applyCustomer(event.customerId(), envelope);
        };
        seenEvents.add(envelope.eventId());
        return outcome;
    }

    private Outcome applyOrder(UUID id, EventEnvelope envelope) {
        OrderView current = orders.get(id);
        return switch (Projection.order(current, envelope)) {
            case Projection.Step.Applied<OrderView> applied -> {
                orders.put(id, applied.view());
                changedOrders.add(id);
                changes.add(new OrderChange(envelope.globalPosition(), applied.view()));
                yield Outcome.APPLIED;
            }
            case Projection.Step.Stale<OrderView> stale -> Outcome.DUPLICATE;
            case Projection.Step.NoView<OrderView> none -> {
                refold.add(id);
                yield Outcome.NEEDS_REFOLD;
            }
        };
    }

    private Outcome applyCustomer(UUID id, EventEnvelope envelope) {
        CustomerView current = customers.get(id);
        return switch (Projection.customer(current, envelope)) {
            case Projection.Step.Applied<CustomerView> applied -> {
                customers.put(id, applied.view());
                changedCustomers.add(id);
                yield Outcome.APPLIED;
            }
            case Projection.Step.Stale<CustomerView> stale -> Outcome.DUPLICATE;
            case Projection.Step.NoView<CustomerView> none -> {
                refold.add(id);
                yield Outcome.NEEDS_REFOLD;
            }
        };
    }

    /** Replaces an order's view with one re-folded from its whole stream; {@code position} names the change. */
    public void replace(OrderView view, Long position) {
        OrderView before = orders.put(view.orderId(), view);
        changedOrders.add(view.orderId());
        if (position != null && !view.equals(before)) {
            changes.add(new OrderChange(position, view));
        }
    }

    public void replace(CustomerView view) {
        customers.put(view.customerId(), view);
        changedCustomers.add(view.customerId());
    }

    /** Marks a stream whose event is new to the store but older than its view: it is re-folded. */
    public void needsRefold(UUID streamId) {
        refold.add(streamId);
    }

    public Map<UUID, OrderView> orders() {
        return orders;
    }

    public Map<UUID, CustomerView> customers() {
        return customers;
    }

    public List<OrderView> changedOrders() {
        return changedOrders.stream().map(orders::get).toList();
    }

    public List<CustomerView> changedCustomers() {
        return changedCustomers.stream().map(customers::get).toList();
    }

    /** The order-change log rows, in the order the events were applied. */
    public List<OrderChange> changes() {
        return changes;
    }

    public Set<UUID> streamsToRefold() {
        return refold;
    }
}
