package dev.orders.query.store;

import dev.orders.query.model.CustomerView;
import dev.orders.query.model.OrderView;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The views one projector wrote in its last committed batches, the least recently used forgotten first: what
 * its next batch on the same streams folds on without reading them ({@link ProjectionStore#applyBatch(java.util.List,
 * java.util.List, java.util.List, ViewMemory)}). A hint, never the truth: the batch's transaction checks that
 * the tables still hold exactly these views and is applied again from views read afresh when they do not, so
 * a view written by anything else (a rebuild, a re-drive, another instance) costs a round trip, not a wrong view.
 * Not thread-safe: one projector, one memory.
 */
public final class ViewMemory {

    /** How many order views and how many customer views a projector keeps by default. */
    public static final int DEFAULT_CAPACITY = 20_000;

    private final Map<UUID, OrderView> orders;
    private final Map<UUID, CustomerView> customers;

    public ViewMemory(int capacity) {
        this.orders = bounded(capacity);
        this.customers = bounded(capacity);
    }

    OrderView order(UUID orderId) {
        return orders.get(orderId);
    }

    CustomerView customer(UUID customerId) {
        return customers.get(customerId);
    }

    /** The views a committed batch wrote. */
    void remember(Collection<OrderView> changedOrders, Collection<CustomerView> changedCustomers) {
        changedOrders.forEach(view -> orders.put(view.orderId(), view));
        changedCustomers.forEach(view -> customers.put(view.customerId(), view));
    }

    /** Forgets these streams' views (a batch on them failed, or found them out of date). */
    void forget(Collection<UUID> streamIds) {
        streamIds.forEach(id -> {
            orders.remove(id);
            customers.remove(id);
        });
    }

    /** Forgets every view: the projector's partitions changed, so other writers may have moved its streams. */
    public void forgetAll() {
        orders.clear();
        customers.clear();
    }

    private static <V> Map<UUID, V> bounded(int capacity) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<UUID, V> eldest) {
                return size() > capacity;
            }
        };
    }
}
