package dev.orders.query;

import dev.orders.events.CustomerEvent;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.EventMetadata;
import dev.orders.events.EventTypes;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import dev.orders.events.RejectionReason;
import dev.orders.events.StreamType;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.events.Topics;
import dev.orders.service.metrics.ProcessMetrics;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.micrometer.core.instrument.FunctionCounter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The projector after a crash, on real PostgreSQL and Kafka: the database's checkpoint, written with the
 * projection, decides where it resumes, not Kafka's committed offsets (committed lazily, so behind it);
 * and a batch whose transaction failed is read again, with the batch the pipeline fetched behind it. One
 * partition per topic, so offsets are plain.
 *
 * <p>The pipeline is caught mid-way deterministically: a lock on the checkpoint table holds a batch's
 * transaction in its write round trip (seen waiting in {@code pg_stat_activity}), and the consumer's own
 * meter of records consumed shows the next batch fetched meanwhile.
 */
@ExtendWith(SharedInfrastructure.class)
@DisplayName("The projector after a crash")
class ProjectorRestartTest {

    private static final Instant T0 = Instant.parse("2025-04-01T09:00:00Z");

    private final AtomicLong positions = new AtomicLong();
    private Vertx vertx;
    private OrdersConfig config;
    private QuerySide side;
    private Pool db;
    private KafkaProducer<String, byte[]> producer;

