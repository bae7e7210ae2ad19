package dev.orders.command.messaging;

import dev.orders.command.messaging.TopicReader.Published;
import dev.orders.events.EventEnvelope;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.command.store.AppendSignal;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.sqlclient.SqlConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

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

    /** Reads like the relay, except that one read, once asked for, holds its answer until the test lets it go. */
    private static final class HeldRead extends RelayBatches {

        final CountDownLatch holding = new CountDownLatch(1);
        private final AtomicBoolean holdNext = new AtomicBoolean();
        private final Promise<Void> release = Promise.promise();
        private volatile Context relay;

        @Override
        Future<Read> next(SqlConnection connection, long after, Cursor from, int limit) {
            Future<Read> read = super.next(connection, after, from, limit);
            if (!holdNext.compareAndSet(true, false)) {
                return read;
            }
            relay = Vertx.currentContext();
            return read.compose(answer -> {
                holding.countDown();
                return release.future().map(answer);
            });
        }

        void holdTheNextRead() {
            holdNext.set(true);
        }

        void release() {
            relay.runOnContext(ignored -> release.complete());
        }
    }

    @Test
    @DisplayName("once for the commits that land while it reads, and the read after it publishes them all")
    void once_for_the_commits_during_a_read_and_none_is_lost() throws Exception {
        AtomicInteger signals = new AtomicInteger();
        MessageConsumer<Object> counter = vertx.eventBus().localConsumer(AppendSignal.ADDRESS,
                message -> signals.incrementAndGet());
        HeldRead batches = new HeldRead();
        try (RelayFixture f = fixture()) {
            f.appendQuietly(UUID.randomUUID(), 0, 1);
            f.deploy(hourlyPoll(f), f.config.kafkaBootstrap(), batches);
            eventually(PROMPTLY, "the event found on becoming active is published", () -> f.checkpoint() == 1);
            await(counter.completion());
            signals.set(0);

            batches.holdTheNextRead();
            EventEnvelope woke = f.appendNow(UUID.randomUUID(), 0, 1).get(0);
            assertThat(batches.holding.await(PROMPTLY.toSeconds(), TimeUnit.SECONDS))
                    .as("the signal woke the relay, whose read is now held with its answer").isTrue();
            List<UUID> during = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                during.add(f.appendNow(UUID.randomUUID(), 0, 1).get(0).eventId());
            }
            batches.release();

            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = reader.readUntilUnique(7, PROMPTLY);
                assertThat(published).extracting(Published::eventId)
                        .as("the commits made after the held read's snapshot, published with no poll to find them")
                        .contains(woke.eventId()).containsAll(during);
            }
            eventually(PROMPTLY, "checkpoint at 7", () -> f.checkpoint() == 7);
            eventually(PROMPTLY, "the signals heard", () -> signals.get() >= 2);
            Thread.sleep(200);
            assertThat(signals.get()).as("one signal woke the read; the five commits during it sent one between them")
                    .isEqualTo(2);
        } finally {
            await(counter.unregister());
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
