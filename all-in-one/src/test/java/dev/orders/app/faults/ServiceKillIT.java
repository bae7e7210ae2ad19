package dev.orders.app.faults;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

import java.time.Duration;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("Fault: the service process killed with SIGKILL under load and started again")
@Order(1)
@ResourceLock(value = FaultServers.LOCK, mode = ResourceAccessMode.READ)
class ServiceKillIT {

    @Test
    void a_killed_service_started_again_loses_no_acknowledged_command_and_times_no_order_out() throws Exception {
        try (FaultScenario scenario = FaultScenario.start("kill")) {
            scenario.steady();
            scenario.service.kill();
            long killed = System.nanoTime();
            Set<UUID> beforeTheKill = scenario.acknowledgedOrders();
            scenario.service.start();
            double restartSeconds = (System.nanoTime() - killed) / 1e9;
            assertThat(restartSeconds).as("restarted within a minute").isLessThan(60);
            // the saga and the projector join their groups again at once, not once Kafka has given up on the dead members
            double settledSeconds = scenario.secondsUntilSettled(beforeTheKill, Duration.ofSeconds(60));
            assertThat(settledSeconds).as("seconds from the restart until every order acknowledged before the kill is settled")
                    .isBetween(0.0, 20.0);
            scenario.steady();
            scenario.audit();
            System.out.printf("service kill: restarted in %.1f s, orders of before the kill settled %.1f s later; %s%n",
                    restartSeconds, settledSeconds, scenario.summary());
        }
    }
}
