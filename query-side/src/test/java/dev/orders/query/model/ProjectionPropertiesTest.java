package dev.orders.query.model;

import dev.orders.events.CustomerEvent;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import dev.orders.events.EventTypes;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import dev.orders.events.OrderStatus;
import dev.orders.events.RejectionReason;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Label;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Combinators;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

@Label("The projections")
class ProjectionPropertiesTest {

    private static final Instant T0 = Instant.parse("2025-03-01T12:00:00.123456789Z");

    /** Random histories of a few customers and their orders, published in one global order. */
    record History(List<EventEnvelope> events, long seed) {
    }

    @Provide
    Arbitrary<History> histories() {
        return Combinators.combine(Arbitraries.integers().between(1, 4), Arbitraries.integers().between(0, 8),
                Arbitraries.longs()).as(ProjectionPropertiesTest::history);
    }

    static History history(int customers, int orders, long seed) {
        Random random = new Random(seed);
        List<List<DomainEvent>> streams = new ArrayList<>();
        List<UUID> customerIds = new ArrayList<>();
        for (int c = 0; c < customers; c++) {
            UUID id = new UUID(seed, c);
            customerIds.add(id);
            List<DomainEvent> stream = new ArrayList<>();
            stream.add(new CustomerEvent.CustomerCreated(id, "customer " + c, Money.parse("1000.00", "EUR")));
            for (int i = random.nextInt(6); i > 0; i--) {
                UUID orderId = UUID.randomUUID();
                Money amount = Money.parse(Integer.toString(1 + random.nextInt(300)), "EUR");
                stream.add(switch (random.nextInt(3)) {
                    case 0 -> new CustomerEvent.CreditReserved(id, orderId, amount);
                    case 1 -> new CustomerEvent.CreditReleased(id, orderId, amount);
                    default -> new CustomerEvent.CreditLimitExceeded(id, orderId, amount);
                });
            }
            streams.add(stream);
        }
        for (int o = 0; o < orders; o++) {
            UUID id = new UUID(~seed, o);
            UUID customer = customerIds.get(random.nextInt(customers));
            List<DomainEvent> stream = new ArrayList<>();
            stream.add(new OrderEvent.OrderCreated(id, customer, Money.parse((1 + random.nextInt(500)) + ".50", "EUR")));
            switch (random.nextInt(4)) {
                case 0 -> stream.add(new OrderEvent.OrderApproved(id, customer));
                case 1 -> {
                    stream.add(new OrderEvent.OrderApproved(id, customer));
                    stream.add(new OrderEvent.OrderCancelled(id, customer));
                }
                case 2 -> stream.add(new OrderEvent.OrderRejected(id, customer,
                        RejectionReason.values()[random.nextInt(2)]));
                default -> {
                }
            }
            streams.add(stream);
        }
        // Interleave the streams, keeping each stream's order, and number them globally.
        List<EventEnvelope> published = new ArrayList<>();
        int[] next = new int[streams.size()];
        long position = 0;
        while (published.size() < streams.stream().mapToInt(List::size).sum()) {
            int s = random.nextInt(streams.size());
            if (next[s] < streams.get(s).size()) {
                DomainEvent event = streams.get(s).get(next[s]++);
                position++;
                published.add(new EventEnvelope(UUID.randomUUID(), next[s], position, T0.plusMillis(position * 7),
                        EventTypes.currentSchemaVersion(event), new EventMetadata("corr-" + s, null, null, null), event));
            }
        }
        return new History(published, seed);
    }

    /** At-least-once delivery: single duplicates anywhere later, and whole batches delivered again. */
    static List<EventEnvelope> deliveries(List<EventEnvelope> published, long seed) {
        Random random = new Random(seed * 31 + 7);
        List<EventEnvelope> delivered = new ArrayList<>();
        for (int i = 0; i < published.size(); i++) {
            delivered.add(published.get(i));
            if (random.nextInt(5) == 0) {
                // a crash before the offset commit: the last batch comes again
                int from = Math.max(0, i - random.nextInt(5));
                delivered.addAll(published.subList(from, i + 1));
            }
            if (random.nextInt(7) == 0) {
                // a duplicate of an earlier event
                delivered.add(published.get(random.nextInt(i + 1)));
            }
        }
        return delivered;
    }

