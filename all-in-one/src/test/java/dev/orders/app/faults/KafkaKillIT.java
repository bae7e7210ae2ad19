package dev.orders.app.faults;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("Fault: the Kafka broker killed with SIGKILL under load and started again")
@Order(3)
@ResourceLock(value = FaultServers.LOCK, mode = ResourceAccessMode.READ_WRITE)
class KafkaKillIT {

    @Test
    void the_relay_saga_and_projector_resume_by_themselves_and_readiness_tells_the_outage() throws Exception {
        try (FaultScenario scenario = FaultScenario.start("kafka")) {
            scenario.steady();
            long killed = System.nanoTime();
            scenario.servers.kafka.kill();
            double notReady = scenario.readiness.await(503, killed, Duration.ofSeconds(30));
            assertThat(notReady).as("seconds from the kill until /health/ready answers 503").isBetween(0.0, 10.0);
            Thread.sleep(FaultScenario.OUTAGE.toMillis());
            assertThat(scenario.client.metric("orders_relay_unpublished", "")).as("the relay's backlog on /metrics while Kafka is down")
                    .hasValueSatisfying(unpublished -> assertThat(unpublished).isPositive());
            scenario.servers.kafka.start();
            long back = System.nanoTime();
            double ready = scenario.readiness.await(200, back, Duration.ofSeconds(30));
            assertThat(ready).as("seconds from the broker's return until /health/ready answers 200").isBetween(0.0, 10.0);
            scenario.steady();
            scenario.audit();
            System.out.printf("Kafka kill: not ready after %.1f s, ready %.1f s after the broker's return; %s%n",
                    notReady, ready, scenario.summary());
        }
    }
}
