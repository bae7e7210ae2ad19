package dev.orders.query;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.StreamType;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.query.messaging.Projector;
import dev.orders.events.Topics;
import dev.orders.query.model.CustomerView;
import dev.orders.query.model.OrderView;
import dev.orders.query.store.ProjectionStore;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.admin.ConsumerGroupDescription;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The projector at scale on real PostgreSQL and Kafka, with events published as the relay publishes
 * them: two instances in one consumer group with one halted midway, and poison records among many good
 * ones. {@code -Dorders.test.scale=10} runs them at the full size (20,000 and 10,000 events).
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@DisplayName("The projector at scale")
class ProjectorScaleTest {

    private static final Logger LOG = LoggerFactory.getLogger(ProjectorScaleTest.class);
    private static final boolean FULL_SCALE = Integer.getInteger("orders.test.scale", 1) >= 10;
    private static final int BATCH = 100;

    private Vertx vertx;
    private OrdersConfig config;
    private QuerySide side;
    private KafkaProducer<String, byte[]> producer;
    private KafkaAdminClient admin;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        config = infra.isolatedConfig().with("kafka.partitions", "3");
        vertx = Vertx.vertx();
        side = await(QuerySide.deploy(vertx, config, config.effectiveQueryPgUri(), config.kafkaBootstrap(),
                new QueryOptions(Duration.ofSeconds(5), BATCH, 1)));
        Map<String, String> producerConfig = new HashMap<>();
        producerConfig.put("bootstrap.servers", config.kafkaBootstrap());
        producerConfig.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        producerConfig.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
        producerConfig.put("acks", "all");
        producerConfig.put("linger.ms", "5");
        producer = KafkaProducer.create(vertx, producerConfig);
        admin = KafkaAdminClient.create(vertx, Map.of("bootstrap.servers", config.kafkaBootstrap()));
    }

    @AfterAll
    void stop() throws Exception {
        if (vertx != null) {
            admin.close();
            await(producer.close().eventually(() -> side.close()));
            await(vertx.close());
        }
    }

    /** A second projector in the same consumer group, in its own Vert.x instance with its own pool. */
    private record Instance(Vertx vertx, Pool pool) {
        static Instance start(OrdersConfig config) throws Exception {
            Vertx vertx = Vertx.vertx();
            Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(4))
                    .connectingTo(PgConnectOptions.fromUri(config.effectiveQueryPgUri())).using(vertx).build();
            await(vertx.deployVerticle(new Projector(new ProjectionStore(vertx, pool), config.kafkaBootstrap(),
                    config.kafkaTopicPrefix(), config.projectorGroupId(), BATCH)));
            return new Instance(vertx, pool);
        }

        /** Halts abruptly: the whole Vert.x instance goes, an open transaction with its connection. */
        void halt() throws Exception {
            await(vertx.close());
        }
    }

    /** Every good event published by the tests so far: the event store a rebuild reads. */
    private final List<EventEnvelope> store = new ArrayList<>();

    @Test
    @Order(1)
    @DisplayName("two projectors in one group, one halted midway and restarted: every row equals the fold of its events")
    void two_projectors_one_halted() throws Exception {
        int n = FULL_SCALE ? 20_000 : 2_000;
        EventStreams streams = EventStreams.generate(n, 42, 1);
        List<EventEnvelope> events = streams.events();
        store.addAll(events);
        long started = System.nanoTime();

        Instance second = Instance.start(config);
        awaitThat("two members in the projector group", () -> groupMembers() == 2);

        List<EventEnvelope> firstHalf = events.subList(0, n / 2);
        List<EventEnvelope> secondHalf = events.subList(n / 2, n);
        publish(firstHalf);
        awaitThat("a quarter projected", () -> eventLogCount() >= n / 4);
        second.halt();
        LOG.info("second projector halted with {} of {} events projected", eventLogCount(), n);
        publish(secondHalf);
        // Redeliveries: every 50th event again, as a producer retry or a relay restart would.
        List<EventEnvelope> again = new ArrayList<>();
        for (int i = 0; i < n; i += 50) {
            again.add(events.get(i));
        }
        publish(again);
        Thread.sleep(200);
        Instance restarted = Instance.start(config);
        try {
            awaitThat("every event projected, lag 0", () -> eventLogCount() == n && recordsBehind() == 0);
            assertViewsEqualFold(streams, Set.of());
            assertThat(scalar("SELECT count(*) FROM dead_letters")).isZero();
            assertEveryOrderPushedAtItsVersion();
            assertThat(scalar("SELECT count(*) FROM order_changes")).isEqualTo(
                    events.stream().filter(e -> e.streamType() == StreamType.ORDER).count());
        } finally {
            restarted.halt();
        }
        LOG.info("{} events with a halted projector in {} ms", n, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    @Test
    @Order(2)
    @DisplayName("an undecodable and an unknown-type record among many: the rest projected, both parked, lag back to 0")
    void poison_at_scale() throws Exception {
        int n = FULL_SCALE ? 10_000 : 1_000;
        EventStreams streams = EventStreams.generate(n, 7, 10_000_000);
        List<EventEnvelope> events = streams.events();
        store.addAll(events);
        long logBefore = eventLogCount();
        long started = System.nanoTime();
        String orderTopic = Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER);

        List<UUID> orderIds = events.stream().filter(e -> e.streamType() == StreamType.ORDER)
                .map(EventEnvelope::streamId).distinct().toList();
        UUID undecodable = orderIds.get(orderIds.size() / 3);
        UUID unknown = orderIds.get(2 * orderIds.size() / 3);
        JsonObject teleported = new JsonObject(io.vertx.core.buffer.Buffer.buffer(EventJson.encode(events.stream()
                .filter(e -> e.streamId().equals(unknown)).findFirst().orElseThrow())))
                .put("type", "OrderTeleported").put("version", 99).put("eventId", UUID.randomUUID().toString());

        List<Future<?>> sent = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            if (i == n / 3) {
                sent.add(send(orderTopic, undecodable.toString(), "{\"eventId\": oops".getBytes(StandardCharsets.UTF_8)));
            }
            if (i == 2 * n / 3) {
                sent.add(send(orderTopic, unknown.toString(), teleported.encode().getBytes(StandardCharsets.UTF_8)));
            }
            sent.add(send(events.get(i)));
        }
        await(Future.all(sent));

        awaitThat("every good event projected, lag 0", () -> eventLogCount() == logBefore + n && recordsBehind() == 0);
        assertViewsEqualFold(streams, Set.of(undecodable, unknown));
        List<Row> parked = new ArrayList<>();
        await(side.pool().preparedQuery("SELECT topic, partition, \"offset\", key, error FROM dead_letters"
                        + " WHERE key = ANY($1) ORDER BY id")
                .execute(Tuple.of((Object) new String[]{undecodable.toString(), unknown.toString()})))
                .forEach(parked::add);
        assertThat(parked).hasSize(2);
        for (Row row : parked) {
            assertThat(row.getString("topic")).isEqualTo(orderTopic);
            assertThat(row.getInteger("partition")).isBetween(0, 2);
            assertThat(row.getLong("offset")).isNotNegative();
            assertThat(row.getString("error")).isNotBlank();
        }
        assertThat(parked.stream().filter(row -> row.getString("key").equals(unknown.toString())).findFirst()
                .orElseThrow().getString("error")).contains("OrderTeleported");
        assertThat(parked.stream().filter(row -> row.getString("key").equals(undecodable.toString())).findFirst()
                .orElseThrow().getString("error")).contains("JSON");
        for (UUID poisoned : List.of(undecodable, unknown)) {
            assertThat(scalar("SELECT count(*) FROM order_view WHERE needs_attention AND order_id = '" + poisoned + "'"))
                    .as("order %s needs attention", poisoned).isEqualTo(1);
        }
        assertThat(await(side.lag()).getLong("recordsBehind")).isZero();
        LOG.info("{} events and 2 poison records in {} ms", n, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    @Test
    @Order(3)
    @DisplayName("a rebuild of everything from an event feed equals the live projection, parked orders included")
    void rebuild_at_scale() throws Exception {
        awaitThat("lag 0", () -> recordsBehind() == 0);
        List<String> before = tableRows();
        long changes = scalar("SELECT count(*) FROM order_changes");
        List<byte[]> feed = store.stream().sorted(java.util.Comparator.comparingLong(EventEnvelope::globalPosition))
                .map(EventJson::encode).toList();
        long[] positions = store.stream().mapToLong(EventEnvelope::globalPosition).sorted().toArray();
        io.vertx.core.http.HttpServer server = await(vertx.createHttpServer().requestHandler(request -> {
            long after = Long.parseLong(request.getParam("after"));
            int limit = Integer.parseInt(request.getParam("limit"));
            int from = java.util.Arrays.binarySearch(positions, after);
            from = from >= 0 ? from + 1 : -from - 1;
            int to = Math.min(feed.size(), from + limit);
            io.vertx.core.buffer.Buffer body = io.vertx.core.buffer.Buffer.buffer("{\"events\":[");
            for (int i = from; i < to; i++) {
                body.appendString(i > from ? "," : "").appendBytes(feed.get(i));
            }
            body.appendString("],\"lastPosition\":" + (to > from ? positions[to - 1] : after) + "}");
            request.response().putHeader("Content-Type", "application/json").end(body);
        }).listen(0, "127.0.0.1"));
        dev.orders.query.rebuild.Rebuilder rebuilder = new dev.orders.query.rebuild.Rebuilder(vertx,
                PgConnectOptions.fromUri(config.effectiveQueryPgUri()), "http://127.0.0.1:" + server.actualPort(), 1000,
                () -> "a token the fake feed does not check");
        try {
            rebuilder.start();
            awaitThat("the rebuild done", () -> !rebuilder.running());
            JsonObject status = rebuilder.status();
            LOG.info("rebuild of {} events: {}", feed.size(), status.encode());
            assertThat(status.getString("state")).as(status.encode()).isEqualTo("DONE");
            assertThat(status.getLong("eventsRead")).isEqualTo(feed.size());
            assertThat(status.getJsonObject("switch").getLong("ordersDiffering")).isZero();
            assertThat(status.getJsonObject("switch").getLong("customersDiffering")).isZero();
            assertThat(tableRows()).isEqualTo(before);
            assertThat(scalar("SELECT count(*) FROM order_changes")).isEqualTo(changes);
        } finally {
            await(rebuilder.close());
            await(server.close());
        }
    }

    private List<String> tableRows() throws Exception {
        List<String> rows = new ArrayList<>();
        for (String query : List.of("SELECT t::text FROM order_view t ORDER BY order_id",
                "SELECT t::text FROM customer_view t ORDER BY customer_id",
                "SELECT t::text FROM event_log t ORDER BY global_position")) {
            await(side.pool().query(query).execute()).forEach(row -> rows.add(row.getString(0)));
        }
        return rows;
    }

    // --- helpers -------------------------------------------------------------------------------------------

    /** Every view row of these streams equals the fold of its events; {@code attention} also need attention. */
    private void assertViewsEqualFold(EventStreams streams, Set<UUID> attention) throws Exception {
        Map<UUID, OrderView> orders = streams.orders();
        Map<UUID, CustomerView> customers = streams.customers();
        Map<UUID, String> orderRows = new HashMap<>();
        await(side.pool().preparedQuery("SELECT * FROM order_view WHERE order_id = ANY($1)")
                .execute(Tuple.of((Object) orders.keySet().toArray(UUID[]::new))))
                .forEach(row -> orderRows.put(row.getUUID("order_id"), orderRow(row)));
        Map<UUID, String> expectedOrders = new HashMap<>();
        orders.forEach((id, view) -> expectedOrders.put(id, orderRow(attention.contains(id) ? view.withNeedsAttention(true)
                : view)));
        assertThat(orderRows).isEqualTo(expectedOrders);

        Map<UUID, String> customerRows = new HashMap<>();
        await(side.pool().preparedQuery("SELECT * FROM customer_view WHERE customer_id = ANY($1)")
                .execute(Tuple.of((Object) customers.keySet().toArray(UUID[]::new))))
                .forEach(row -> customerRows.put(row.getUUID("customer_id"), row.getString("name") + "|"
                        + row.getBigDecimal("credit_limit").toPlainString() + "|"
                        + row.getBigDecimal("credit_reserved").toPlainString() + "|" + row.getString("currency") + "|"
                        + row.getInteger("version")));
        Map<UUID, String> expectedCustomers = new HashMap<>();
        customers.forEach((id, c) -> expectedCustomers.put(id, c.name() + "|" + c.creditLimit().amount().setScale(2).toPlainString()
                + "|" + c.creditReserved().amount().setScale(2).toPlainString() + "|" + c.creditLimit().currency() + "|"
                + c.version()));
        assertThat(customerRows).isEqualTo(expectedCustomers);
    }

    private static String orderRow(Row row) {
        return row.getUUID("customer_id") + "|" + row.getString("status") + "|" + row.getBigDecimal("total_amount").toPlainString()
                + "|" + row.getString("currency") + "|" + row.getString("reason") + "|" + row.getInteger("version") + "|"
                + row.getOffsetDateTime("created_at").toInstant() + "|" + row.getOffsetDateTime("updated_at").toInstant()
                + "|" + row.getBoolean("needs_attention");
    }

    private static String orderRow(OrderView v) {
        return v.customerId() + "|" + v.status() + "|" + v.total().amount().setScale(2).toPlainString() + "|"
                + v.total().currency() + "|" + (v.reason() == null ? null : v.reason().name()) + "|" + v.version() + "|"
                + v.createdAt() + "|" + v.updatedAt() + "|" + v.needsAttention();
    }

    private void assertEveryOrderPushedAtItsVersion() throws Exception {
        assertThat(scalar("""
                SELECT count(*) FROM order_view v
                  LEFT JOIN (SELECT DISTINCT ON (order_id) order_id, version FROM order_changes
                              ORDER BY order_id, position DESC) c ON c.order_id = v.order_id
                 WHERE c.version IS DISTINCT FROM v.version""")).isZero();
    }

    private void publish(List<EventEnvelope> envelopes) throws Exception {
        List<Future<?>> sent = new ArrayList<>();
        envelopes.forEach(e -> sent.add(send(e)));
        await(Future.all(sent));
    }

    private Future<?> send(EventEnvelope e) {
        String topic = e.streamType() == StreamType.ORDER ? Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER)
                : Topics.of(config.kafkaTopicPrefix(), StreamType.CUSTOMER);
        return send(topic, e.streamId().toString(), EventJson.encode(e));
    }

    private Future<?> send(String topic, String key, byte[] value) {
        return producer.send(KafkaProducerRecord.create(topic, key, value));
    }

    private int groupMembers() throws Exception {
        String group = config.projectorGroupId();
        Map<String, ConsumerGroupDescription> groups = await(admin.describeConsumerGroups(List.of(group)));
        ConsumerGroupDescription description = groups.get(group);
        return description == null || description.getState() != org.apache.kafka.common.ConsumerGroupState.STABLE ? 0
                : description.getMembers().size();
    }

    private long eventLogCount() throws Exception {
        return scalar("SELECT count(*) FROM event_log");
    }

    private long recordsBehind() throws Exception {
        return await(side.lag()).getLong("recordsBehind");
    }

    private long scalar(String sql) throws Exception {
        return await(side.pool().query(sql).execute()).iterator().next().getLong(0);
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private static void awaitThat(String what, Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(FULL_SCALE ? 180 : 60);
        while (System.nanoTime() < deadline) {
            if (check.holds()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting for: " + what);
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    }
}