    @Property(tries = 2000)
    @Label("random streams with duplicates and redeliveries yield the fold of the distinct events")
    void duplicates_and_redeliveries_change_nothing(@ForAll("histories") History history) {
        ReadModel model = new ReadModel();
        List<EventEnvelope> delivered = deliveries(history.events(), history.seed());
        delivered.forEach(model::apply);

        Map<UUID, List<EventEnvelope>> byStream = history.events().stream()
                .collect(Collectors.groupingBy(EventEnvelope::streamId, LinkedHashMap::new, Collectors.toList()));
        Map<UUID, OrderView> expectedOrders = new HashMap<>();
        Map<UUID, CustomerView> expectedCustomers = new HashMap<>();
        byStream.forEach((id, events) -> {
            if (events.get(0).event() instanceof OrderEvent) {
                Projection.foldOrder(events).ifPresent(view -> expectedOrders.put(id, view));
            } else {
                Projection.foldCustomer(events).ifPresent(view -> expectedCustomers.put(id, view));
            }
        });
        assertThat(model.orders()).isEqualTo(expectedOrders);
        assertThat(model.customers()).isEqualTo(expectedCustomers);
        assertThat(model.streamsToRefold()).isEmpty();
        long orderEvents = history.events().stream().filter(e -> e.event() instanceof OrderEvent).count();
        assertThat(model.changes()).as("one change per distinct order event").hasSize((int) orderEvents);
    }

    @Property(tries = 500)
    @Label("the version rule alone dedupes: a redelivered event with a fresh id but an old version is stale")
    void version_rule_dedupes_without_event_ids(@ForAll("histories") History history) {
        ReadModel model = new ReadModel();
        for (EventEnvelope e : deliveries(history.events(), history.seed())) {
            model.apply(new EventEnvelope(UUID.randomUUID(), e.version(), e.globalPosition(), e.occurredAt(),
                    e.schemaVersion(), e.metadata(), e.event()));
        }
        ReadModel once = new ReadModel();
        history.events().forEach(once::apply);
        assertThat(model.orders()).isEqualTo(once.orders());
        assertThat(model.customers()).isEqualTo(once.customers());
    }

    @Example
    @Label("an order's life: created, approved, cancelled; times kept at microseconds")
    void an_orders_life() {
        UUID order = UUID.randomUUID();
        UUID customer = UUID.randomUUID();
        List<EventEnvelope> events = List.of(
                envelope(1, 10, new OrderEvent.OrderCreated(order, customer, Money.parse("250.00", "EUR"))),
                envelope(2, 11, new OrderEvent.OrderApproved(order, customer)),
                envelope(3, 12, new OrderEvent.OrderCancelled(order, customer)));
        OrderView view = Projection.foldOrder(events).orElseThrow();
        assertThat(view.status()).isEqualTo(OrderStatus.CANCELLED);
        assertThat(view.version()).isEqualTo(3);
        assertThat(view.createdAt()).isEqualTo(Instant.parse("2025-03-01T12:00:00.133456Z"));
        assertThat(view.needsAttention()).isFalse();
        assertThat(view.toJson().getJsonObject("total").getString("amount")).isEqualTo("250.00");
    }

    @Example
    @Label("a skipped version is applied but marks the order as needing attention")
    void a_gap_marks_attention() {
        UUID order = UUID.randomUUID();
        UUID customer = UUID.randomUUID();
        ReadModel model = new ReadModel();
        model.apply(envelope(1, 1, new OrderEvent.OrderCreated(order, customer, Money.parse("5.00", "EUR"))));
        model.apply(envelope(3, 3, new OrderEvent.OrderCancelled(order, customer)));
        assertThat(model.orders().get(order).status()).isEqualTo(OrderStatus.CANCELLED);
        assertThat(model.orders().get(order).needsAttention()).isTrue();
        assertThat(model.apply(envelope(2, 2, new OrderEvent.OrderApproved(order, customer))))
                .isEqualTo(ReadModel.Outcome.DUPLICATE);
        assertThat(Projection.foldOrder(List.of(
                envelope(1, 1, new OrderEvent.OrderCreated(order, customer, Money.parse("5.00", "EUR"))),
                envelope(2, 2, new OrderEvent.OrderApproved(order, customer)),
                envelope(3, 3, new OrderEvent.OrderCancelled(order, customer)))).orElseThrow().needsAttention())
                .isFalse();
    }

    private static EventEnvelope envelope(long version, long position, DomainEvent event) {
        return new EventEnvelope(UUID.randomUUID(), version, position, T0.plusMillis(position),
                EventTypes.currentSchemaVersion(event), EventMetadata.NONE, event);
    }
}
