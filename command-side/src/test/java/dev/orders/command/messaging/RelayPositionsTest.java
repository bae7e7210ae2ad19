package dev.orders.command.messaging;

import dev.orders.command.messaging.TopicReader.Published;
import dev.orders.events.EventEnvelope;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.orders.command.messaging.RelayChecks.assertEveryEventOnceInStreamOrder;
import static dev.orders.command.messaging.RelayChecks.assertFeedIsGapFree;
import static dev.orders.command.messaging.RelayChecks.byPosition;
import static dev.orders.command.messaging.RelayFixture.await;
import static dev.orders.command.messaging.RelayFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Global positions without a stamp: an event's position is its place in publication order, (tx, id), which
 * no later commit can change below the transaction horizon. The relay writes no event row; the event feed
 * answers the positions Kafka carried.
 */
@DisplayName("The relay's global positions")
class RelayPositionsTest extends RelayTestBase {

    /** Counts every UPDATE of an event row, whoever makes it. */
    private static final String COUNT_EVENT_UPDATES = """
            CREATE TABLE event_updates (n bigint NOT NULL);
            INSERT INTO event_updates VALUES (0);
            CREATE FUNCTION count_event_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              UPDATE event_updates SET n = n + 1;
              RETURN NEW;
            END $$;
            CREATE TRIGGER count_event_updates BEFORE UPDATE ON events
              FOR EACH ROW EXECUTE FUNCTION count_event_update()""";

