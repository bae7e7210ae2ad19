package dev.orders.app.faults;

import dev.orders.devservers.PgProvisioner;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("Fault: the query side's schema dropped under load while clients watch, then recreated empty by an operator")
@Order(6)
@ResourceLock(value = FaultServers.LOCK, mode = ResourceAccessMode.READ)
class QuerySchemaLossIT {

    /** The refill reads every event of the scenario so far: a few hundred by default, some thousands under -Plong. */
    private static final double REFILLED_WITHIN_SECONDS = FaultScenario.SCALE > 1 ? 60 : 20;

    @Test
    void the_query_side_refills_its_schema_from_the_event_feed_and_each_watching_client_gets_one_reset() throws Exception {
        try (FaultScenario scenario = FaultScenario.start("schema")) {
            scenario.watchers().forEach(SseWatcher::expectResets);
            scenario.steady();
            awaitEveryWatcherHoldsAnId(scenario);
            int unavailableBefore = scenario.client.unavailable.get();
            long dropped = System.nanoTime();
            dropQuerySchema(scenario);
            double notReady = scenario.readiness.await(503, dropped, Duration.ofSeconds(30));
            assertThat(notReady).as("seconds from the drop until /health/ready answers 503").isBetween(0.0, 10.0);
            double noticed = awaitMetric(scenario, "orders_query_schema_intact", 0.0, dropped, Duration.ofSeconds(10));
            assertThat(noticed).as("seconds from the drop until orders_query_schema_intact is 0 on /metrics")
                    .isBetween(0.0, 10.0);
            Thread.sleep(FaultScenario.OUTAGE.toMillis());
            assertThat(scenario.client.unavailable.get()).as("reads answered 503 while the schema was gone")
                    .isGreaterThan(unavailableBefore);
            // The operator's part: the query role may not create schemas, so its schema is recreated empty for it.
            sql(scenario, "CREATE SCHEMA " + PgProvisioner.QUERY_SCHEMA + " AUTHORIZATION " + PgProvisioner.QUERY_ROLE);
            sql(scenario, "REVOKE ALL ON SCHEMA " + PgProvisioner.QUERY_SCHEMA + " FROM PUBLIC");
            long recreated = System.nanoTime();
            double ready = scenario.readiness.await(200, recreated, Duration.ofSeconds(90));
            assertThat(ready).as("seconds from the schema's return until /health/ready answers 200 (the refill included)")
                    .isBetween(0.0, REFILLED_WITHIN_SECONDS);
            assertThat(scenario.client.metric("orders_query_schema_restores_total", ""))
                    .as("restores counted on /metrics").hasValue(1.0);
            assertThat(scenario.client.metric("orders_query_schema_intact", "")).hasValue(1.0);
            scenario.steady();
            scenario.audit();
            for (SseWatcher watcher : scenario.watchers()) {
                assertThat(watcher.resets.get()).as("resets sent to the SSE client of %s, whose ids went with the change log",
                        watcher.customerId()).isEqualTo(1);
            }
            System.out.printf("query schema loss: not ready after %.1f s (metric after %.1f s), ready %.1f s after the"
                    + " schema's return; %s%n", notReady, noticed, ready, scenario.summary());
        }
    }

    /** So that every client has an id of the change log about to be lost, and must be told it is gone. */
    private static void awaitEveryWatcherHoldsAnId(FaultScenario scenario) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!scenario.watchers().stream().allMatch(SseWatcher::holdsEventId) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(scenario.watchers()).as("SSE clients that were sent an order before the fault")
                .allMatch(SseWatcher::holdsEventId);
    }

    /**
     * {@code DROP SCHEMA ... CASCADE}, again when PostgreSQL chose it as a deadlock's victim: it locks table after
     * table while the projector's transactions lock theirs in another order, as a DBA's drop would meet them.
     */
    private static void dropQuerySchema(FaultScenario scenario) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                sql(scenario, "DROP SCHEMA " + PgProvisioner.QUERY_SCHEMA + " CASCADE");
                return;
            } catch (SQLException e) {
                if (!"40P01".equals(e.getSQLState()) || attempt == 5) {
                    throw e;
                }
            }
        }
    }

    private static void sql(FaultScenario scenario, String statement) throws Exception {
        try (Connection db = scenario.superuser(); Statement sql = db.createStatement()) {
            sql.execute(statement);
        }
    }

    /** Seconds from {@code sinceNanos} until the metric reads {@code value}, -1 if it did not within {@code max}. */
    private static double awaitMetric(FaultScenario scenario, String name, double value, long sinceNanos, Duration max)
            throws InterruptedException {
        while (System.nanoTime() - sinceNanos < max.toNanos()) {
            Optional<Double> read = scenario.client.metric(name, "");
            if (read.isPresent() && read.get() == value) {
                return (System.nanoTime() - sinceNanos) / 1e9;
            }
            Thread.sleep(200);
        }
        return -1;
    }
}
