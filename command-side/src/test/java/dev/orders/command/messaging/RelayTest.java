package dev.orders.command.messaging;

import dev.orders.command.http.EventFeedRoutes;
import dev.orders.command.messaging.TopicReader.Published;
import dev.orders.events.EventEnvelope;
import dev.orders.devservers.Infrastructure;
import dev.orders.infra.config.OrdersConfig;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static dev.orders.command.messaging.RelayChecks.assertEveryEventAtLeastOnceInStreamOrder;
import static dev.orders.command.messaging.RelayChecks.assertEveryEventOnceInStreamOrder;
import static dev.orders.command.messaging.RelayChecks.assertFeedIsGapFree;
import static dev.orders.command.messaging.RelayChecks.byPosition;
import static dev.orders.command.messaging.RelayChecks.positionsOf;
import static dev.orders.command.messaging.RelayChecks.range;
import static dev.orders.command.messaging.RelayChecks.runWriters;
import static dev.orders.command.messaging.RelayFixture.await;
import static dev.orders.command.messaging.RelayFixture.eventually;
import static dev.orders.command.messaging.RelayFixture.sleep;
import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("The relay")
class RelayTest extends RelayTestBase {

    /** {@code -Dorders.test.scale=5} runs the randomized test with the full 10,000 events. */
    private static final int SCALE = Integer.getInteger("orders.test.scale", 1);