    @Test
    @DisplayName("publishes events without writing any event row a second time")
    void publishing_updates_no_event_row() {
        int total = 450;
        try (RelayFixture f = fixture()) {
            await(f.pool.query(COUNT_EVENT_UPDATES).execute());
            List<EventEnvelope> written = new ArrayList<>();
            for (int i = 0; i < 9; i++) {
                written.addAll(f.appendQuietly(UUID.randomUUID(), 0, total / 9));
            }
            f.deploy(f.settings(100), f.config.kafkaBootstrap());
            f.committed();
            eventually(LONG, "checkpoint at " + total, () -> f.checkpoint() == total);
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                assertEveryEventOnceInStreamOrder(written, reader.readUntilUnique(total, LONG));
            }
            assertThat(f.one("SELECT n FROM event_updates").getLong(0)).as("event rows updated by publishing").isZero();
            assertFeedIsGapFree(f, total);
        }
    }

    @Test
    @DisplayName("an older transaction committing after a younger one: both published once, Kafka and the feed agree on their positions")
    void older_transaction_committing_last_is_published_once_in_the_order_the_feed_reads() throws Exception {
        try (RelayFixture f = fixture()) {
            List<EventEnvelope> before = f.appendQuietly(UUID.randomUUID(), 0, 3);
            RelayVerticle relay = f.deploy(f.settings(100), f.config.kafkaBootstrap());
            eventually(LONG, "the first events published", () -> f.checkpoint() == 3);

            // A takes its transaction id first and commits last; B and C commit while A is open
            SqlConnection connectionA = await(f.pool.getConnection());
            Transaction txA = await(connectionA.begin());
            EventEnvelope eventA = await(f.append(connectionA, UUID.randomUUID(), 0, 1)).getFirst();
            EventEnvelope eventB = f.appendNow(UUID.randomUUID(), 0, 1).getFirst();
            EventEnvelope eventC = f.appendNow(UUID.randomUUID(), 0, 1).getFirst();
            eventually(Duration.ofSeconds(5), "B and C seen waiting behind A", () -> relay.metrics().unpublished() == 2);
            assertThat(f.checkpoint()).as("nothing published past an open older transaction").isEqualTo(3);
            assertThat(await(RelayChecks.feedEvents(f.pool, 3, 10))).as("the feed past the checkpoint").isEmpty();

            await(txA.commit());
            connectionA.close();
            f.committed();
            eventually(LONG, "A, B and C published", () -> f.checkpoint() == 6);
            // a relay that takes over from the checkpoint publishes nothing of it again
            f.undeploy(relay);
            f.deploy(f.settings(100), f.config.kafkaBootstrap());
            EventEnvelope eventD = f.appendNow(UUID.randomUUID(), 0, 1).getFirst();
            eventually(LONG, "D published", () -> f.checkpoint() == 7);

            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                reader.readUntilUnique(7, LONG);
                List<Published> published = byPosition(reader.readFor(Duration.ofMillis(500)));
                assertThat(published).as("records").hasSize(7);
                assertThat(TopicReader.repeats(published)).as("published twice").isEmpty();
                assertThat(published).extracting(Published::eventId).containsExactly(before.get(0).eventId(),
                        before.get(1).eventId(), before.get(2).eventId(), eventA.eventId(), eventB.eventId(),
                        eventC.eventId(), eventD.eventId());
                assertThat(published).extracting(Published::position).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
                Map<Long, UUID> fed = new LinkedHashMap<>();
                for (long after = 0; after < 7; after++) { // pages that start anywhere, even inside a batch
                    for (EventEnvelope event : await(RelayChecks.feedEvents(f.pool, after, 2))) {
                        UUID earlier = fed.putIfAbsent(event.globalPosition(), event.eventId());
                        assertThat(earlier == null || earlier.equals(event.eventId()))
                                .as("position %d read again names the same event", event.globalPosition()).isTrue();
                    }
                }
                Map<Long, UUID> onKafka = new LinkedHashMap<>();
                published.forEach(record -> onKafka.put(record.position(), record.eventId()));
                assertThat(fed).as("the feed's events at each position").isEqualTo(onKafka);
            }
            assertFeedIsGapFree(f, 7);
        }
    }

    @Test
    @DisplayName("a store upgraded from the stamping relay keeps its stamped positions and publishes the rest once, in order, after them")
    void an_upgraded_store_keeps_its_positions_and_publishes_the_rest_once() {
        List<EventEnvelope> stamped = new ArrayList<>();
        List<EventEnvelope> waiting = new ArrayList<>();
        try (RelayFixture f = RelayFixture.upgradedFrom(vertx, infra.isolatedConfig(), earlier -> {
            for (int i = 0; i < 25; i++) {
                stamped.addAll(earlier.appendQuietly(UUID.randomUUID(), 0, 10));
            }
            // the earlier relay published and stamped these 250 (gaps in row ids and an order of its own are kept)
            earlier.one("WITH published AS (SELECT id, row_number() OVER (ORDER BY tx, id) AS n FROM events)"
                    + " UPDATE events SET global_position = published.n FROM published"
                    + " WHERE events.id = published.id RETURNING 1");
            earlier.one("UPDATE relay_checkpoint SET last_position = 250 RETURNING 1");
            for (int i = 0; i < 4; i++) {
                waiting.addAll(earlier.appendQuietly(UUID.randomUUID(), 0, 10));
            }
        })) {
            Map<UUID, Long> positionsBefore = new LinkedHashMap<>();
            f.rows("SELECT event_id, global_position FROM events WHERE global_position IS NOT NULL")
                    .forEach(row -> positionsBefore.put(row.getUUID(0), row.getLong(1)));
            assertThat(positionsBefore).hasSize(250);
            List<EventEnvelope> written = new ArrayList<>(waiting);
            f.deploy(f.settings(15), f.config.kafkaBootstrap());
            written.addAll(f.appendNow(UUID.randomUUID(), 0, 10));
            eventually(LONG, "checkpoint at 300", () -> f.checkpoint() == 300);

            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = byPosition(reader.readUntilUnique(written.size(), LONG));
                assertThat(TopicReader.repeats(published)).as("published twice").isEmpty();
                assertThat(published).extracting(Published::eventId).as("the waiting events first, in write order")
                        .containsExactlyElementsOf(written.stream().map(EventEnvelope::eventId).toList());
                assertThat(published).extracting(Published::position)
                        .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(251, 300).boxed().toList());
            }
            List<EventEnvelope> feed = await(RelayChecks.feedEvents(f.pool, 0, 1_000));
            assertThat(feed).hasSize(300);
            Map<UUID, Long> fedBefore = new LinkedHashMap<>();
            feed.subList(0, 250).forEach(event -> fedBefore.put(event.eventId(), event.globalPosition()));
            assertThat(fedBefore).as("stamped positions, unchanged").isEqualTo(positionsBefore);
            assertThat(feed.subList(250, 300)).extracting(EventEnvelope::eventId)
                    .containsExactlyElementsOf(written.stream().map(EventEnvelope::eventId).toList());
            assertFeedIsGapFree(f, 300);
        }
    }
}
