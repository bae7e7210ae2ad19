package dev.orders.command.saga;

import dev.orders.command.domain.CustomerState;
import dev.orders.command.domain.OrderState;
import dev.orders.events.CustomerEvent.CreditReleased;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.EventEnvelope;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent.OrderRejected;
import dev.orders.events.OrderStatus;
import dev.orders.events.RejectionReason;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static dev.orders.command.saga.SagaWorld.await;
import static dev.orders.command.saga.SagaWorld.eventually;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(SharedInfrastructure.class)
@DisplayName("Saga deadlines")
class DeadlineTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final Money HUNDRED = new Money(new BigDecimal("100"), "EUR");

    @Test
    @DisplayName("never run while the saga has not reached the order: a backlog longer than the timeout rejects nothing")
    void a_backlog_times_nothing_out(TestInfrastructure infra) throws Exception {
        OrdersConfig config = config(infra);
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            UUID customer = world.createCustomer(new Money(new BigDecimal("1000"), "EUR"));
            await(service.saga.pauseConsumer());
            UUID order = UUID.randomUUID();
            await(world.placeOrder(order, customer, HUNDRED));

            Thread.sleep(TIMEOUT.multipliedBy(2).toMillis());
            assertThat(world.order(order).status()).as("after twice the timeout with the saga held back")
                    .isEqualTo(OrderStatus.PENDING);
            assertThat(world.deadlineRunning(order)).as("its deadline: none, the saga has not asked").isEmpty();

            await(service.saga.resumeConsumer());
            world.awaitQuiet(Duration.ofSeconds(30));
            assertThat(world.order(order).status()).isEqualTo(OrderStatus.APPROVED);
            assertThat(world.deadlineRunning(order)).as("its deadline, deleted by the customer's answer").isEmpty();
            assertThat(service.deadlines.deadlinesFired()).isZero();
        }
    }

    @Test
    @DisplayName("reject an order whose credit check the customer cannot answer, one timeout after the saga asked")
    void rejects_an_order_whose_check_goes_unanswered(TestInfrastructure infra) throws Exception {
        OrdersConfig config = config(infra);
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            UUID customer = world.createCustomer(new Money(new BigDecimal("1000"), "EUR"));
            UUID order = UUID.randomUUID();
            // an order in another currency than its customer's (the HTTP API refuses it; an older writer may not)
            await(world.placeOrder(order, customer, new Money(new BigDecimal("100"), "USD")));

            eventually(Duration.ofSeconds(10), "asked", () -> world.deadlineRunning(order), Optional.of(true)::equals);
            Instant asked = Instant.now();
            OrderState rejected = eventually(Duration.ofSeconds(10), "rejected", () -> world.order(order),
                    state -> state.status() != OrderStatus.PENDING);
            assertThat(rejected.status()).isEqualTo(OrderStatus.REJECTED);
            assertThat(rejected.reason()).isEqualTo(RejectionReason.CREDIT_CHECK_TIMEOUT);
            EventEnvelope rejection = world.events(order).getLast();
            assertThat(Duration.between(asked, rejection.occurredAt())).isGreaterThanOrEqualTo(TIMEOUT.minusMillis(500));
            assertThat(rejection.metadata().correlationId()).isEqualTo("order-" + order);
            assertThat(world.pendingDeadlines()).isZero();
            world.awaitQuiet(Duration.ofSeconds(30));
            assertThat(world.events(customer)).as("the customer's events: nothing reserved").hasSize(1);
        }
    }

    @Test
    @DisplayName("start a deadline an earlier version wrote with its order (no due time) when the question goes unanswered")
    void a_deadline_written_with_its_order_starts_when_asked(TestInfrastructure infra) throws Exception {
        OrdersConfig config = config(infra);
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            UUID customer = world.createCustomer(new Money(new BigDecimal("1000"), "EUR"));
            await(service.saga.pauseConsumer());
            UUID order = UUID.randomUUID();
            await(world.placeOrder(order, customer, new Money(new BigDecimal("100"), "USD")));
            await(world.pool.preparedQuery("""
                            INSERT INTO saga_deadlines (order_id, customer_id, due_at, correlation_id)
                            VALUES ($1, $2, NULL, $3)""")
                    .execute(io.vertx.sqlclient.Tuple.of(order, customer, "order-" + order)));
            assertThat(world.deadlineRunning(order)).as("written with the order, not running").contains(false);

            await(service.saga.resumeConsumer());
            OrderState rejected = eventually(Duration.ofSeconds(10), "rejected", () -> world.order(order),
                    state -> state.status() != OrderStatus.PENDING);
            assertThat(rejected.reason()).isEqualTo(RejectionReason.CREDIT_CHECK_TIMEOUT);
            assertThat(world.pendingDeadlines()).isZero();
        }
    }

    @Test
    @DisplayName("leave a decided order as it is when a stale deadline of it falls due, and delete that deadline")
    void a_stale_deadline_of_a_decided_order_changes_nothing(TestInfrastructure infra) throws Exception {
        OrdersConfig config = config(infra);
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            UUID customer = world.createCustomer(new Money(new BigDecimal("1000"), "EUR"));
            UUID order = UUID.randomUUID();
            await(world.placeOrder(order, customer, HUNDRED));
            eventually(Duration.ofSeconds(10), "approved", () -> world.order(order).status(), OrderStatus.APPROVED::equals);
            world.awaitQuiet(Duration.ofSeconds(30));
            assertThat(world.deadlineRunning(order)).as("its deadline, deleted by the customer's answer").isEmpty();
            int events = world.events(order).size();

            // A deadline the approval did not delete (the saga no longer deletes one with the approval), due now.
            await(world.pool.preparedQuery("""
                            INSERT INTO saga_deadlines (order_id, customer_id, due_at, correlation_id)
                            VALUES ($1, $2, now() - interval '1 second', 'stale')""")
                    .execute(io.vertx.sqlclient.Tuple.of(order, customer)));

            eventually(Duration.ofSeconds(10), "fired", () -> service.deadlines.deadlinesFired(), n -> n == 1);
            eventually(Duration.ofSeconds(10), "deleted", world::pendingDeadlines, n -> n == 0);
            assertThat(world.order(order).status()).isEqualTo(OrderStatus.APPROVED);
            assertThat(world.events(order)).as("the order's events: nothing appended by the firing").hasSize(events);
        }
    }

    @Test
    @DisplayName("survive a restart: a running deadline that fell due while no instance ran fires when one starts")
    void fires_a_deadline_across_a_restart(TestInfrastructure infra) throws Exception {
        OrdersConfig config = config(infra);
        try (SagaWorld world = new SagaWorld(config)) {
            UUID customer = world.createCustomer(new Money(new BigDecimal("1000"), "EUR"));
            UUID order = UUID.randomUUID();
            try (SagaService first = SagaService.start(config, false, Duration.ofMillis(200), Duration.ofSeconds(5))) {
                await(world.placeOrder(order, customer, HUNDRED));
                world.armDeadlines(customer, List.of(order));
            }
            Thread.sleep(TIMEOUT.plusMillis(500).toMillis());
            assertThat(world.order(order).status()).as("with no instance running").isEqualTo(OrderStatus.PENDING);

            try (SagaService second = SagaService.start(config, false, Duration.ofMillis(200), Duration.ofSeconds(5))) {
                OrderState decided = eventually(Duration.ofSeconds(10), "rejected", () -> world.order(order),
                        state -> state.status() != OrderStatus.PENDING);
                assertThat(decided.reason()).isEqualTo(RejectionReason.CREDIT_CHECK_TIMEOUT);
                assertThat(second.deadlines.deadlinesFired()).isEqualTo(1);
                eventually(Duration.ofSeconds(5), "counted", () -> second.deadlines.deadlinesPending(), n -> n == 0);

                // the late reservation, once the saga runs, is released
                second.deploySaga();
                world.awaitQuiet(Duration.ofSeconds(30));
                assertReservedThenReleased(world, customer, order);
            }
        }
    }

    @Test
    @DisplayName("fire each deadline once, though two instances poll at the same time")
    void two_instances_never_fire_a_deadline_twice(TestInfrastructure infra) throws Exception {
        OrdersConfig config = config(infra).with("saga.credit-check-timeout", "PT0.001S");
        try (SagaWorld world = new SagaWorld(config)) {
            UUID customer = world.createCustomer(new Money(new BigDecimal("1000"), "EUR"));
            List<UUID> orders = new ArrayList<>();
            List<Future<UUID>> placed = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                UUID order = UUID.randomUUID();
                orders.add(order);
                placed.add(world.placeOrder(order, customer, HUNDRED));
            }
            await(Future.all(placed));
            world.armDeadlines(customer, orders);
            try (SagaService a = SagaService.start(config, false, false, Duration.ofMillis(20), Duration.ofSeconds(30));
                 SagaService b = SagaService.start(config, false, false, Duration.ofMillis(20), Duration.ofSeconds(30))) {
                eventually(Duration.ofSeconds(20), "all fired", world::pendingDeadlines, n -> n == 0);
                // a firing is counted once its transaction's COMMIT has answered, a moment after the table
                // shows its deadline gone: wait for the count too, then it must be exactly one per order
                eventually(Duration.ofSeconds(5), "all counted",
                        () -> a.deadlines.deadlinesFired() + b.deadlines.deadlinesFired(), n -> n >= orders.size());
                assertThat(a.deadlines.deadlinesFired() + b.deadlines.deadlinesFired()).isEqualTo(orders.size());
            }
            for (UUID order : orders) {
                assertThat(world.events(order).stream().filter(e -> e.event() instanceof OrderRejected).count())
                        .as("rejections of %s", order).isEqualTo(1);
            }
        }
    }

    private static OrdersConfig config(TestInfrastructure infra) {
        return infra.isolatedConfig().with(Map.of("saga.credit-check-timeout", TIMEOUT.toString()));
    }

    private static void assertReservedThenReleased(SagaWorld world, UUID customer, UUID order) throws Exception {
        List<Object> events = world.events(customer).stream().map(EventEnvelope::event).map(Object.class::cast).toList();
        assertThat(events).as("the customer's events").hasSize(3);
        assertThat(events.get(1)).isInstanceOfSatisfying(CreditReserved.class,
                reserved -> assertThat(reserved.orderId()).isEqualTo(order));
        assertThat(events.get(2)).isInstanceOfSatisfying(CreditReleased.class,
                released -> assertThat(released.orderId()).isEqualTo(order));
        CustomerState state = world.customer(customer);
        assertThat(state.reserved()).isEqualTo(Money.zero("EUR"));
    }
}
