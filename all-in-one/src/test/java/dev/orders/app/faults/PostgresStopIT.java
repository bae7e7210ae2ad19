package dev.orders.app.faults;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("Fault: PostgreSQL stopped (fast, then immediate) under load and started again")
@Order(2)
@ResourceLock(value = FaultServers.LOCK, mode = ResourceAccessMode.READ_WRITE)
class PostgresStopIT {

    @Test
    void commands_answer_503_with_retry_after_while_postgres_is_down_and_nothing_acknowledged_is_lost() throws Exception {
        try (FaultScenario scenario = FaultScenario.start("pgstop")) {
            StringBuilder report = new StringBuilder();
            for (OwnedPostgres.StopMode mode : OwnedPostgres.StopMode.values()) {
                scenario.steady();
                int unavailableBefore = scenario.client.unavailable.get();
                long stopped = System.nanoTime();
                scenario.servers.postgres.stop(mode);
                double notReady = scenario.readiness.await(503, stopped, Duration.ofSeconds(30));
                assertThat(notReady).as("seconds from the %s stop until /health/ready answers 503", mode).isBetween(0.0, 10.0);
                Thread.sleep(FaultScenario.OUTAGE.toMillis());
                assertThat(scenario.client.unavailable.get()).as("commands answered 503 while PostgreSQL was down (%s)", mode)
                        .isGreaterThan(unavailableBefore);
                assertThat(scenario.client.metric("orders_relay_active", ""))
                        .as("the relay, its lease gone with its connection, inactive on /metrics while PostgreSQL is down (%s)", mode)
                        .hasValue(0.0);
                scenario.servers.postgres.start();
                long back = System.nanoTime();
                double ready = scenario.readiness.await(200, back, Duration.ofSeconds(30));
                assertThat(ready).as("seconds from PostgreSQL's return until /health/ready answers 200 (%s)", mode)
                        .isBetween(0.0, 10.0);
                report.append("%s: not ready after %.1f s, ready %.1f s after the return; ".formatted(mode, notReady, ready));
            }
            scenario.steady();
            scenario.audit();
            System.out.println("PostgreSQL stop: " + report + scenario.summary());
        }
    }
}
