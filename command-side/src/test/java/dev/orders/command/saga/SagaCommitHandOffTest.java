package dev.orders.command.saga;

import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.events.EventEnvelope;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent.OrderApproved;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.events.OrderStatus;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static dev.orders.command.saga.SagaWorld.await;
import static dev.orders.command.saga.SagaWorld.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The saga reacting to the events its own process commits, before the relay and Kafka bring them
 * ({@code saga.commit-handoff}), on the real PostgreSQL and broker: each event once, in its stream's order, and
 * whatever it may not take there brought by Kafka as before.
 */
@ExtendWith(SharedInfrastructure.class)
@DisplayName("The saga, handed the events its own process commits")
class SagaCommitHandOffTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Money HUNDRED = new Money(new BigDecimal("100"), "EUR");
    private static final Money THOUSAND = new Money(new BigDecimal("1000"), "EUR");

    @Test
    @DisplayName("approves an order with no relay running, then skips each event's Kafka copy once the relay runs")
    void reacts_before_kafka_and_skips_the_copies(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig().with(Map.of("saga.commit-handoff", "true"));
        try (SagaWorld world = new SagaWorld(config); SagaService service = withoutRelay(config)) {
            SagaVerticle saga = service.saga;
            long takenBefore = saga.committedTaken();
            long leftBefore = saga.committedLeft();
            long handledBefore = saga.handledRecords();
            UUID customer = SagaWorld.createCustomer(service.handler, THOUSAND);
            UUID order = await(SagaWorld.placeOrder(service.handler, UUID.randomUUID(), customer, HUNDRED));

            // nothing is published: the saga can only have had the events from the commits of its own process
            eventually(WAIT, "approved", () -> world.order(order).status(), s -> s == OrderStatus.APPROVED);
            assertThat(world.events(order)).extracting(EventEnvelope::event)
                    .hasExactlyElementsOfTypes(OrderCreated.class, OrderApproved.class);
            assertThat(world.events(customer)).extracting(EventEnvelope::event)
                    .hasExactlyElementsOfTypes(CustomerCreated.class, CreditReserved.class);
            eventually(WAIT, "every event reacted to as committed", saga::committedTaken,
                    taken -> taken == takenBefore + 4);
            assertThat(saga.committedLeft()).isEqualTo(leftBefore);
            assertThat(saga.handledRecords() - handledBefore).as("reactions").isEqualTo(4);

            service.startRelay();
            long events = world.count("SELECT count(*) FROM events");
            eventually(WAIT, "the Kafka copy of every event taken skipped", saga::committedCopiesSkipped,
                    skipped -> skipped == saga.committedTaken());
            world.awaitQuiet(WAIT);
            assertThat(saga.handledRecords()).as("reactions, each event once").isEqualTo(events);
            assertThat(world.count("SELECT count(*) FROM events")).as("nothing appended twice").isEqualTo(events);
        }
    }

    @Test
    @DisplayName("leaves a committed event that is not its stream's next known version to Kafka, which brings it in order")
    void leaves_an_event_ahead_of_its_stream_to_kafka(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig().with(Map.of("saga.commit-handoff", "true"));
        try (SagaWorld world = new SagaWorld(config); SagaService service = withoutRelay(config)) {
            SagaVerticle saga = service.saga;
            long takenBefore = saga.committedTaken();
            long leftBefore = saga.committedLeft();
            // created by another process: the saga has not seen the customer's first event (nothing is published)
            UUID customer = world.createCustomer(THOUSAND);
            UUID order = await(SagaWorld.placeOrder(service.handler, UUID.randomUUID(), customer, HUNDRED));

            // OrderCreated (version 1 of a new stream) is taken; the customer's CreditReserved (version 2 of a
            // stream whose version 1 the saga has not seen) is left to Kafka, so the order waits
            eventually(WAIT, "the reservation left to Kafka", saga::committedLeft, left -> left == leftBefore + 1);
            assertThat(saga.committedTaken()).isEqualTo(takenBefore + 1);
            assertThat(world.events(customer)).extracting(EventEnvelope::event)
                    .hasExactlyElementsOfTypes(CustomerCreated.class, CreditReserved.class);
            assertThat(world.order(order).status()).isEqualTo(OrderStatus.PENDING);

            service.startRelay();
            eventually(WAIT, "approved through Kafka", () -> world.order(order).status(),
                    s -> s == OrderStatus.APPROVED);
            world.awaitQuiet(WAIT);
            assertThat(world.events(customer)).as("one reservation, not two").extracting(EventEnvelope::event)
                    .hasExactlyElementsOfTypes(CustomerCreated.class, CreditReserved.class);
            assertThat(saga.committedCopiesSkipped()).as("the Kafka copies of the events taken")
                    .isEqualTo(saga.committedTaken());
            assertThat(saga.handledRecords() + saga.skippedRecords()).as("records reacted to, each once")
                    .isEqualTo(world.count("SELECT count(*) FROM events"));
        }
    }

    /**
     * A saga with no relay (nothing is published), once it owns its partitions and knows how many each topic has,
     * so that what its process commits from now on is taken: customers are created through its process until one
     * is (those before are left to Kafka).
     */
    private static SagaService withoutRelay(OrdersConfig config) throws Exception {
        SagaService service = SagaService.start(config, false, true, Duration.ofMillis(200), Duration.ofSeconds(5));
        try {
            long[] created = {0};
            eventually(WAIT, "the saga taking what its process commits", () -> {
                SagaWorld.createCustomer(service.handler, THOUSAND);
                created[0]++;
                return service.saga.committedTaken();
            }, taken -> taken > 0);
            // each of those customers' creation taken or left by now, none still under way
            eventually(WAIT, "every creation taken or left", () -> service.saga.committedTaken()
                    + service.saga.committedLeft(), settled -> settled == created[0]);
            return service;
        } catch (Exception | AssertionError e) {
            service.close();
            throw e;
        }
    }

    @Test
    @DisplayName("leaves what is committed while it is paused to Kafka")
    void leaves_events_committed_while_paused_to_kafka(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig().with(Map.of("saga.commit-handoff", "true"));
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            SagaVerticle saga = service.saga;
            UUID customer = SagaWorld.createCustomer(service.handler, THOUSAND);
            eventually(WAIT, "the customer's creation handled", saga::handledRecords, handled -> handled >= 1);
            await(saga.pauseConsumer());
            long leftBefore = saga.committedLeft();
            long takenBefore = saga.committedTaken();
            UUID order = await(SagaWorld.placeOrder(service.handler, UUID.randomUUID(), customer, HUNDRED));
            eventually(WAIT, "the OrderCreated left to Kafka", saga::committedLeft, left -> left == leftBefore + 1);
            assertThat(world.order(order).status()).isEqualTo(OrderStatus.PENDING);

            await(saga.resumeConsumer());
            eventually(WAIT, "approved", () -> world.order(order).status(), s -> s == OrderStatus.APPROVED);
            world.awaitQuiet(WAIT);
            assertThat(saga.committedTaken()).as("the customer's reservation and the approval, once the saga resumed")
                    .isGreaterThan(takenBefore);
            assertThat(saga.handledRecords() + saga.skippedRecords()).as("records reacted to, each once")
                    .isEqualTo(world.count("SELECT count(*) FROM events"));
        }
    }

    @Test
    @DisplayName("reacts only to what Kafka delivers when switched off")
    void takes_nothing_committed_when_switched_off(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig().with(Map.of("saga.commit-handoff", "false"));
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            UUID customer = SagaWorld.createCustomer(service.handler, THOUSAND);
            UUID order = await(SagaWorld.placeOrder(service.handler, UUID.randomUUID(), customer, HUNDRED));
            eventually(WAIT, "approved", () -> world.order(order).status(), s -> s == OrderStatus.APPROVED);
            world.awaitQuiet(WAIT);
            assertThat(service.saga.committedTaken()).isZero();
            assertThat(service.saga.committedLeft()).isZero();
            assertThat(service.saga.committedCopiesSkipped()).isZero();
        }
    }
}
