package dev.orders.command.messaging;

import dev.orders.command.messaging.TopicReader.Published;
import dev.orders.events.EventEnvelope;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static dev.orders.command.messaging.RelayChecks.assertEveryEventAtLeastOnceInStreamOrder;
import static dev.orders.command.messaging.RelayChecks.assertFeedIsGapFree;
import static dev.orders.command.messaging.RelayChecks.runWritersUntil;
import static dev.orders.command.messaging.RelayFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The relay failover, again and again under load: two relays, writers appending all the while, the active
 * relay's session killed and then the active relay stopped (a new standby deployed in its place); every
 * event must reach Kafka in stream order with gap-free positions, every round. Five rounds by default,
 * fifty with {@code -Plong} ({@code orders.test.scale} 10).
 */
@DisplayName("The relay failover")
class RelayFailoverTest extends RelayTestBase {

    private static final int ROUNDS = 5 * Integer.getInteger("orders.test.scale", 1);
    /** Events published before the writers stop: a third before the kill, two thirds before the stop. */
    private static final int EVENTS = 300;
    private static final int BATCH = 25;


    @TestFactory
    @DisplayName("kill and stop the active relay under concurrent appends: every event published, positions gap-free, every round")
    Stream<DynamicTest> failover_under_load_again_and_again() {
        return IntStream.rangeClosed(1, ROUNDS).mapToObj(round -> DynamicTest.dynamicTest(
                "round " + round + " of " + ROUNDS, this::oneRound));
    }

    private void oneRound() {
        long started = System.nanoTime();
        try (RelayFixture f = fixture()) {
            RelaySettings settings = f.settings(BATCH);
            List<RelayVerticle> relays = new ArrayList<>(List.of(f.deploy(settings, f.config.kafkaBootstrap()),
                    f.deploy(settings, f.config.kafkaBootstrap())));
            AtomicBoolean enough = new AtomicBoolean();
            CompletableFuture<List<EventEnvelope>> writing = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    writing.complete(runWritersUntil(f, 6, 15, enough::get));
                } catch (Throwable e) {
                    writing.completeExceptionally(e);
                }
            });

            // the active relay's database session is killed: the other one takes over
            eventually(LONG, "a third published", () -> f.checkpoint() >= EVENTS / 3);
            RelayVerticle killed = active(relays);
            f.terminateLeaseHolder();
            eventually(Duration.ofSeconds(5), "the killed relay knows it", () -> !killed.isActive());
            eventually(Duration.ofSeconds(15), "a relay takes over after the kill", () -> active(relays) != null);

            // the active relay is stopped mid-run; a new standby replaces it
            eventually(LONG, "two thirds published", () -> f.checkpoint() >= 2 * EVENTS / 3);
            RelayVerticle stopped = active(relays);
            relays.remove(stopped);
            f.undeploy(stopped);
            relays.add(f.deploy(settings, f.config.kafkaBootstrap()));
            eventually(Duration.ofSeconds(15), "a relay takes over after the stop", () -> active(relays) != null);

            eventually(LONG, "the survivor publishing", () -> f.checkpoint() >= EVENTS);
            enough.set(true);
            List<EventEnvelope> written = writing.join();
            int total = written.size();
            eventually(LONG, "all published", () -> f.checkpoint() == total);
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = reader.readUntilUnique(total, LONG);
                assertEveryEventAtLeastOnceInStreamOrder(written, published);
            }
            assertFeedIsGapFree(f, total);
            assertThat(relays.stream().filter(RelayVerticle::isActive)).as("one active relay").hasSize(1);
        }
        System.out.printf("relay failover round: %d ms%n", (System.nanoTime() - started) / 1_000_000);
    }

    /** The active relay of those deployed, or null while none is. */
    private static RelayVerticle active(List<RelayVerticle> relays) {
        return relays.stream().filter(RelayVerticle::isActive).findFirst().orElse(null);
    }
}
