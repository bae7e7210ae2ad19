package dev.orders.command.messaging;

import dev.orders.command.messaging.TopicReader.Published;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import dev.orders.events.Money;
import dev.orders.events.StreamType;
import dev.orders.events.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static dev.orders.command.messaging.RelayChecks.assertEveryEventAtLeastOnceInStreamOrder;
import static dev.orders.command.messaging.RelayChecks.consumerTakes;
import static dev.orders.command.messaging.RelayFixture.await;
import static dev.orders.command.messaging.RelayFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A stream's versions reach the topic in order whatever becomes of the sends in flight: Kafka refuses the
 * stream's first event (larger than its topic takes, until the test raises the topic's limit), while the events
 * behind it are in flight, in the same relay batch or in the younger one. Nothing younger may be on the topic
 * before the refused event is, and a consumer (which skips a version it has passed, as the projector's
 * {@code Projection} and the saga's derived command ids do) takes every version once, in order.
 */
@DisplayName("The relay's order under a refused send")
class RelayOrderTest extends RelayTestBase {

    /** Larger than the topic takes at first (hex of random ids: lz4 finds little to compress). */
    private static final int LARGE_NAME = 64 * 1024;
    private static final String SMALL_LIMIT = "8192";
    private static final String DEFAULT_LIMIT = "1048588";

    @Test
    @DisplayName("a younger batch in flight behind a refused one does not reach the topic before it")
    void younger_batch_never_overtakes_a_refused_one() throws Exception {
        // batches of one event: the stream's versions go in two batches in flight at once; the broker's refusal
        // of the first is held in the producer until the second was sent
        HeldRefusal.arm();
        try {
            assertPublishedInOrder(1, Map.of("interceptor.classes", HeldRefusal.class.getName()), relay -> {
                HeldRefusal.awaitHeld(LONG);
                eventually(LONG, "the younger batch sent behind the refused one", () -> relay.metrics().inFlight() == 2);
            });
        } finally {
            HeldRefusal.release();
        }
    }

    @Test
    @DisplayName("records of one batch behind a refused one do not reach the topic before it")
    void record_behind_a_refused_one_in_the_same_batch_never_overtakes_it() throws Exception {
        assertPublishedInOrder(10, Map.of(), relay -> eventually(LONG, "a refusal",
                () -> relay.metrics().lastError() != null));
    }

    /** What the test does once the stream's events are written, before it lets the refused event fit. */
    private interface Meanwhile {
        void run(RelayVerticle relay) throws Exception;
    }

    private void assertPublishedInOrder(int batchSize, Map<String, String> overrides, Meanwhile meanwhile)
            throws Exception {
        try (RelayFixture f = fixture(); Admin admin = Admin.create(Map.of("bootstrap.servers", f.config.kafkaBootstrap()))) {
            String topic = Topics.of(f.config.kafkaTopicPrefix(), StreamType.CUSTOMER);
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)
                    .configs(Map.of("max.message.bytes", SMALL_LIMIT)))).all().get(30, TimeUnit.SECONDS);
            Map<String, String> producer = new java.util.HashMap<>(overrides);
            producer.put("batch.size", "0"); // one record per Kafka batch: the refusal is the large record's only
            RelayVerticle relay = f.deploy(f.settings(batchSize).withProducerOverrides(producer), f.config.kafkaBootstrap());
            UUID stream = UUID.randomUUID();
            List<EventEnvelope> written = events(stream, 3);
            await(f.pool.withTransaction(tx -> f.store.append(tx, StreamType.CUSTOMER, stream, 0, written)));
            f.committed();

            meanwhile.run(relay);
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic),
                    List.of(new AlterConfigOp(new ConfigEntry("max.message.bytes", DEFAULT_LIMIT),
                            AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            HeldRefusal.release();

            eventually(LONG, "all three recorded", () -> f.checkpoint() == 3);
            try (TopicReader reader = new TopicReader(f.config.kafkaBootstrap(), f.config.kafkaTopicPrefix())) {
                List<Published> published = reader.readUntilUnique(written.size(), LONG);
                assertThat(published.stream().map(Published::version).toList())
                        .as("the first record of the stream on the topic is its first version").first().isEqualTo(1L);
                assertEveryEventAtLeastOnceInStreamOrder(written, published);
                assertThat(consumerTakes(published)).as("what a consumer takes: every version once, in order")
                        .isEqualTo(Map.of(stream.toString(), List.of(1L, 2L, 3L)));
            }
        }
    }

    /** The stream's creation, too large for the topic at first, then small reservations. */
    private List<EventEnvelope> events(UUID stream, int count) {
        String name = IntStream.range(0, LARGE_NAME / 32).mapToObj(i -> UUID.randomUUID().toString().replace("-", ""))
                .collect(Collectors.joining());
        List<EventEnvelope> events = new ArrayList<>();
        LongStream.rangeClosed(1, count).forEach(version -> {
            DomainEvent event = version == 1 ? new CustomerCreated(stream, name, Money.parse("100.00", "EUR"))
                    : new CreditReserved(stream, UUID.randomUUID(), RelayFixture.ONE);
            events.add(new EventEnvelope(UUID.randomUUID(), version, 0, Instant.now(), 0,
                    new EventMetadata("corr-" + stream, null, null, null), event));
        });
        return events;
    }
}
