package dev.orders.query;

import dev.orders.events.CustomerEvent;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.EventMetadata;
import dev.orders.events.EventTypes;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import dev.orders.events.StreamType;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.events.Topics;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Records keyed by the event's partition key (the customer, for order events too), with the stream id in
 * the {@code streamId} header, as the relay publishes them: projected by their stream, and a parked one
 * filed under its stream, so that its order is marked as needing attention; and a record the read model
 * cannot store, parked on its own while the partition goes on.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The projector with customer-keyed records")
class ProjectorStreamKeyTest {

    private static final Instant T0 = Instant.parse("2025-05-01T10:00:00Z");

    private final AtomicLong positions = new AtomicLong();
    private Vertx vertx;
    private OrdersConfig config;
    private QuerySide side;
    private Pool db;
    private KafkaProducer<String, byte[]> producer;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        config = infra.isolatedConfig().with("kafka.partitions", "3");
        vertx = Vertx.vertx();
        side = await(QuerySide.deploy(vertx, config, config.effectiveQueryPgUri(), config.kafkaBootstrap()));
        db = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(config.effectiveQueryPgUri())).using(vertx).build();
        Map<String, String> producerConfig = new HashMap<>();
        producerConfig.put("bootstrap.servers", config.kafkaBootstrap());
        producerConfig.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        producerConfig.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
        producerConfig.put("acks", "all");
        producer = KafkaProducer.create(vertx, producerConfig);
    }

    @AfterAll
    void stop() throws Exception {
        if (vertx != null) {
            await(producer.close().eventually(() -> side.close()).eventually(() -> db.close()));
            await(vertx.close());
        }
    }

    @Test
    @DisplayName("a parked record is filed under its streamId header, and its order needs attention")
    void a_parked_customer_keyed_record_marks_its_order_by_the_stream_id_header() throws Exception {
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        String orders = Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER);
        byte[] approval = EventJson.encode(envelope(2, new OrderEvent.OrderApproved(order, customer)));
        byte[] mangled = new String(approval, StandardCharsets.UTF_8).replace("\"data\":{", "\"data\":[")
                .getBytes(StandardCharsets.UTF_8);

        publish(envelope(1, new CustomerEvent.CustomerCreated(customer, "Cleo", Money.parse("900.00", "EUR"))));
        publish(envelope(1, new OrderEvent.OrderCreated(order, customer, Money.parse("40.00", "EUR"))));
        publishRaw(orders, customer.toString(), order.toString(), mangled);
        publish(envelope(3, new OrderEvent.OrderCancelled(order, customer)));
        awaitThat("the order cancelled", () -> "CANCELLED".equals(orderColumn(order, "status")));

        assertThat(orderColumn(order, "needs_attention")).isEqualTo(true);
        assertThat(orderColumn(order, "version")).isEqualTo(3);
        List<Row> letters = rows("SELECT key, \"offset\" FROM dead_letters WHERE key = $1", order.toString());
        assertThat(letters).as("the parked record, filed under its order").hasSize(1);
        assertThat(rows("SELECT key FROM dead_letters WHERE key = $1", customer.toString())).isEmpty();
        Row change = rows("SELECT view FROM order_changes WHERE order_id = $1 ORDER BY position DESC LIMIT 1", order).get(0);
        assertThat(change.getJsonObject("view").getBoolean("needsAttention")).isTrue();
    }

    @Test
    @DisplayName("a record whose streamId header is not its event's stream is parked under the header's id")
    void a_record_with_another_streams_header_is_parked() throws Exception {
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        UUID elsewhere = UUID.randomUUID();
        String orders = Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER);
        publishRaw(orders, customer.toString(), elsewhere.toString(),
                EventJson.encode(envelope(1, new OrderEvent.OrderCreated(order, customer, Money.parse("5.00", "EUR")))));
        awaitThat("the record parked", () -> !rows("SELECT key FROM dead_letters WHERE key = $1", elsewhere.toString()).isEmpty());
        assertThat(rows("SELECT error FROM dead_letters WHERE key = $1", elsewhere.toString()).get(0).getString("error"))
                .contains("streamId");
        assertThat(rows("SELECT 1 FROM order_view WHERE order_id = $1", order)).isEmpty();
    }

    /**
     * One record the read model cannot store (a value past its column, a global position another event
     * holds) is parked on its own; the records around it, in the same batch and partition, are projected.
     */
    @Nested
    @DisplayName("with a record the read model cannot store")
    class Unstorable {

        @Test
        @DisplayName("an amount past Money's maximum (and the column's precision) and a version past int are parked; the records after them are projected")
        void values_the_schema_cannot_hold_are_parked_and_the_partition_goes_on() throws Exception {
            UUID customer = UUID.randomUUID();
            UUID before = UUID.randomUUID();
            UUID tooRich = UUID.randomUUID();
            UUID tooOld = UUID.randomUUID();
            UUID after = UUID.randomUUID();
            // no Money holds such an amount: the record is written past it by hand
            EventEnvelope rich = envelope(1, new OrderEvent.OrderCreated(tooRich, customer, Money.parse("10.00", "EUR")));
            publishAll(List.of(
                    envelope(1, new CustomerEvent.CustomerCreated(customer, "Ida", Money.parse("900.00", "EUR"))),
                    envelope(1, new OrderEvent.OrderCreated(before, customer, Money.parse("10.00", "EUR"))),
                    rich,
                    envelope(3_000_000_000L, new OrderEvent.OrderCreated(tooOld, customer, Money.parse("12.00", "EUR"))),
                    envelope(1, new OrderEvent.OrderCreated(after, customer, Money.parse("20.00", "EUR")))),
                    e -> e != rich ? EventJson.encode(e) : new String(EventJson.encode(e), StandardCharsets.UTF_8)
                            .replace("\"10.00\"", "\"10000000000000.00\"").getBytes(StandardCharsets.UTF_8));

            awaitThat("the order after the bad records projected", () -> orderExists(after));
            assertThat(orderExists(before)).isTrue();
            assertThat(orderExists(tooRich)).isFalse();
            assertThat(orderExists(tooOld)).isFalse();
            // parked undecoded, with the batch's checkpoints: the last write of the batch
            awaitThat("the record past the maximum parked", () -> !rows("SELECT 1 FROM dead_letters WHERE key = $1",
                    tooRich.toString()).isEmpty());
            assertThat(deadLetterError(tooRich)).contains("at most 1000000000");
            assertThat(deadLetterError(tooOld)).contains("cannot store");
            awaitThat("no record behind", () -> lagIsZero());
        }

        @Test
        @DisplayName("another event at a global position already held is parked, not taken for a duplicate")
        void a_different_event_reusing_a_global_position_is_parked() throws Exception {
            UUID customer = UUID.randomUUID();
            UUID first = UUID.randomUUID();
            UUID clashing = UUID.randomUUID();
            UUID after = UUID.randomUUID();
            EventEnvelope original = envelope(1, new OrderEvent.OrderCreated(first, customer, Money.parse("10.00", "EUR")));
            EventEnvelope sameEvent = original;
            DomainEvent other = new OrderEvent.OrderCreated(clashing, customer, Money.parse("11.00", "EUR"));
            EventEnvelope reusing = new EventEnvelope(UUID.randomUUID(), 1, original.globalPosition(), T0,
                    EventTypes.currentSchemaVersion(other), new EventMetadata("corr", null, null, null), other);
            publishAll(List.of(original, sameEvent, reusing,
                    envelope(1, new OrderEvent.OrderCreated(after, customer, Money.parse("12.00", "EUR")))));

            awaitThat("the order after the clash projected", () -> orderExists(after));
            assertThat(orderExists(first)).isTrue();
            assertThat(orderExists(clashing)).as("the event at a taken position").isFalse();
            assertThat(deadLetterError(clashing)).contains("global position").contains(Long.toString(original.globalPosition()));
            assertThat(rows("SELECT count(*) FROM dead_letters WHERE key = $1", first.toString()).get(0).getLong(0))
                    .as("the same event delivered twice is a duplicate, not a clash").isZero();
        }
    }

    // --- helpers -------------------------------------------------------------------------------------------

    private EventEnvelope envelope(long version, DomainEvent event) {
        return new EventEnvelope(UUID.randomUUID(), version, positions.incrementAndGet(), T0.plusSeconds(version % 100),
                EventTypes.currentSchemaVersion(event), new EventMetadata("corr", null, null, null), event);
    }

    /** As the relay publishes: keyed by the partition key (the customer), the stream id in a header. */
    private void publish(EventEnvelope e) throws Exception {
        publishAll(List.of(e));
    }

    private void publishRaw(String topic, String key, String streamId, byte[] value) throws Exception {
        await(producer.send(record(topic, key, streamId, value)));
    }

    private static KafkaProducerRecord<String, byte[]> record(String topic, String key, String streamId, byte[] value) {
        KafkaProducerRecord<String, byte[]> record = KafkaProducerRecord.create(topic, key, value);
        record.addHeader(Topics.HEADER_STREAM_ID, streamId);
        return record;
    }

    /** Sends records as the relay does, all at once, so that they tend to arrive in one batch. */
    private void publishAll(List<EventEnvelope> envelopes) throws Exception {
        publishAll(envelopes, EventJson::encode);
    }

    private void publishAll(List<EventEnvelope> envelopes, Function<EventEnvelope, byte[]> encoding) throws Exception {
        List<Future<?>> sent = new java.util.ArrayList<>();
        for (EventEnvelope e : envelopes) {
            String topic = e.streamType() == StreamType.ORDER ? Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER)
                    : Topics.of(config.kafkaTopicPrefix(), StreamType.CUSTOMER);
            sent.add(producer.send(record(topic, e.event().partitionKey().toString(), e.streamId().toString(),
                    encoding.apply(e))));
        }
        await(Future.all(sent));
    }

    private boolean orderExists(UUID order) {
        return !rows("SELECT 1 FROM order_view WHERE order_id = $1", order).isEmpty();
    }

    private String deadLetterError(UUID stream) {
        List<Row> letters = rows("SELECT error FROM dead_letters WHERE key = $1", stream.toString());
        assertThat(letters).as("dead letters of " + stream).hasSize(1);
        return letters.get(0).getString("error");
    }

    private boolean lagIsZero() {
        try {
            return await(side.lag()).getLong("recordsBehind") == 0;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private Object orderColumn(UUID order, String column) {
        List<Row> found = rows("SELECT " + column + " FROM order_view WHERE order_id = $1", order);
        return found.isEmpty() ? null : found.get(0).getValue(0);
    }

    private List<Row> rows(String sql, Object param) {
        try {
            List<Row> rows = new java.util.ArrayList<>();
            await(db.preparedQuery(sql).execute(Tuple.of(param))).forEach(rows::add);
            return rows;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void awaitThat(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
