package dev.orders.command.saga;

import dev.orders.command.domain.Customer;
import dev.orders.command.domain.CustomerState;
import dev.orders.command.domain.Order;
import dev.orders.command.domain.OrderState;
import dev.orders.events.CustomerEvent;
import dev.orders.events.CustomerEvent.CreditLimitExceeded;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.EventEnvelope;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import dev.orders.events.OrderEvent.OrderApproved;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.events.OrderEvent.OrderRejected;
import dev.orders.events.OrderStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static dev.orders.command.saga.SagaWorld.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The workload: customers with random limits, orders with random totals placed concurrently,
 * a tenth of them cancelled at random moments; and the invariants that must hold once it is quiet.
 */
final class Workload {

    private static final int CONCURRENCY = 48;

    final int customerCount;
    final int orderCount;
    final Random random;
    final Map<UUID, Money> limits = new HashMap<>();
    final Map<UUID, UUID> customerOfOrder = new ConcurrentHashMap<>();
    final Set<UUID> cancelAttempted = ConcurrentHashMap.newKeySet();
    private final List<UUID> customers = new ArrayList<>();

    Workload(int customerCount, int orderCount, long seed) {
        this.customerCount = customerCount;
        this.orderCount = orderCount;
        this.random = new Random(seed);
    }

    /** Orders per run: 300 by default, 1,000 with {@code -Dorders.test.scale=3} or more. */
    static int scaledOrders() {
        return Integer.getInteger("orders.test.scale", 1) >= 3 ? 1_000 : 300;
    }

    void createCustomers(SagaWorld world) throws Exception {
        for (int i = 0; i < customerCount; i++) {
            Money limit = new Money(BigDecimal.valueOf(500 + random.nextInt(4_500)), "EUR");
            UUID id = world.createCustomer(limit);
            limits.put(id, limit);
            customers.add(id);
        }
    }

    /**
     * Places every order, at most {@link #CONCURRENCY} at a time; a tenth are cancelled after a random
     * pause. {@code halfway} runs (blocking, on the test thread) once half of the orders are placed.
     */
    void run(SagaWorld world, Runnable halfway) throws Exception {
        List<UUID> orders = new ArrayList<>();
        for (int i = 0; i < orderCount; i++) {
            orders.add(UUID.randomUUID());
        }
        Set<UUID> toCancel = orders.stream().filter(id -> random.nextInt(10) == 0).collect(Collectors.toSet());
        Map<UUID, Long> cancelDelay = new HashMap<>();
        Map<UUID, Money> totals = new HashMap<>();
        for (UUID order : orders) {
            customerOfOrder.put(order, customers.get(random.nextInt(customers.size())));
            totals.put(order, new Money(BigDecimal.valueOf(10 + random.nextInt(990)), "EUR"));
            cancelDelay.put(order, 1L + random.nextInt(1_500));
        }
        List<Future<?>> cancels = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger next = new AtomicInteger();
        AtomicInteger placed = new AtomicInteger();
        Promise<Void> half = Promise.promise();
        Promise<Void> all = Promise.promise();
        Runnable[] placeNext = new Runnable[1];
        placeNext[0] = () -> {
            int index = next.getAndIncrement();
            if (index >= orders.size()) {
                return;
            }
            UUID order = orders.get(index);
            world.placeOrder(order, customerOfOrder.get(order), totals.get(order)).onComplete(done -> {
                if (done.failed()) {
                    all.tryFail(done.cause());
                    return;
                }
                if (toCancel.contains(order)) {
                    Promise<Boolean> cancelled = Promise.promise();
                    cancels.add(cancelled.future());
                    world.vertx.setTimer(cancelDelay.get(order), id -> {
                        cancelAttempted.add(order);
                        world.cancel(order).onComplete(cancelled);
                    });
                }
                int count = placed.incrementAndGet();
                if (count == orders.size() / 2) {
                    half.tryComplete();
                }
                if (count == orders.size()) {
                    all.tryComplete();
                }
                placeNext[0].run();
            });
        };
        world.vertx.runOnContext(ignored -> {
            for (int i = 0; i < CONCURRENCY; i++) {
                placeNext[0].run();
            }
        });
        await(Future.any(half.future(), all.future()));
        halfway.run();
        await(all.future());
        Thread.sleep(1_600);
        await(Future.all(new ArrayList<>(cancels)));
    }

