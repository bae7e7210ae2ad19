package dev.orders.query.push;

import dev.orders.service.http.ProblemException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's open subscriptions, indexed by watched customer and by watched order, with each customer's
 * count against {@link PushSettings#maxConnectionsPerCustomer()}; hands each batch of changes to the
 * subscriptions that watch them.
 */
final class Subscriptions {

    private final PushSettings settings;
    private final Map<UUID, Set<Subscription>> byCustomer = new ConcurrentHashMap<>();
    private final Map<UUID, Set<Subscription>> byOrder = new ConcurrentHashMap<>();
    private final Map<UUID, AtomicInteger> perCustomer = new ConcurrentHashMap<>();
    private final Set<Subscription> all = ConcurrentHashMap.newKeySet();

    Subscriptions(PushSettings settings) {
        this.settings = settings;
    }

    /** Every open subscription, as of now. */
    List<Subscription> all() {
        return List.copyOf(all);
    }

    void countCustomer(Subscription subscription, UUID customerId) {
        if (customerId == null) {
            return;
        }
        AtomicInteger count = perCustomer.computeIfAbsent(customerId, id -> new AtomicInteger());
        if (count.incrementAndGet() > settings.maxConnectionsPerCustomer()) {
            count.decrementAndGet();
            throw new ProblemException(429, "Too many requests", "customer " + customerId + " has "
                    + settings.maxConnectionsPerCustomer() + " live streams open already; close one",
                    Map.of("Retry-After", "5"));
        }
        subscription.customerId(customerId);
    }

    void register(Subscription subscription) {
        all.add(subscription);
        index(subscription.watch).compute(subscription.watch.id(), (id, set) -> {
            Set<Subscription> subscribers = set == null ? ConcurrentHashMap.newKeySet() : set;
            subscribers.add(subscription);
            return subscribers;
        });
    }

    void unregister(Subscription subscription, Runnable release) {
        all.remove(subscription);
        index(subscription.watch).computeIfPresent(subscription.watch.id(), (id, set) -> {
            set.remove(subscription);
            return set.isEmpty() ? null : set;
        });
        UUID customerId = subscription.customerId();
        if (customerId != null) {
            perCustomer.computeIfPresent(customerId, (id, count) -> count.decrementAndGet() <= 0 ? null : count);
        }
        release.run();
    }

    private Map<UUID, Set<Subscription>> index(Watch watch) {
        return switch (watch) {
            case Watch.Customer ignored -> byCustomer;
            case Watch.Order ignored -> byOrder;
        };
    }

    /** On the follower's context: hands each subscriber its rows, in order, on its own context. */
    void fanOut(List<ChangeRow> changes) {
        Map<Subscription, List<ChangeRow>> bySubscriber = new LinkedHashMap<>();
        for (ChangeRow change : changes) {
            for (Subscription subscription : byOrder.getOrDefault(change.orderId(), Set.of())) {
                bySubscriber.computeIfAbsent(subscription, s -> new ArrayList<>()).add(change);
            }
            for (Subscription subscription : byCustomer.getOrDefault(change.customerId(), Set.of())) {
                bySubscriber.computeIfAbsent(subscription, s -> new ArrayList<>()).add(change);
            }
        }
        bySubscriber.forEach((subscription, rows) -> subscription.context.runOnContext(ignored -> subscription.offer(rows)));
    }
}
