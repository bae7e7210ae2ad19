package dev.orders.command.messaging;

import dev.orders.command.messaging.TopicReader.Published;
import dev.orders.events.EventEnvelope;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.sqlclient.SqlConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static dev.orders.command.messaging.RelayFixture.await;
import static dev.orders.command.messaging.RelayFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * How the relay learns that events were committed. Every relay here polls once an hour, so only the
 * mechanism under test can explain a publication within the generous bound.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The relay is woken")
class RelayWakeTest {

    private static final Duration HOUR = Duration.ofHours(1);
    private static final Duration PROMPTLY = Duration.ofSeconds(10);

    private TestInfrastructure infra;
    private Vertx vertx;

    @BeforeAll
    void start(TestInfrastructure infra) {
        this.infra = infra;
        vertx = newVertx();
    }

    @AfterAll
    void stop() {
        await(vertx.close());
    }

    private static Vertx newVertx() {
        return Vertx.vertx(new VertxOptions().setBlockedThreadCheckInterval(200)
                .setMaxEventLoopExecuteTime(200_000_000L));
    }

    private RelayFixture fixture() {
        return new RelayFixture(vertx, infra.isolatedConfig());
    }

    private static RelaySettings hourlyPoll(RelayFixture f) {
        return f.settings(100).withPollInterval(HOUR);
    }

    @Test
    @DisplayName("by the in-process signal after a commit, and not by the commit itself (no trigger)")
    void by_the_in_process_signal_without_notify() {
        try (RelayFixture f = fixture()) {
            f.appendQuietly(UUID.randomUUID(), 0, 1);
            RelayVerticle relay = f.deploy(hourlyPoll(f), f.config.kafkaBootstrap());
            eventually(PROMPTLY, "the event found on becoming active is published", () -> f.checkpoint() == 1);

            EventEnvelope quiet = f.appendQuietly(UUID.randomUUID(), 0, 1).get(0);
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                assertThat(reader.readFor(Duration.ofSeconds(1))).extracting(Published::eventId)
                        .as("a commit alone wakes nobody: no trigger notifies").doesNotContain(quiet.eventId());
                assertThat(f.checkpoint()).isEqualTo(1);

                f.committed();
                List<Published> published = reader.readUntilUnique(2, PROMPTLY);
                assertThat(published).extracting(Published::eventId).contains(quiet.eventId());
            }
            eventually(PROMPTLY, "checkpoint at 2", () -> f.checkpoint() == 2);
            assertThat(relay.isActive()).isTrue();
        }
    }

    @Test
    @DisplayName("in another process, by the notification a standby relay's process sends after its commit")
    void in_another_process_by_the_notification_of_a_standby() {
        Vertx other = newVertx();
        try (RelayFixture f = fixture()) {
            f.appendQuietly(UUID.randomUUID(), 0, 1);
            RelayVerticle remote = new RelayVerticle(hourlyPoll(f), f.pgUri, f.config.kafkaBootstrap(), new RelayBatches());
            await(other.deployVerticle(remote));
            eventually(PROMPTLY, "the other process's relay is active and published what it found",
                    () -> remote.isActive() && f.checkpoint() == 1);
            RelayVerticle local = f.deploy(hourlyPoll(f), f.config.kafkaBootstrap());

            EventEnvelope appended = f.appendNow(UUID.randomUUID(), 0, 1).get(0);
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = reader.readUntilUnique(2, PROMPTLY);
                assertThat(published).extracting(Published::eventId).contains(appended.eventId());
            }
            eventually(PROMPTLY, "checkpoint at 2", () -> f.checkpoint() == 2);
            assertThat(local.isActive()).as("the signalled process's relay stood by").isFalse();
            assertThat(remote.isActive()).isTrue();
        } finally {
            await(other.close());
        }
    }

    @Test
    @DisplayName("within moments when an older transaction that held committed events back ends, commit or rollback")
    void when_the_transaction_holding_the_horizon_ends() {
        try (RelayFixture f = fixture()) {
            f.appendQuietly(UUID.randomUUID(), 0, 1);
            f.deploy(hourlyPoll(f), f.config.kafkaBootstrap());
            eventually(PROMPTLY, "the event found on becoming active is published", () -> f.checkpoint() == 1);
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                EventEnvelope first = heldBackUntil(f, reader, "COMMIT");
                assertThat(reader.readUntilUnique(2, PROMPTLY)).extracting(Published::eventId).contains(first.eventId());
                eventually(PROMPTLY, "checkpoint at 2", () -> f.checkpoint() == 2);

                EventEnvelope second = heldBackUntil(f, reader, "ROLLBACK");
                assertThat(reader.readUntilUnique(3, PROMPTLY)).extracting(Published::eventId).contains(second.eventId());
                eventually(PROMPTLY, "checkpoint at 3", () -> f.checkpoint() == 3);
            }
        }
    }

    /**
     * Opens a transaction that takes an id and writes nothing, appends and commits an event (signalled),
     * sees it held back, then ends the older transaction with {@code end}; nobody signals that.
     */
    private static EventEnvelope heldBackUntil(RelayFixture f, TopicReader reader, String end) {
        SqlConnection blocker = await(f.pool.getConnection());
        try {
            await(blocker.query("BEGIN").execute());
            await(blocker.query("SELECT pg_current_xact_id()").execute());
            EventEnvelope appended = f.appendNow(UUID.randomUUID(), 0, 1).get(0);
            assertThat(reader.readFor(Duration.ofSeconds(1))).extracting(Published::eventId)
                    .as("an older transaction is still running: the event is not safe yet")
                    .doesNotContain(appended.eventId());
            await(blocker.query(end).execute());
            return appended;
        } finally {
            blocker.close();
        }
    }
}