    @Test
    @DisplayName("publishes an event whose transaction took its id first but committed last, in id order")
    void out_of_order_commit_is_neither_skipped_nor_reordered() throws Exception {
        try (RelayFixture f = fixture()) {
            RelayVerticle relay = f.deploy(f.settings(100), f.config.kafkaBootstrap());
            UUID a = UUID.randomUUID();
            UUID b = UUID.randomUUID();
            SqlConnection connectionA = await(f.pool.getConnection());
            Transaction txA = await(connectionA.begin());
            EventEnvelope eventA = await(f.append(connectionA, a, 0, 1)).get(0);
            EventEnvelope eventB = f.appendNow(b, 0, 1).get(0);

            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                assertThat(reader.readFor(Duration.ofMillis(1500)))
                        .as("B committed, but A (older id, still open) may yet commit: nothing is safe").isEmpty();
                eventually(Duration.ofSeconds(5), "the relay sees B waiting", () -> relay.metrics().unpublished() == 1);

                await(txA.commit());
                f.committed();
                List<Published> published = byPosition(reader.readUntilUnique(2, LONG));
                assertThat(published).extracting(Published::eventId).containsExactly(eventA.eventId(), eventB.eventId());
                assertThat(published).extracting(Published::position).containsExactly(1L, 2L);

                // A transaction that is open but has not written yet holds nothing back: D, appended and
                // committed while C is open, is published before C's event, which gets the later position.
                SqlConnection connectionC = await(f.pool.getConnection());
                Transaction txC = await(connectionC.begin());
                await(connectionC.query("SELECT 1").execute());
                EventEnvelope eventD = f.appendNow(UUID.randomUUID(), 0, 1).get(0);
                assertThat(reader.readUntilUnique(3, LONG)).extracting(Published::eventId).contains(eventD.eventId());
                EventEnvelope eventC = await(f.append(connectionC, a, 1, 1)).get(0);
                await(txC.commit());
                f.committed();
                List<Published> all = byPosition(reader.readUntilUnique(4, LONG));
                assertThat(all).extracting(Published::eventId)
                        .containsExactly(eventA.eventId(), eventB.eventId(), eventD.eventId(), eventC.eventId());
                assertThat(all).extracting(Published::position).containsExactly(1L, 2L, 3L, 4L);
                assertThat(TopicReader.repeats(all)).isEmpty();
                connectionA.close();
                connectionC.close();
            }
            assertThat(f.checkpoint()).isEqualTo(4);
            eventually(Duration.ofSeconds(5), "lag gauges at zero", () -> relay.metrics().unpublished() == 0);
            assertThat(await(relay.readiness()).getString("role")).isEqualTo("active");
            assertThat(await(relay.readiness()).getLong("lastPosition")).isEqualTo(4L);
        }
    }

    @Test
    @DisplayName("publishes every event of 16 concurrent writers with random commit delays once, in stream order, gap-free")
    void concurrent_writers_with_random_commit_delays() {
        int writers = 16;
        int total = 2_000 * SCALE;
        try (RelayFixture f = fixture()) {
            long started = System.nanoTime();
            f.deploy(f.settings(200), f.config.kafkaBootstrap());
            List<EventEnvelope> written = runWriters(f, writers, total, 20);
            assertThat(written).hasSize(total);
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = reader.readUntilUnique(total, LONG);
                assertThat(TopicReader.repeats(published)).as("events published twice in one run").isEmpty();
                assertEveryEventOnceInStreamOrder(written, published);
            }
            eventually(Duration.ofSeconds(10), "checkpoint at " + total, () -> f.checkpoint() == total);
            assertThat(f.one("SELECT count(*) FROM unpublished_events").getLong(0)).isZero();
            assertFeedIsGapFree(f, total);
            System.out.printf("relay: %d events from %d writers published in %d ms%n", total, writers,
                    (System.nanoTime() - started) / 1_000_000);
        }
    }

    @Test
    @DisplayName("publishes each event's stored JSON as it is: an event stored in an older schema goes out in it and"
            + " decodes upcast; the event feed answers each with the very bytes published")
    void stored_json_passes_through() {
        try (RelayFixture f = fixture()) {
            UUID customer = UUID.randomUUID();
            UUID eventId = UUID.randomUUID();
            f.one("INSERT INTO events (event_id, stream_type, stream_id, version, event_type, schema_version, data,"
                    + " metadata, occurred_at) VALUES ($1, 'customer', $2, 1, 'CustomerCreated', 1, $3::text::jsonb,"
                    + " '{\"correlationId\": \"corr-old\"}'::jsonb, now()) RETURNING 1", eventId, customer,
                    "{\"customerId\": \"" + customer + "\", \"name\": \"Old\", \"limit\": {\"amount\": \"10.00\", \"currency\": \"EUR\"}}");
            List<EventEnvelope> written = new ArrayList<>(f.appendNow(customer, 1, 2));
            f.deploy(f.settings(100), f.config.kafkaBootstrap());
            f.committed();
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = reader.readUntilUnique(3, LONG);
                Published old = published.stream().filter(r -> r.eventId().equals(eventId)).findFirst().orElseThrow();
                assertThat(old.schemaVersionHeader()).isEqualTo("1");
                assertThat(new String(old.value(), java.nio.charset.StandardCharsets.UTF_8))
                        .contains("\"schemaVersion\":1").contains("\"limit\"");
                assertThat(old.envelope().event()).isEqualTo(new dev.orders.events.CustomerEvent.CustomerCreated(
                        customer, "Old", dev.orders.events.Money.parse("10.00", "EUR")));
                assertThat(old.correlationIdHeader()).isEqualTo("corr-old");
                assertThat(old.key()).isEqualTo(customer.toString());
                for (EventEnvelope event : written) {
                    Published record = published.stream().filter(r -> r.eventId().equals(event.eventId())).findFirst()
                            .orElseThrow();
                    EventEnvelope decoded = record.envelope();
                    assertThat(decoded.event()).isEqualTo(event.event());
                    assertThat(decoded.metadata()).isEqualTo(event.metadata());
                    assertThat(decoded.version()).isEqualTo(event.version());
                    assertThat(decoded.globalPosition()).isEqualTo(record.position());
                    assertThat(record.correlationIdHeader()).isEqualTo(event.metadata().correlationId());
                }
                eventually(Duration.ofSeconds(10), "checkpoint at 3", () -> f.checkpoint() == 3);
                RowSet<Row> rows = await(new EventFeed().readPublishedRows(f.pool, 0, 10));
                String page = EventFeedRoutes.page(rows, 0).toString();
                StringBuilder expected = new StringBuilder("{\"events\":[");
                published.stream().sorted(java.util.Comparator.comparingLong(Published::position)).forEach(record ->
                        expected.append(expected.length() > 11 ? "," : "")
                                .append(new String(record.value(), StandardCharsets.UTF_8)));
                assertThat(page).as("the feed's page: each envelope the bytes published")
                        .isEqualTo(expected.append("],\"lastPosition\":3}").toString());
            }
        }
    }

    @Test
    @DisplayName("records a batch all or nothing: a fenced batch leaves neither anchors nor a moved checkpoint")
    void recording_a_batch_is_all_or_nothing() {
        try (RelayFixture f = fixture()) {
            f.appendQuietly(UUID.randomUUID(), 0, 150);
            RelayBatches batches = new RelayBatches();
            SqlConnection connection = await(f.pool.getConnection());
            try {
                // read until the transaction horizon has passed all 150: it is the whole server's, and a
                // transaction of a test class running beside this one may hold it back for a moment
                RelayBatches.Batch batch = await(batches.next(connection, 0, RelayBatches.Cursor.START, 200)).batch();
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
                while (batch.size() < 150 && System.nanoTime() < deadline) {
                    batch = await(batches.next(connection, 0, RelayBatches.Cursor.START, 200)).batch();
                }
                assertThat(batch.size()).isEqualTo(150);
                long anchorsBefore = f.one("SELECT count(*) FROM relay_anchors").getLong(0);

                // the checkpoint moved away from where the batch was read: another relay recorded meanwhile
                f.one("UPDATE relay_checkpoint SET last_position = 3 RETURNING 1");
                assertThat(await(batches.store(connection, batch).<Throwable>map(ok -> null)
                        .otherwise(failure -> failure))).isInstanceOf(RelayBatches.FencedException.class);
                assertThat(f.checkpoint()).as("checkpoint after a fenced batch").isEqualTo(3);
                assertThat(f.one("SELECT count(*) FROM relay_anchors").getLong(0))
                        .as("anchors stored by a fenced batch").isEqualTo(anchorsBefore);

                f.one("UPDATE relay_checkpoint SET last_position = 0 RETURNING 1");
                await(batches.store(connection, batch));
                assertThat(f.checkpoint()).isEqualTo(150);
                assertThat(f.rows("SELECT position FROM relay_anchors WHERE position > 0")).extracting(r -> r.getLong(0))
                        .containsExactly(100L);

                // the same batch once more, as a second relay that read it too would record it
                assertThat(await(batches.store(connection, batch).<Throwable>map(ok -> null)
                        .otherwise(failure -> failure))).isInstanceOf(RelayBatches.FencedException.class);
                assertThat(f.checkpoint()).isEqualTo(150);
                assertThat(f.one("SELECT count(*) FROM relay_anchors").getLong(0)).isEqualTo(anchorsBefore + 1);
                assertFeedIsGapFree(f, 150);
            } finally {
                connection.close();
            }
        }
    }

    @Test
    @DisplayName("positions stamped above the checkpoint (a store from before V11) are taken back and published again, gap-free")
    void positions_stamped_above_the_checkpoint_are_taken_back_and_republished() {
        List<EventEnvelope> written = new ArrayList<>();
        // the state an instance closed in the middle of storing a batch once left behind (when the relay still
        // stamped each event, before V11): positions stamped on events, the checkpoint not moved
        try (RelayFixture f = RelayFixture.upgradedFrom(vertx, infra.isolatedConfig(), earlier -> {
            for (int i = 0; i < 3; i++) {
                written.addAll(earlier.appendNow(UUID.randomUUID(), 0, 10));
            }
            earlier.one("WITH first AS (SELECT id, row_number() OVER (ORDER BY tx, id) AS n FROM events"
                    + " ORDER BY tx, id LIMIT 7) UPDATE events SET global_position = first.n FROM first"
                    + " WHERE events.id = first.id RETURNING 1");
        })) {
            assertThat(f.checkpoint()).isZero();

            f.deploy(f.settings(50), f.config.kafkaBootstrap());
            eventually(Duration.ofSeconds(30), "checkpoint at 30", () -> f.checkpoint() == 30);
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = reader.readUntilUnique(written.size(), LONG);
                assertEveryEventOnceInStreamOrder(written, published);
            }
            assertFeedIsGapFree(f, written.size());
        }
    }

    @Test
    @DisplayName("a checkpoint ahead of the stamped positions (a store from before V11) is taken back: the unstamped events get those positions, gap-free")
    void checkpoint_ahead_of_the_stamped_positions_is_taken_back() {
        List<EventEnvelope> written = new ArrayList<>();
        Set<UUID> unstamped = new HashSet<>();
        // the state a relay of before V7 left when stopped while recording a batch: the batch's stamps
        // rolled back, the checkpoint moved on; here positions 1..10 stamped, the checkpoint at 17
        try (RelayFixture f = RelayFixture.upgradedFrom(vertx, infra.isolatedConfig(), earlier -> {
            for (int i = 0; i < 3; i++) {
                written.addAll(earlier.appendQuietly(UUID.randomUUID(), 0, 10));
            }
            earlier.one("WITH first AS (SELECT id, row_number() OVER (ORDER BY tx, id) AS n FROM events"
                    + " ORDER BY tx, id LIMIT 10) UPDATE events SET global_position = first.n FROM first"
                    + " WHERE events.id = first.id RETURNING 1");
            earlier.one("UPDATE relay_checkpoint SET last_position = 17 RETURNING 1");
            earlier.rows("SELECT event_id FROM events WHERE global_position IS NULL")
                    .forEach(r -> unstamped.add(r.getUUID(0)));
        })) {

            f.deploy(f.settings(50), f.config.kafkaBootstrap());
            eventually(Duration.ofSeconds(30), "checkpoint at 30", () -> f.checkpoint() == 30);
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = reader.readUntilUnique(20, LONG);
                assertThat(published).extracting(Published::eventId).containsExactlyInAnyOrderElementsOf(unstamped);
                assertThat(published).extracting(Published::position).containsExactlyInAnyOrderElementsOf(range(11, 30));
            }
            assertFeedIsGapFree(f, written.size());
        }
    }

    @Test
    @DisplayName("a stopping relay finishes the batches in flight: each one sent is recorded before the lease is let go")
    void stop_waits_for_the_batches_in_flight() {
        try (RelayFixture f = fixture()) {
            // batches of 10; polls rarely: it reads when signalled
            RelayVerticle relay = f.deploy(f.settings(10).withPollInterval(Duration.ofMinutes(5)),
                    f.config.kafkaBootstrap());
            UUID stream = UUID.randomUUID();
            List<EventEnvelope> written = new ArrayList<>(f.appendNow(stream, 0, 10));
            eventually(Duration.ofSeconds(30), "first batch recorded", () -> f.checkpoint() == 10);
            written.addAll(f.appendQuietly(stream, 10, 20));
            // another session, younger than those events, holds the checkpoint's row: the relay records the
            // second batch only when it lets go, and the third, acknowledged too, waits behind it
            SqlConnection holder = await(f.pool.getConnection());
            try {
                Transaction tx = await(holder.begin());
                await(holder.query("SELECT 1 FROM relay_checkpoint WHERE id = 1 FOR UPDATE").execute());
                f.committed();
                eventually(Duration.ofSeconds(30), "two batches sent, the first one's record waiting for the row lock",
                        () -> relay.metrics().inFlight() == 20 && f.one("SELECT count(*) FROM pg_stat_activity"
                                + " WHERE application_name = 'orders-relay-lease' AND wait_event_type = 'Lock'"
                                + " AND datname = current_database()")
                                .getLong(0) == 1);
                Future<Void> stopping = f.undeployLater(relay);
                sleep(500);
                assertThat(stopping.isComplete()).as("stop waits while batches are in flight").isFalse();
                await(tx.commit());
                await(stopping);
            } finally {
                holder.close();
            }
            assertThat(f.checkpoint()).as("both batches in flight recorded before the relay let go").isEqualTo(30);
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                assertEveryEventOnceInStreamOrder(written, reader.readUntilUnique(30, LONG));
            }
        }
    }

    @Test
    @DisplayName("after a crash between Kafka's ack and the checkpoint, repeats only that batch and the one sent behind it, with the same positions")
    void crash_between_ack_and_checkpoint_repeats_only_the_batches_in_flight() {
        int batch = 50;
        try (RelayFixture f = fixture()) {
            List<EventEnvelope> written = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                written.addAll(f.appendNow(UUID.randomUUID(), 0, 10));
            }
            CompletableFuture<long[]> halted = new CompletableFuture<>();
            CrashingBatches crashOnSecondBatch = new CrashingBatches(batch + 1, halted);
            RelayVerticle first = f.deploy(f.settings(batch), f.config.kafkaBootstrap(), crashOnSecondBatch);
            assertThat(halted.orTimeout(60, java.util.concurrent.TimeUnit.SECONDS).join()).containsExactly(51, 100);
            f.undeploy(first);
            assertThat(f.checkpoint()).as("the crashed batch was not checkpointed").isEqualTo(batch);

            f.deploy(f.settings(batch), f.config.kafkaBootstrap());
            // every record of the second relay is in Kafka once its checkpoint is at the end: read only then,
            // since the first relay may have published all 120 events already (the batch sent behind the
            // crashed one), and a reader that stops at 120 distinct events would miss the repeats
            eventually(Duration.ofSeconds(30), "checkpoint at 120", () -> f.checkpoint() == 120);
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = reader.readUntilUnique(written.size(), LONG);
                assertEveryEventAtLeastOnceInStreamOrder(written, published);
                Map<UUID, Integer> repeats = TopicReader.repeats(published);
                Set<Long> repeatedPositions = positionsOf(published, repeats.keySet());
                assertThat(repeatedPositions).as("the crashed batch is repeated")
                        .containsAll(range(51, 100));
                assertThat(range(51, 150)).as("nothing but the crashed batch and the one sent behind it is repeated")
                        .containsAll(repeatedPositions);
                assertThat(repeats.values()).allMatch(n -> n == 2);
                for (UUID repeated : repeats.keySet()) {
                    assertThat(positionsOf(published, Set.of(repeated))).as("positions of repeated event %s", repeated)
                            .hasSize(1);
                }
            }
        }
    }

    @Test
    @DisplayName("waits while the Kafka broker is down and then publishes everything")
    void broker_stopped_and_restarted_mid_run() throws Exception {
        int total = 1_500 * SCALE;
        try (RelayFixture f = fixture()) {
            OrdersConfig kafkaConfig = f.privateBrokerConfig();
            Infrastructure broker = Infrastructure.start(kafkaConfig);
            String bootstrap = broker.kafkaBootstrap();
            try {
                f.deploy(f.settings(100).withProducerOverrides(Map.of("delivery.timeout.ms", "4000",
                        "request.timeout.ms", "2000", "max.block.ms", "2000")), bootstrap);
                CompletableFuture<List<EventEnvelope>> writing = new CompletableFuture<>();
                Thread writer = Thread.ofVirtual().start(() -> writing.complete(runWriters(f, 8, total, 40)));
                eventually(LONG, "a third published", () -> f.checkpoint() >= total / 3);
                broker.close();
                long stoppedAt = f.checkpoint();
                sleep(6_000);
                assertThat(f.checkpoint()).as("nothing checkpointed without Kafka").isEqualTo(stoppedAt);
                broker = Infrastructure.start(kafkaConfig.with("clean", "false"));
                List<EventEnvelope> written = writing.join();
                writer.join();
                eventually(LONG, "all published after the restart", () -> f.checkpoint() == total);
                try (TopicReader reader = new TopicReader(bootstrap, f.config.kafkaTopicPrefix())) {
                    List<Published> published = reader.readUntilUnique(total, LONG);
                    assertEveryEventAtLeastOnceInStreamOrder(written, published);
                }
            } finally {
                broker.close();
            }
        }
    }

    @Test
    @DisplayName("fails over to the standby relay when the active one dies, losing nothing")
    void failover_to_the_standby_relay() {
        int batch = 50;
        int total = 1_200;
        try (RelayFixture f = fixture()) {
            RelaySettings settings = f.settings(batch);
            RelayVerticle one = f.deploy(settings, f.config.kafkaBootstrap());
            RelayVerticle two = f.deploy(settings, f.config.kafkaBootstrap());
            eventually(Duration.ofSeconds(10), "one active relay", () -> one.isActive() || two.isActive());
            assertThat(one.isActive() && two.isActive()).isFalse();
            CompletableFuture<List<EventEnvelope>> writing = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> writing.complete(runWriters(f, 8, total, 30)));

            // First failure: the active relay's database session is killed; someone must take over.
            eventually(LONG, "some published", () -> f.checkpoint() >= total / 4);
            RelayVerticle active = one.isActive() ? one : two;
            long killed = System.nanoTime();
            f.terminateLeaseHolder();
            eventually(Duration.ofSeconds(2), "the killed relay stops", () -> !active.isActive());
            eventually(Duration.ofSeconds(10), "a relay takes over", () -> one.isActive() || two.isActive());
            long firstTakeover = (System.nanoTime() - killed) / 1_000_000;

            // Second failure: the active relay is undeployed; the other one must take over.
            eventually(LONG, "more published", () -> f.checkpoint() >= total / 2);
            RelayVerticle dying = one.isActive() ? one : two;
            RelayVerticle survivor = dying == one ? two : one;
            long undeployed = System.nanoTime();
            f.undeploy(dying);
            eventually(Duration.ofSeconds(10), "the survivor takes over", survivor::isActive);
            long secondTakeover = (System.nanoTime() - undeployed) / 1_000_000;

            List<EventEnvelope> written = writing.join();
            eventually(LONG, "all published", () -> f.checkpoint() == total);
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = reader.readUntilUnique(total, LONG);
                assertEveryEventAtLeastOnceInStreamOrder(written, published);
                Map<UUID, Integer> repeats = TopicReader.repeats(published);
                assertThat(repeats.size()).as("repeats: at most the 2 batches in flight at each of the 2 failures")
                        .isLessThanOrEqualTo(2 * 2 * batch);
            }
            System.out.printf("relay failover: took over in %d ms after a killed session, %d ms after an undeploy%n",
                    firstTakeover, secondTakeover);
            assertThat(secondTakeover).isLessThan(5_000);
        }
    }

    @Test
    @DisplayName("a rolled-back append leaves no event and does not hold the relay back")
    void rolled_back_append_does_not_stall_the_relay() {
        try (RelayFixture f = fixture()) {
            RelayVerticle relay = f.deploy(f.settings(100), f.config.kafkaBootstrap());
            SqlConnection connection = await(f.pool.getConnection());
            Transaction tx = await(connection.begin());
            EventEnvelope rolledBack = await(f.append(connection, UUID.randomUUID(), 0, 1)).get(0);
            EventEnvelope kept = f.appendNow(UUID.randomUUID(), 0, 1).get(0);
            await(tx.rollback());
            connection.close();
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = reader.readUntilUnique(1, Duration.ofSeconds(10));
                assertThat(published).extracting(Published::eventId).containsExactly(kept.eventId());
                assertThat(published).extracting(Published::position).containsExactly(1L);
                assertThat(reader.readFor(Duration.ofMillis(500))).extracting(Published::eventId)
                        .doesNotContain(rolledBack.eventId());
            }
            assertThat(f.one("SELECT count(*) FROM events WHERE event_id = $1", rolledBack.eventId()).getLong(0)).isZero();
            eventually(Duration.ofSeconds(5), "nothing waits", () -> relay.metrics().unpublished() == 0);
        }
    }

    @Test
    @DisplayName("keys every record by its customer, so one customer's orders share a partition, and names the stream in a header")
    void records_are_keyed_by_customer_with_the_stream_in_a_header() {
        try (RelayFixture f = fixture()) {
            f.deploy(f.settings(100), f.config.kafkaBootstrap());
            UUID customer = UUID.randomUUID();
            UUID firstOrder = UUID.randomUUID();
            UUID secondOrder = UUID.randomUUID();
            List<EventEnvelope> written = new ArrayList<>(f.appendNow(customer, 0, 2));
            written.addAll(f.appendOrderNow(firstOrder, customer));
            written.addAll(f.appendOrderNow(secondOrder, customer));
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = reader.readUntilUnique(written.size(), LONG);
                assertEveryEventOnceInStreamOrder(written, published);
                assertThat(published).extracting(Published::key).containsOnly(customer.toString());
                Map<UUID, String> streamOf = new HashMap<>();
                written.forEach(e -> streamOf.put(e.eventId(), e.streamId().toString()));
                assertThat(published).allSatisfy(r -> assertThat(r.streamId()).isEqualTo(streamOf.get(r.eventId())));
                assertThat(published).extracting(Published::streamId)
                        .contains(customer.toString(), firstOrder.toString(), secondOrder.toString());
                assertThat(published.stream().filter(r -> !r.streamId().equals(customer.toString()))
                        .map(Published::partition).distinct().count())
                        .as("both orders of the customer on one partition").isEqualTo(1);
            }
        }
    }
}
