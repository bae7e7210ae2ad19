package dev.orders.query;

import dev.orders.events.CustomerEvent;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import dev.orders.events.EventTypes;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import dev.orders.events.RejectionReason;
import dev.orders.events.StreamType;
import dev.orders.query.model.CustomerView;
import dev.orders.query.model.OrderView;
import dev.orders.query.model.Projection;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

/**
 * Realistic event streams as the relay publishes them, for projection tests at scale: customers, orders
 * reserved and approved, rejected over their limit, some cancelled and released; gap-free global
 * positions from {@code firstPosition}, contiguous versions per stream.
 */
final class EventStreams {

    private static final Instant T0 = Instant.parse("2025-06-01T08:00:00Z");

    private final Random random;
    private long position;
    private final List<EventEnvelope> events = new ArrayList<>();
    private final Map<UUID, Long> versions = new HashMap<>();
    private final Map<UUID, List<EventEnvelope>> byStream = new LinkedHashMap<>();

    private EventStreams(long seed, long firstPosition) {
        this.random = new Random(seed);
        this.position = firstPosition - 1;
    }

    /** About {@code count} events (exactly {@code count}: the last saga may be cut short). */
    static EventStreams generate(int count, long seed, long firstPosition) {
        EventStreams s = new EventStreams(seed, firstPosition);
        List<UUID> customers = new ArrayList<>();
        while (s.events.size() < count) {
            if (customers.isEmpty() || s.random.nextInt(12) == 0) {
                UUID customer = UUID.randomUUID();
                customers.add(customer);
                s.add(customer, new CustomerEvent.CustomerCreated(customer, "Customer " + customers.size(),
                        Money.parse("5000.00", "EUR")));
                continue;
            }
            UUID customer = customers.get(s.random.nextInt(customers.size()));
            UUID order = UUID.randomUUID();
            Money total = Money.parse((10 + s.random.nextInt(490)) + "." + (10 + s.random.nextInt(89)), "EUR");
            s.add(order, new OrderEvent.OrderCreated(order, customer, total));
            if (s.random.nextInt(6) == 0) {
                s.add(customer, new CustomerEvent.CreditLimitExceeded(customer, order, total));
                s.add(order, new OrderEvent.OrderRejected(order, customer, RejectionReason.CREDIT_LIMIT_EXCEEDED));
            } else {
                s.add(customer, new CustomerEvent.CreditReserved(customer, order, total));
                s.add(order, new OrderEvent.OrderApproved(order, customer));
                if (s.random.nextInt(4) == 0) {
                    s.add(order, new OrderEvent.OrderCancelled(order, customer));
                    s.add(customer, new CustomerEvent.CreditReleased(customer, order, total));
                }
            }
        }
        return s.truncate(count);
    }

    private EventStreams truncate(int count) {
        while (events.size() > count) {
            EventEnvelope last = events.removeLast();
            List<EventEnvelope> stream = byStream.get(last.streamId());
            stream.removeLast();
            if (stream.isEmpty()) {
                byStream.remove(last.streamId());
            }
        }
        return this;
    }

    private void add(UUID stream, DomainEvent event) {
        long version = versions.merge(stream, 1L, Long::sum);
        position++;
        EventEnvelope envelope = new EventEnvelope(UUID.randomUUID(), version, position, T0.plusMillis(position * 7),
                EventTypes.currentSchemaVersion(event), new EventMetadata("corr-" + stream, "cause-" + position, null, null),
                event);
        events.add(envelope);
        byStream.computeIfAbsent(stream, id -> new ArrayList<>()).add(envelope);
    }

    List<EventEnvelope> events() {
        return events;
    }

    long lastPosition() {
        return events.getLast().globalPosition();
    }

    /** The fold of each order stream, by order id. */
    Map<UUID, OrderView> orders() {
        Map<UUID, OrderView> views = new HashMap<>();
        byStream.forEach((id, stream) -> {
            if (stream.getFirst().streamType() == StreamType.ORDER) {
                Projection.foldOrder(stream).ifPresent(v -> views.put(id, v));
            }
        });
        return views;
    }

    /** The fold of each customer stream, by customer id. */
    Map<UUID, CustomerView> customers() {
        Map<UUID, CustomerView> views = new HashMap<>();
        byStream.forEach((id, stream) -> {
            if (stream.getFirst().streamType() == StreamType.CUSTOMER) {
                Projection.foldCustomer(stream).ifPresent(v -> views.put(id, v));
            }
        });
        return views;
    }
}
