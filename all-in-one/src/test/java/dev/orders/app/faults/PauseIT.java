package dev.orders.app.faults;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("Fault: the Kafka broker, then PostgreSQL, frozen with SIGSTOP for 10 s under load, then SIGCONT")
@Order(4)
@ResourceLock(value = FaultServers.LOCK, mode = ResourceAccessMode.READ_WRITE)
class PauseIT {

    /** As long as the network pause. */
    private static final Duration PAUSE = Duration.ofSeconds(10);

    /** Something that can be frozen and thawed. */
    private interface Pausable {
        void pause() throws Exception;

        void resume() throws Exception;
    }

    @Test
    void a_frozen_broker_or_database_leaves_no_duplicate_effect_and_no_stuck_consumer() throws Exception {
        try (FaultScenario scenario = FaultScenario.start("pause")) {
            String kafka = pause(scenario, "Kafka", new Pausable() {
                public void pause() throws Exception {
                    scenario.servers.kafka.pause();
                }

                public void resume() throws Exception {
                    scenario.servers.kafka.resume();
                }
            });
            String postgres = pause(scenario, "PostgreSQL", new Pausable() {
                public void pause() throws Exception {
                    scenario.servers.postgres.pause();
                }

                public void resume() throws Exception {
                    scenario.servers.postgres.resume();
                }
            });
            scenario.steady();
            scenario.audit();
            System.out.println("pause: " + kafka + postgres + scenario.summary());
        }
    }

    private static String pause(FaultScenario scenario, String what, Pausable server) throws Exception {
        scenario.steady();
        long paused = System.nanoTime();
        server.pause();
        double notReady = scenario.readiness.await(503, paused, PAUSE);
        Thread.sleep(Math.max(0, PAUSE.toMillis() - (System.nanoTime() - paused) / 1_000_000));
        server.resume();
        long resumed = System.nanoTime();
        double ready = scenario.readiness.await(200, resumed, Duration.ofSeconds(30));
        assertThat(notReady).as("seconds from freezing %s until /health/ready answers 503", what).isBetween(0.0, 8.0);
        assertThat(ready).as("seconds from thawing %s until /health/ready answers 200", what).isBetween(0.0, 10.0);
        return "%s: not ready after %.1f s, ready %.1f s after SIGCONT; ".formatted(what, notReady, ready);
    }
}