    /** What the issue requires once quiet; returns the count of orders per final status. */
    Map<OrderStatus, Integer> assertInvariants(SagaWorld world) throws Exception {
        Map<UUID, List<EventEnvelope>> streams = world.allStreams();
        Map<OrderStatus, Integer> byStatus = new EnumMap<>(OrderStatus.class);
        Map<UUID, Money> approvedSum = new HashMap<>();
        Map<UUID, Set<UUID>> approvedOf = new HashMap<>();
        for (UUID orderId : customerOfOrder.keySet()) {
            List<EventEnvelope> events = streams.get(orderId);
            assertThat(events).as("events of order %s", orderId).isNotEmpty();
            OrderState order = Order.INSTANCE.initialState();
            for (EventEnvelope envelope : events) {
                order = Order.INSTANCE.evolve(order, (OrderEvent) envelope.event());
            }
            assertThat(order.status()).as("status of order %s", orderId)
                    .isIn(OrderStatus.APPROVED, OrderStatus.REJECTED, OrderStatus.CANCELLED);
            assertThat(events.stream().filter(e -> e.event() instanceof OrderApproved
                    || e.event() instanceof OrderRejected).count()).as("decisions of order %s", orderId).isLessThanOrEqualTo(1);
            String correlation = events.getFirst().metadata().correlationId();
            assertThat(events).as("correlation of order %s's events", orderId)
                    .allSatisfy(e -> assertThat(e.metadata().correlationId()).isEqualTo(correlation));
            byStatus.merge(order.status(), 1, Integer::sum);
            if (order.status() == OrderStatus.APPROVED) {
                approvedSum.merge(order.customerId(), order.total(), Money::plus);
                approvedOf.computeIfAbsent(order.customerId(), id -> new java.util.HashSet<>()).add(orderId);
            }
        }
        for (Map.Entry<UUID, Money> customer : limits.entrySet()) {
            UUID customerId = customer.getKey();
            Money limit = customer.getValue();
            CustomerState state = Customer.INSTANCE.initialState();
            Map<UUID, Integer> reservations = new HashMap<>();
            for (EventEnvelope envelope : streams.get(customerId)) {
                state = Customer.INSTANCE.evolve(state, (CustomerEvent) envelope.event());
                assertThat(state.reserved()).as("credit of %s reserved at version %d", customerId, envelope.version())
                        .isLessThanOrEqualTo(limit);
                if (envelope.event() instanceof CreditReserved reserved) {
                    reservations.merge(reserved.orderId(), 1, Integer::sum);
                    assertCausedByOrderCreated(streams, reserved.orderId(), envelope);
                } else if (envelope.event() instanceof CreditLimitExceeded exceeded) {
                    reservations.merge(exceeded.orderId(), 1, Integer::sum);
                    assertCausedByOrderCreated(streams, exceeded.orderId(), envelope);
                }
            }
            assertThat(reservations).as("credit checks per order of %s", customerId)
                    .allSatisfy((order, times) -> assertThat(times).isEqualTo(1));
            assertThat(state.reserved()).as("credit reserved by %s", customerId)
                    .isEqualTo(approvedSum.getOrDefault(customerId, Money.zero(limit.currency())));
            assertThat(state.reservations().keySet()).as("orders holding credit of %s", customerId)
                    .isEqualTo(approvedOf.getOrDefault(customerId, Set.of()));
        }
        assertThat(world.pendingDeadlines()).as("deadlines left").isZero();
        return byStatus;
    }

    /** A credit decision is caused by its order's OrderCreated and carries the order's correlation id. */
    private static void assertCausedByOrderCreated(Map<UUID, List<EventEnvelope>> streams, UUID orderId,
                                                   EventEnvelope decision) {
        EventEnvelope created = streams.get(orderId).getFirst();
        assertThat(created.event()).isInstanceOf(OrderCreated.class);
        assertThat(decision.metadata().causationId()).isEqualTo(created.eventId().toString());
        assertThat(decision.metadata().correlationId()).isEqualTo(created.metadata().correlationId());
    }
}
