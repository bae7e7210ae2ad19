package dev.orders.command.saga;

import dev.orders.events.CustomerEvent.CreditReleased;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.EventMetadata;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent.OrderApproved;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.events.OrderStatus;
import dev.orders.events.StreamType;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static dev.orders.command.saga.SagaWorld.await;
import static dev.orders.command.saga.SagaWorld.eventually;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(SharedInfrastructure.class)
@DisplayName("The saga")
class SagaRacesTest {

    private static final Money LIMIT = new Money(new BigDecimal("1000"), "EUR");
    private static final Money TOTAL = new Money(new BigDecimal("250"), "EUR");

    @Test
    @DisplayName("approves an order whose credit it reserved, each step caused by the one before")
    void approves_an_order_and_records_why(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            UUID customer = world.createCustomer(LIMIT);
            UUID order = UUID.randomUUID();
            await(world.placeOrder(order, customer, TOTAL));
            world.awaitQuiet(Duration.ofSeconds(30));

            List<EventEnvelope> orderEvents = world.events(order);
            List<EventEnvelope> customerEvents = world.events(customer);
            assertThat(orderEvents).extracting(EventEnvelope::event).hasExactlyElementsOfTypes(OrderCreated.class,
                    OrderApproved.class);
            EventEnvelope reserved = customerEvents.getLast();
            assertThat(reserved.event()).isInstanceOf(CreditReserved.class);
            assertThat(reserved.metadata().causationId()).isEqualTo(orderEvents.get(0).eventId().toString());
            assertThat(orderEvents.get(1).metadata().causationId()).isEqualTo(reserved.eventId().toString());
            assertThat(List.of(reserved, orderEvents.get(1))).allSatisfy(e ->
                    assertThat(e.metadata().correlationId()).isEqualTo("order-" + order));
            assertThat(world.customer(customer).reserved()).isEqualTo(TOTAL);
            assertThat(world.pendingDeadlines()).isZero();
        }
    }

    @Test
    @DisplayName("releases the credit of an order cancelled while pending, whose reservation came afterwards")
    void releases_a_reservation_that_arrives_after_the_cancellation(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            UUID customer = world.createCustomer(LIMIT);
            await(service.saga.pauseConsumer());
            UUID order = UUID.randomUUID();
            await(world.placeOrder(order, customer, TOTAL));
            assertThat(await(world.cancel(order))).isTrue();
            await(service.saga.resumeConsumer());
            world.awaitQuiet(Duration.ofSeconds(30));

            assertThat(world.order(order).status()).isEqualTo(OrderStatus.CANCELLED);
            assertThat(world.events(customer)).extracting(EventEnvelope::event).hasExactlyElementsOfTypes(
                    dev.orders.events.CustomerEvent.CustomerCreated.class, CreditReserved.class, CreditReleased.class);
            assertThat(world.customer(customer).reserved()).isEqualTo(Money.zero("EUR"));
            assertThat(world.pendingDeadlines()).isZero();
        }
    }

    @Test
    @DisplayName("parks an undecodable record, takes the domain's refusal of an event about a missing aggregate as its "
            + "answer, and goes on")
    void parks_poison_records_without_stalling_the_partition(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            UUID customer = world.createCustomer(LIMIT);
            UUID order = UUID.randomUUID();
            // Same key as the real order: the same partition, ahead of it.
            world.publishRaw(StreamType.ORDER, order.toString(), "{not json".getBytes(StandardCharsets.UTF_8));
            EventEnvelope orphan = new EventEnvelope(UUID.randomUUID(), 1, 0, Instant.now(), 1,
                    new EventMetadata("orphan", null, null, null), new OrderCreated(order, UUID.randomUUID(), TOTAL));
            world.publishRaw(StreamType.ORDER, order.toString(), EventJson.encode(orphan));
            eventually(Duration.ofSeconds(20), "refused", service.saga::skippedRecords, n -> n == 1);
            eventually(Duration.ofSeconds(20), "parked", () -> world.count("SELECT count(*) FROM saga_dead_letters"),
                    n -> n == 1);

            await(world.placeOrder(order, customer, TOTAL));
            eventually(Duration.ofSeconds(20), "approved", () -> world.order(order).status(),
                    status -> status == OrderStatus.APPROVED);
            world.awaitQuiet(Duration.ofSeconds(30));
            assertThat(service.saga.skippedRecords()).isEqualTo(1);
            assertThat(world.count("SELECT count(*) FROM saga_dead_letters WHERE error LIKE 'it cannot be decoded%'"))
                    .isEqualTo(1);
        }
    }
}
