package dev.orders.command.saga;

import dev.orders.events.EventEnvelope;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(SharedInfrastructure.class)
@DisplayName("The saga, given every event twice")
class SagaDuplicateDeliveryTest {

    @Test
    @DisplayName("ends in the very same state when the whole topic is delivered again")
    void redelivery_of_every_event_changes_nothing(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig().with(Map.of("kafka.partitions", "4"));
        long seed = new Random().nextLong();
        Workload workload = new Workload(10, 100, seed);
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            workload.createCustomers(world);
            workload.run(world, () -> { });
            world.awaitQuiet(Duration.ofSeconds(60));
            workload.assertInvariants(world);
            Map<UUID, List<EventEnvelope>> before = world.allStreams();
            long handledBefore = service.saga.handledRecords();

            int republished = world.republishAll();
            world.awaitQuiet(Duration.ofSeconds(60));

            assertThat(service.saga.handledRecords() - handledBefore).as("records the saga handled again")
                    .isGreaterThanOrEqualTo(republished);
            assertThat(world.allStreams()).as("every stream, event by event (seed %d)", seed).isEqualTo(before);
            workload.assertInvariants(world);
        }
    }
}
