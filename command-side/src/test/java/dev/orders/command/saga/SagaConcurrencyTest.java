package dev.orders.command.saga;

import dev.orders.events.EventEnvelope;
import dev.orders.events.OrderEvent.OrderApproved;
import dev.orders.events.OrderEvent.OrderCancelled;
import dev.orders.events.OrderEvent.OrderRejected;
import dev.orders.events.OrderStatus;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(SharedInfrastructure.class)
@DisplayName("The saga under concurrent load")
class SagaConcurrencyTest {

    private static final Logger LOG = LoggerFactory.getLogger(SagaConcurrencyTest.class);
    private static final Duration CREDIT_CHECK_TIMEOUT = Duration.ofSeconds(30);

    @Test
    @DisplayName("decides every order, and each customer's reserved credit is the sum of its approved orders")
    void decides_every_order_and_never_over_reserves_credit(TestInfrastructure infra) throws Exception {
        OrdersConfig config = config(infra);
        long seed = new Random().nextLong();
        Workload workload = new Workload(50, Workload.scaledOrders(), seed);
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            workload.createCustomers(world);
            workload.run(world, () -> { });
            world.awaitQuiet(Duration.ofSeconds(120));
            Map<OrderStatus, Integer> outcome = workload.assertInvariants(world);
            assertDecidedBeforeTheirDeadlines(world, workload);
            LOG.info("seed {}: {} orders ended {}; saga handled {}, skipped {}", seed, workload.orderCount, outcome,
                    service.saga.handledRecords(), service.saga.skippedRecords());
            assertThat(outcome).as("a mix of outcomes (seed %d)", seed)
                    .containsKeys(OrderStatus.APPROVED, OrderStatus.REJECTED, OrderStatus.CANCELLED);
            assertThat(service.saga.skippedRecords()).isZero();
        }
    }

    @Test
    @DisplayName("reaches the same consistent end when the service crashes halfway and restarts")
    void survives_a_crash_halfway(TestInfrastructure infra) throws Exception {
        OrdersConfig config = config(infra);
        long seed = new Random().nextLong();
        Workload workload = new Workload(50, Workload.scaledOrders(), seed);
        SagaService[] service = new SagaService[1];
        try (SagaWorld world = new SagaWorld(config)) {
            service[0] = SagaService.start(config);
            workload.createCustomers(world);
            workload.run(world, () -> {
                try {
                    long handled = service[0].saga.handledRecords();
                    service[0].crash();
                    LOG.info("crashed after the saga handled {} records; restarting", handled);
                    service[0] = SagaService.start(config);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            world.awaitQuiet(Duration.ofSeconds(120));
            Map<OrderStatus, Integer> outcome = workload.assertInvariants(world);
            assertDecidedBeforeTheirDeadlines(world, workload);
            LOG.info("seed {}: {} orders ended {} across a crash; the restarted saga handled {}", seed,
                    workload.orderCount, outcome, service[0].saga.handledRecords());
            assertThat(outcome).as("a mix of outcomes (seed %d)", seed)
                    .containsKeys(OrderStatus.APPROVED, OrderStatus.REJECTED);
        } finally {
            if (service[0] != null) {
                service[0].close();
            }
        }
    }

    private static OrdersConfig config(TestInfrastructure infra) {
        return infra.isolatedConfig().with(Map.of(
                "saga.credit-check-timeout", CREDIT_CHECK_TIMEOUT.toString(),
                "kafka.partitions", "4"));
    }

    /** No order stayed PENDING past its deadline (plus the poll interval and some slack). */
    private static void assertDecidedBeforeTheirDeadlines(SagaWorld world, Workload workload) throws Exception {
        Map<UUID, List<EventEnvelope>> streams = world.allStreams();
        for (UUID orderId : workload.customerOfOrder.keySet()) {
            List<EventEnvelope> events = streams.get(orderId);
            EventEnvelope decided = events.stream().filter(e -> e.event() instanceof OrderApproved
                            || e.event() instanceof OrderRejected || e.event() instanceof OrderCancelled)
                    .findFirst().orElseThrow();
            assertThat(Duration.between(events.getFirst().occurredAt(), decided.occurredAt()))
                    .as("time order %s was pending", orderId)
                    .isLessThan(CREDIT_CHECK_TIMEOUT.plusSeconds(3));
        }
    }
}