    @BeforeEach
    void start(TestInfrastructure infra) throws Exception {
        config = infra.isolatedConfig().with("kafka.partitions", "1");
        vertx = ProcessMetrics.newVertx();
        side = deploy();
        db = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(config.effectiveQueryPgUri())).using(vertx).build();
        Map<String, String> producerConfig = new HashMap<>();
        producerConfig.put("bootstrap.servers", config.kafkaBootstrap());
        producerConfig.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        producerConfig.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
        producerConfig.put("acks", "all");
        producer = KafkaProducer.create(vertx, producerConfig);
    }

    @AfterEach
    void stop() throws Exception {
        if (vertx != null) {
            await(producer.close().eventually(() -> side == null ? Future.succeededFuture() : side.close())
                    .eventually(() -> db.close()));
            await(vertx.close());
        }
    }

    private QuerySide deploy() throws Exception {
        return await(QuerySide.deploy(vertx, config, config.effectiveQueryPgUri(), config.kafkaBootstrap()));
    }

    @Test
    @DisplayName("resumes at the database checkpoint when Kafka's committed offset is behind it, and applies nothing twice")
    void resumes_at_the_database_checkpoint_not_at_the_committed_offset() throws Exception {
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        publish(envelope(customer, 1, new CustomerEvent.CustomerCreated(customer, "Ada", eur("500.00"))));
        publish(envelope(order, 1, new OrderEvent.OrderCreated(order, customer, eur("20.00"))));
        String orders = Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER);
        publishRaw(orders, customer.toString(), order.toString(), "{\"not\": \"an event\"}".getBytes(StandardCharsets.UTF_8));
        awaitThat("the poison record parked", () -> count("SELECT count(*) FROM dead_letters") == 1);
        long checkpoint = nextOffset(orders);
        assertThat(checkpoint).isEqualTo(2);

        // The crash: the projector is gone, and Kafka's offsets (committed lazily) are behind the database's.
        await(side.close());
        side = null;
        commitGroupOffset(orders, 0);
        commitGroupOffset(Topics.of(config.kafkaTopicPrefix(), StreamType.CUSTOMER), 0);
        // The operator has dealt with the parked record: re-reading it would park it again.
        execute("DELETE FROM dead_letters");
        long changesBefore = count("SELECT count(*) FROM order_changes");

        side = deploy();
        publish(envelope(order, 2, new OrderEvent.OrderApproved(order, customer)));
        awaitThat("the later event projected", () -> count("SELECT version FROM order_view WHERE order_id = '" + order + "'") == 2);

        assertThat(count("SELECT count(*) FROM dead_letters")).as("records before the checkpoint read again").isZero();
        assertThat(count("SELECT count(*) FROM order_changes")).isEqualTo(changesBefore + 1);
        assertThat(count("SELECT count(*) FROM event_log")).isEqualTo(3);
        assertThat(nextOffset(orders)).isEqualTo(checkpoint + 1);
    }

    @Test
    @DisplayName("reads a batch again whose transaction failed, once the database is back")
    void reads_a_failed_batch_again() throws Exception {
        UUID customer = projectedCustomer("Bo");
        UUID order = UUID.randomUUID();

        // Every projection transaction fails while the checkpoint table is away.
        execute("ALTER TABLE projector_checkpoint RENAME TO projector_checkpoint_away");
        publish(envelope(order, 1, new OrderEvent.OrderCreated(order, customer, eur("30.00"))));
        Thread.sleep(1_500);
        assertThat(count("SELECT count(*) FROM event_log")).as("nothing of the failed batch committed").isEqualTo(1);
        assertThat(count("SELECT count(*) FROM order_view")).isZero();

        execute("ALTER TABLE projector_checkpoint_away RENAME TO projector_checkpoint");
        awaitThat("the failed batch projected on a retry", () -> count("SELECT count(*) FROM order_view") == 1);
        assertThat(count("SELECT count(*) FROM order_changes")).isEqualTo(1);
        assertThat(nextOffset(Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER))).isEqualTo(1);
    }

    @Test
    @DisplayName("a batch that fails while the next one is already fetched is read again, and so is the fetched one")
    void a_failed_batch_is_read_again_with_the_batch_fetched_behind_it() throws Exception {
        UUID customer = projectedCustomer("Cy");
        UUID order = UUID.randomUUID();

        try (HeldCheckpoints held = holdCheckpoints()) {
            publish(envelope(order, 1, new OrderEvent.OrderCreated(order, customer, eur("40.00"))));
            held.awaitProjectorWaiting();
            // fetched while the order's batch waits: a record of the other topic, which that batch does not hold
            double consumed = consumed();
            UUID other = UUID.randomUUID();
            publish(envelope(other, 1, new CustomerEvent.CustomerCreated(other, "Di", eur("100.00"))));
            awaitThat("the next batch fetched while the first one commits", () -> consumed() >= consumed + 1);

            held.failProjector();
        }
        awaitThat("both batches projected on a retry", () -> count("SELECT count(*) FROM customer_view") == 2
                && count("SELECT count(*) FROM order_view") == 1);
        assertThat(count("SELECT count(*) FROM event_log")).isEqualTo(3);
        assertThat(count("SELECT count(*) FROM order_changes")).isEqualTo(1);
        assertThat(nextOffset(Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER))).isEqualTo(1);
        assertThat(nextOffset(Topics.of(config.kafkaTopicPrefix(), StreamType.CUSTOMER))).isEqualTo(2);
    }

    @Test
    @DisplayName("a crash while a batch commits and the next is fetched loses nothing and applies nothing twice, in each order's order")
    void a_crash_mid_pipeline_resumes_at_the_database_checkpoint() throws Exception {
        UUID customer = UUID.randomUUID();
        List<UUID> orders = List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
        publish(envelope(customer, 1, new CustomerEvent.CustomerCreated(customer, "Ed", eur("900.00"))));
        for (UUID order : orders) {
            publish(envelope(order, 1, new OrderEvent.OrderCreated(order, customer, eur("10.00"))));
        }
        awaitThat("the orders projected", () -> count("SELECT count(*) FROM order_view") == 3);
        String orderTopic = Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER);
        String customerTopic = Topics.of(config.kafkaTopicPrefix(), StreamType.CUSTOMER);

        try (HeldCheckpoints held = holdCheckpoints()) {
            publish(envelope(orders.get(0), 2, new OrderEvent.OrderApproved(orders.get(0), customer)));
            held.awaitProjectorWaiting();
            double consumed = consumed();
            publish(envelope(orders.get(1), 2, new OrderEvent.OrderApproved(orders.get(1), customer)));
            publish(envelope(customer, 2, new CustomerEvent.CreditReserved(customer, orders.get(2), eur("10.00"))));
            awaitThat("the next batch fetched while the first one commits", () -> consumed() >= consumed + 1);

            // The crash: the transaction is cut off and the process is gone, and Kafka's committed offsets are past
            // every record fetched (as if the pipeline had committed what it fetched): only the database knows.
            Future<Void> closing = side.close();
            side = null;
            while (!closing.isComplete()) {
                // every attempt of the batch until the process is gone is cut off too: none commits
                held.failProjector();
                Thread.sleep(20);
            }
            await(closing);
        }
        commitGroupOffset(orderTopic, 100);
        commitGroupOffset(customerTopic, 100);
        assertThat(nextOffset(orderTopic)).as("the cut-off batch committed nothing").isEqualTo(3);

        side = deploy();
        publish(envelope(orders.get(2), 2, new OrderEvent.OrderRejected(orders.get(2), customer,
                RejectionReason.CREDIT_LIMIT_EXCEEDED)));
        awaitThat("everything projected", () -> count("SELECT count(*) FROM event_log") == 8);
        awaitThat("the last order's change", () -> count("SELECT count(*) FROM order_changes") == 6);

        assertThat(count("SELECT count(*) FROM order_view WHERE version = 2")).isEqualTo(3);
        assertThat(count("SELECT count(*) FROM order_changes")).as("each change once").isEqualTo(6);
        assertThat(count("SELECT count(*) FROM order_changes a JOIN order_changes b ON a.order_id = b.order_id"
                + " AND a.position < b.position AND a.version >= b.version")).as("each order's versions in order").isZero();
        assertThat(nextOffset(orderTopic)).isEqualTo(6);
        assertThat(nextOffset(customerTopic)).isEqualTo(2);
    }

    @Test
    @DisplayName("folds a stream's next events on the views it wrote, and after a restart reads them once, then remembers them again")
    void folds_on_remembered_views_and_reads_them_after_a_restart() throws Exception {
        UUID customer = projectedCustomer("Eve");
        UUID order = UUID.randomUUID();
        publish(envelope(order, 1, new OrderEvent.OrderCreated(order, customer, eur("20.00"))));
        awaitThat("the order projected", () -> count("SELECT count(*) FROM order_view") == 1);
        double remembered = batches("remembered");
        double read = batches("read");

        publish(envelope(customer, 2, new CustomerEvent.CreditReserved(customer, order, eur("20.00"))));
        publish(envelope(order, 2, new OrderEvent.OrderApproved(order, customer)));
        awaitThat("the order approved", () -> count("SELECT count(*) FROM order_view WHERE status = 'APPROVED'") == 1);
        awaitThat("the credit reserved", () -> count("SELECT count(*) FROM customer_view WHERE credit_reserved = 20") == 1);
        assertThat(batches("remembered") - remembered).as("batches folded on remembered views").isPositive();
        assertThat(batches("read")).as("batches that read their views").isEqualTo(read);

        // A restart: the new projector remembers nothing, so the order's next event reads its view, once.
        await(side.close());
        side = deploy();
        publish(envelope(order, 3, new OrderEvent.OrderCancelled(order, customer)));
        awaitThat("the order cancelled", () -> count("SELECT count(*) FROM order_view WHERE status = 'CANCELLED' AND version = 3") == 1);
        assertThat(batches("read") - read).as("batches that read their views after the restart").isEqualTo(1);
        double rememberedAfterRestart = batches("remembered");
        publish(envelope(customer, 3, new CustomerEvent.CreditReleased(customer, order, eur("20.00"))));
        awaitThat("the credit released", () -> count("SELECT count(*) FROM customer_view WHERE credit_reserved = 0 AND version = 3") == 1);
        assertThat(batches("read") - read).as("the customer's view read once too").isEqualTo(2);
        publish(envelope(customer, 4, new CustomerEvent.CreditReserved(customer, UUID.randomUUID(), eur("5.00"))));
        awaitThat("the next reservation", () -> count("SELECT count(*) FROM customer_view WHERE credit_reserved = 5 AND version = 4") == 1);
        assertThat(batches("remembered") - rememberedAfterRestart).as("then folded on the view it wrote").isEqualTo(1);
        assertThat(count("SELECT count(*) FROM event_log")).isEqualTo(7);
    }

    // --- helpers -------------------------------------------------------------------------------------------

    /** A new customer, published and projected (the only one). */
    private UUID projectedCustomer(String name) throws Exception {
        UUID customer = UUID.randomUUID();
        publish(envelope(customer, 1, new CustomerEvent.CustomerCreated(customer, name, eur("500.00"))));
        awaitThat("the customer projected", () -> count("SELECT count(*) FROM customer_view") == 1);
        return customer;
    }

    private EventEnvelope envelope(UUID stream, long version, DomainEvent event) {
        return new EventEnvelope(UUID.randomUUID(), version, positions.incrementAndGet(), T0.plusSeconds(version),
                EventTypes.currentSchemaVersion(event), new EventMetadata("corr-" + stream, null, null, null), event);
    }

    /** As the relay publishes: keyed by the customer, the stream id in a header. */
    private void publish(EventEnvelope e) throws Exception {
        String topic = e.streamType() == StreamType.ORDER ? Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER)
                : Topics.of(config.kafkaTopicPrefix(), StreamType.CUSTOMER);
        publishRaw(topic, e.event().partitionKey().toString(), e.streamId().toString(), EventJson.encode(e));
    }

    private void publishRaw(String topic, String key, String streamId, byte[] value) throws Exception {
        KafkaProducerRecord<String, byte[]> record = KafkaProducerRecord.create(topic, key, value, null, 0);
        record.addHeader(Topics.HEADER_STREAM_ID, streamId);
        await(producer.send(record));
    }

    /**
     * A lock on the checkpoint table, held by a transaction of the test's own: a projection batch's transaction
     * waits for it in its write round trip (its reads done, nothing committed). Closing it releases the lock.
     */
    private HeldCheckpoints holdCheckpoints() throws Exception {
        SqlConnection conn = await(db.getConnection());
        await(conn.query("BEGIN").execute());
        await(conn.query("LOCK TABLE projector_checkpoint IN EXCLUSIVE MODE").execute());
        return new HeldCheckpoints(conn);
    }

    private final class HeldCheckpoints implements AutoCloseable {
        private static final String WAITING = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                + " AND wait_event_type = 'Lock' AND query LIKE '%projector_checkpoint%'";
        private final SqlConnection conn;

        HeldCheckpoints(SqlConnection conn) {
            this.conn = conn;
        }

        void awaitProjectorWaiting() throws InterruptedException {
            awaitThat("a projection transaction waiting for the checkpoint lock", () -> count(WAITING) > 0);
        }

        /** Ends the waiting projection transaction's session: it is rolled back, as if its process had died. */
        void failProjector() throws Exception {
            await(db.query("SELECT pg_terminate_backend(pid) FROM (" + WAITING + ") waiting").execute());
        }

        @Override
        public void close() throws Exception {
            await(conn.query("ROLLBACK").execute().eventually(conn::close));
        }
    }

    /** Projection batches committed so far, folded on {@code views} ("remembered" or "read"). */
    private double batches(String views) {
        var counter = ProcessMetrics.of(vertx).orElseThrow().find("orders.projection.batches").tag("views", views).counter();
        return counter == null ? 0 : counter.count();
    }

    /** Records the projector's consumer has fetched so far (its own Kafka meter). */
    private double consumed() {
        return ProcessMetrics.of(vertx).orElseThrow().find("kafka.consumer.fetch.manager.records.consumed.total")
                .functionCounters().stream().filter(c -> c.getId().getTag("topic") == null)
                .mapToDouble(FunctionCounter::count).sum();
    }

    /** Commits an offset for the projector's group from outside it, as a lazy commit would have left it. */
    private void commitGroupOffset(String topic, long offset) throws Exception {
        Map<String, String> consumerConfig = new HashMap<>();
        consumerConfig.put("bootstrap.servers", config.kafkaBootstrap());
        consumerConfig.put("group.id", config.projectorGroupId());
        consumerConfig.put("enable.auto.commit", "false");
        consumerConfig.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        consumerConfig.put("value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
        KafkaConsumer<String, byte[]> consumer = KafkaConsumer.create(vertx, consumerConfig);
        TopicPartition tp = new TopicPartition(topic, 0);
        await(consumer.assign(tp).compose(v -> consumer.commit(Map.of(tp, new OffsetAndMetadata(offset, null))))
                .eventually(consumer::close));
    }

    private long nextOffset(String topic) throws Exception {
        return await(db.preparedQuery("SELECT next_offset FROM projector_checkpoint WHERE topic = $1 AND partition = 0")
                .execute(Tuple.of(topic))).iterator().next().getLong(0);
    }

    private long count(String sql) {
        try {
            var rows = await(db.query(sql).execute());
            return rows.size() == 0 ? -1 : rows.iterator().next().getLong(0);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void execute(String sql) throws Exception {
        await(db.query(sql).execute());
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

    private static Money eur(String amount) {
        return Money.parse(amount, "EUR");
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
