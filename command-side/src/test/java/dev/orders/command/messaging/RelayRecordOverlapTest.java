package dev.orders.command.messaging;

import dev.orders.command.messaging.TopicReader.Published;
import dev.orders.events.EventEnvelope;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlConnection;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.orders.command.messaging.RelayFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The relay's next read does not wait for the previous batch's record: both go on the lease connection at once,
 * so a slow record (the checkpoint's row locked, the server busy) does not hold back what was committed since.
 */
@DisplayName("The relay's read")
class RelayRecordOverlapTest extends RelayTestBase {

    private static final Duration PROMPTLY = Duration.ofSeconds(20);

    /** Stores like the relay, except that the first record is held until the test lets it go. */
    private static final class HeldFirstRecord extends RelayBatches {

        final CountDownLatch holding = new CountDownLatch(1);
        private final Promise<Void> release = Promise.promise();
        private volatile Context relay;
        private boolean first = true;

        @Override
        Future<Void> store(SqlConnection connection, Batch batch) {
            if (!first) {
                return super.store(connection, batch);
            }
            first = false;
            relay = Vertx.currentContext();
            holding.countDown();
            return release.future().compose(go -> super.store(connection, batch));
        }

        /** Lets the held record go on, on the relay's context. */
        void release() {
            relay.runOnContext(ignored -> release.complete());
        }
    }

    @Test
    @DisplayName("publishes what was committed meanwhile while the batch before it is still being recorded")
    void reads_and_sends_while_the_previous_batch_is_recorded() throws Exception {
        try (RelayFixture f = fixture()) {
            HeldFirstRecord batches = new HeldFirstRecord();
            f.deploy(f.settings(100), f.config.kafkaBootstrap(), batches);
            EventEnvelope first = f.appendNow(UUID.randomUUID(), 0, 1).getFirst();
            assertThat(batches.holding.await(PROMPTLY.toSeconds(), TimeUnit.SECONDS))
                    .as("the first batch acknowledged and its record under way").isTrue();

            EventEnvelope second = f.appendNow(UUID.randomUUID(), 0, 1).getFirst();
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = reader.readUntilUnique(2, PROMPTLY);
                assertThat(published).extracting(Published::eventId).contains(first.eventId(), second.eventId());
            }
            assertThat(f.checkpoint()).as("the first record still held").isZero();

            batches.release();
            eventually(PROMPTLY, "both recorded, in order", () -> f.checkpoint() == 2);
        }
    }
}
