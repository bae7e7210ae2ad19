package dev.orders.query;

import dev.orders.events.CustomerEvent;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.EventMetadata;
import dev.orders.events.EventText;
import dev.orders.events.EventTypes;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import dev.orders.events.RejectionReason;
import dev.orders.events.StreamType;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.events.Topics;
import dev.orders.service.http.ApiRouter;
import dev.orders.service.security.Security;
import dev.orders.service.security.SessionApi;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.client.WebClientSession;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The query side on real PostgreSQL and Kafka: events are published to the topics as the relay
 * publishes them, and read back through the HTTP routes, behind the real {@link ApiRouter} and an
 * operator's token.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The query side")
class QuerySideTest {

    private static final Duration MIN_VERSION_WAIT = Duration.ofMillis(1500);
    private static final Instant T0 = Instant.parse("2025-03-01T12:00:00Z");

    private final AtomicLong positions = new AtomicLong();
    private Vertx vertx;
    private OrdersConfig config;
    private QuerySide side;
    private HttpServer server;
    private WebClient http;
    private KafkaProducer<String, byte[]> producer;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        config = infra.isolatedConfig().with("kafka.partitions", "3");
        vertx = Vertx.vertx();
        side = await(QuerySide.deploy(vertx, config, config.effectiveQueryPgUri(), config.kafkaBootstrap(),
                QueryOptions.defaults().withMinVersionWait(MIN_VERSION_WAIT)));
        server = await(serve(vertx, side));
        http = operatorClient(vertx, server);
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
            await(producer.close().eventually(() -> side.close()).eventually(() -> server.close()));
            await(vertx.close());
        }
    }

    /** The side's routes behind the real {@link ApiRouter}, on a free port. */
    private Future<HttpServer> serve(Vertx on, QuerySide node) {
        return SessionApi.load(on).compose(session -> {
            Router router = ApiRouter.create(on, Security.create(on, config.securitySettings()), session);
            node.mount(router);
            ApiRouter.finish(router);
            return on.createHttpServer().requestHandler(router).listen(0);
        });
    }

    private static WebClient operatorClient(Vertx on, HttpServer to) {
        return WebClientSession.create(WebClient.create(on, new WebClientOptions().setDefaultHost("localhost")
                        .setDefaultPort(to.actualPort())))
                .addHeader("Authorization", TestTokens.bearer(new TestTokens(on).operator()));
    }

    // --- publishing as the relay does --------------------------------------------------------------------

    private EventEnvelope envelope(long version, Instant at, DomainEvent event) {
        return new EventEnvelope(UUID.randomUUID(), version, positions.incrementAndGet(), at,
                EventTypes.currentSchemaVersion(event), new EventMetadata("corr-" + event.streamId(), "cause-" + version,
                null, null), event);
    }

    private static String topicOf(StreamType type, String prefix) {
        return Topics.of(prefix, type);
    }

    private void publish(EventEnvelope... envelopes) throws Exception {
        for (EventEnvelope e : envelopes) {
            publishRaw(topicOf(e.streamType(), config.kafkaTopicPrefix()), e.streamId().toString(), EventJson.encode(e),
                    e.type());
        }
    }

    private void publishRaw(String topic, String key, byte[] value, String type) throws Exception {
        KafkaProducerRecord<String, byte[]> record = KafkaProducerRecord.create(topic, key, value);
        record.addHeader(Topics.HEADER_TYPE, Topics.cloudEventType(type)).addHeader(Topics.HEADER_CORRELATION_ID, "corr-" + key);
        await(producer.send(record));
    }

    /** Waits until the projector has applied every record published so far. */
    private void awaitCaughtUp() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            JsonObject lag = await(side.lag());
            if (lag.getLong("recordsBehind") == 0) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the projection did not catch up: " + await(side.lag()));
    }

    private HttpResponse<Buffer> get(String uri) throws Exception {
        return await(http.get(uri).send());
    }

    private JsonObject getJson(String uri) throws Exception {
        HttpResponse<Buffer> response = get(uri);
        assertThat(response.statusCode()).as(uri + " -> " + response.bodyAsString()).isEqualTo(200);
        return response.bodyAsJsonObject();
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    private static Money eur(String amount) {
        return Money.parse(amount, "EUR");
    }

    // --- the tests ---------------------------------------------------------------------------------------

    @Test
    @DisplayName("projects a customer's saga and answers the order, the customer, the history and the order list")
    void projects_a_realistic_sequence() throws Exception {
        UUID customer = UUID.randomUUID();
        UUID approved = UUID.randomUUID();
        UUID rejected = UUID.randomUUID();
        publish(envelope(1, T0, new CustomerEvent.CustomerCreated(customer, "Ada", eur("1000.00"))),
                envelope(1, T0.plusSeconds(1), new OrderEvent.OrderCreated(approved, customer, eur("250.00"))),
                envelope(2, T0.plusSeconds(2), new CustomerEvent.CreditReserved(customer, approved, eur("250.00"))),
                envelope(2, T0.plusSeconds(3), new OrderEvent.OrderApproved(approved, customer)),
                envelope(1, T0.plusSeconds(4), new OrderEvent.OrderCreated(rejected, customer, eur("900.00"))),
                envelope(3, T0.plusSeconds(5), new CustomerEvent.CreditLimitExceeded(customer, rejected, eur("900.00"))),
                envelope(2, T0.plusSeconds(6), new OrderEvent.OrderRejected(rejected, customer,
                        RejectionReason.CREDIT_LIMIT_EXCEEDED)),
                envelope(3, T0.plusSeconds(7), new OrderEvent.OrderCancelled(approved, customer)),
                envelope(4, T0.plusSeconds(8), new CustomerEvent.CreditReleased(customer, approved, eur("250.00"))));

        JsonObject order = getJson("/api/orders/" + approved + "?minVersion=3");
        assertThat(order.getString("status")).isEqualTo("CANCELLED");
        assertThat(order.getLong("version")).isEqualTo(3);
        assertThat(order.getJsonObject("total")).isEqualTo(new JsonObject().put("amount", "250.00").put("currency", "EUR"));
        assertThat(order.getString("customerId")).isEqualTo(customer.toString());
        assertThat(order.getString("createdAt")).isEqualTo("2025-03-01T12:00:01Z");
        assertThat(order.getString("updatedAt")).isEqualTo("2025-03-01T12:00:07Z");
        assertThat(order.containsKey("reason")).isFalse();

        JsonObject rejectedOrder = getJson("/api/orders/" + rejected + "?minVersion=2");
        assertThat(rejectedOrder.getString("status")).isEqualTo("REJECTED");
        assertThat(rejectedOrder.getString("reason")).isEqualTo("CREDIT_LIMIT_EXCEEDED");

        awaitCaughtUp();
        JsonObject credit = getJson("/api/customers/" + customer);
        assertThat(credit.getString("name")).isEqualTo("Ada");
        assertThat(credit.getJsonObject("creditLimit").getString("amount")).isEqualTo("1000.00");
        assertThat(credit.getJsonObject("creditReserved").getString("amount")).isEqualTo("0.00");
        assertThat(credit.getJsonObject("availableCredit").getString("amount")).isEqualTo("1000.00");
        assertThat(credit.getLong("version")).isEqualTo(4);

        JsonArray history = new JsonArray(get("/api/orders/" + approved + "/history").bodyAsString());
        assertThat(history).hasSize(3);
        assertThat(history.getJsonObject(0).getString("type")).isEqualTo("OrderCreated");
        assertThat(history.getJsonObject(0).getString("occurredAt")).isEqualTo("2025-03-01T12:00:01Z");
        assertThat(history.getJsonObject(0).getJsonObject("data").getJsonObject("total").getString("amount"))
                .isEqualTo("250.00");
        assertThat(history.getJsonObject(1).getString("correlationId")).isEqualTo("corr-" + approved);
        assertThat(history.getJsonObject(2).getLong("version")).isEqualTo(3);

        JsonObject list = getJson("/api/customers/" + customer + "/orders");
        assertThat(list.getJsonArray("items").stream().map(o -> ((JsonObject) o).getString("orderId")))
                .containsExactly(rejected.toString(), approved.toString());
        assertThat(list.getValue("next")).isNull();

        // The change log carries the same JSON as the GET, one row per order change.
        List<JsonObject> changes = changeLog(approved);
        assertThat(changes).hasSize(3);
        assertThat(changes.get(2)).isEqualTo(order);
    }

    private List<JsonObject> changeLog(UUID orderId) throws Exception {
        var rows = await(side.pool().preparedQuery("SELECT view FROM order_changes WHERE order_id = $1 ORDER BY position")
                .execute(io.vertx.sqlclient.Tuple.of(orderId)));
        List<JsonObject> views = new ArrayList<>();
        rows.forEach(row -> views.add((JsonObject) row.getValue(0)));
        return views;
    }

    private long count(String sql) throws Exception {
        return await(side.pool().query(sql).execute()).iterator().next().getLong(0);
    }

    @Test
    @DisplayName("the same events published twice, and a batch replayed, change nothing")
    void duplicates_change_nothing() throws Exception {
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        List<EventEnvelope> events = List.of(
                envelope(1, T0, new CustomerEvent.CustomerCreated(customer, "Bob", eur("500.00"))),
                envelope(1, T0.plusSeconds(1), new OrderEvent.OrderCreated(order, customer, eur("100.00"))),
                envelope(2, T0.plusSeconds(2), new CustomerEvent.CreditReserved(customer, order, eur("100.00"))),
                envelope(2, T0.plusSeconds(3), new OrderEvent.OrderApproved(order, customer)));
        publish(events.toArray(EventEnvelope[]::new));
        awaitCaughtUp();
        JsonObject orderBefore = getJson("/api/orders/" + order);
        JsonObject customerBefore = getJson("/api/customers/" + customer);
        long eventsBefore = count("SELECT count(*) FROM event_log");
        long changesBefore = count("SELECT count(*) FROM order_changes");

        publish(events.toArray(EventEnvelope[]::new));
        publish(events.get(2), events.get(3), events.get(1));
        awaitCaughtUp();

        assertThat(getJson("/api/orders/" + order)).isEqualTo(orderBefore);
        assertThat(getJson("/api/customers/" + customer)).isEqualTo(customerBefore);
        assertThat(count("SELECT count(*) FROM event_log")).isEqualTo(eventsBefore);
        assertThat(count("SELECT count(*) FROM order_changes")).isEqualTo(changesBefore);
        assertThat(customerBefore.getJsonObject("creditReserved").getString("amount")).isEqualTo("100.00");
    }

    @Test
    @DisplayName("records an event's data and metadata as its record holds them, and an older schema's upcast")
    void event_log_keeps_the_records_data_and_metadata() throws Exception {
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        // as the relay publishes it: the stored texts, written into the envelope as they are
        String metadata = "{\"causationId\": \"cause-1\", \"correlationId\": \"corr-\u00e9t\u00e9 {1}\"}";
        String data = "{\"total\": {\"amount\": \"12.50\", \"currency\": \"EUR\"}, \"orderId\": \"" + order
                + "\", \"customerId\": \"" + customer + "\"}";
        EventText created = new EventText(UUID.randomUUID(), StreamType.ORDER, order, 1, positions.incrementAndGet(),
                "OrderCreated", 1, T0, customer, metadata, data);
        // a customer stored in its first schema, which had "limit" where "creditLimit" is now
        String v1 = "{\"name\": \"Old\", \"limit\": {\"amount\": \"10.00\", \"currency\": \"EUR\"}, \"customerId\": \""
                + customer + "\"}";
        EventText old = new EventText(UUID.randomUUID(), StreamType.CUSTOMER, customer, 1, positions.incrementAndGet(),
                "CustomerCreated", 1, T0, customer, "{}", v1);
        publishRaw(topicOf(StreamType.CUSTOMER, config.kafkaTopicPrefix()), customer.toString(), EventJson.encode(old),
                "CustomerCreated");
        publishRaw(topicOf(StreamType.ORDER, config.kafkaTopicPrefix()), customer.toString(), EventJson.encode(created),
                "OrderCreated");
        awaitCaughtUp();

        Map<String, JsonObject[]> stored = new HashMap<>();
        await(side.pool().preparedQuery("SELECT type, schema_version, data, metadata FROM event_log WHERE stream_id = ANY($1)")
                .execute(io.vertx.sqlclient.Tuple.of((Object) new UUID[]{customer, order})))
                .forEach(row -> stored.put(row.getString("type") + "/" + row.getInteger("schema_version"),
                        new JsonObject[]{(JsonObject) row.getValue("data"), (JsonObject) row.getValue("metadata")}));

        assertThat(stored).containsOnlyKeys("OrderCreated/" + EventTypes.currentSchemaVersion("OrderCreated"),
                "CustomerCreated/" + EventTypes.currentSchemaVersion("CustomerCreated"));
        JsonObject[] order1 = stored.get("OrderCreated/" + EventTypes.currentSchemaVersion("OrderCreated"));
        assertThat(order1[0]).isEqualTo(new JsonObject(data));
        assertThat(order1[1]).isEqualTo(new JsonObject(metadata));
        JsonObject[] customer1 = stored.get("CustomerCreated/" + EventTypes.currentSchemaVersion("CustomerCreated"));
        assertThat(customer1[0]).isEqualTo(new JsonObject(EventJson.dataText(
                new CustomerEvent.CustomerCreated(customer, "Old", eur("10.00")))));
        assertThat(customer1[1]).isEqualTo(new JsonObject());
        assertThat(getJson("/api/orders/" + order).getString("status")).isEqualTo("PENDING");
    }

    @Test
    @DisplayName("parks an undecodable and an unknown-type record, projects the rest, and re-drives a fixed record")
    void poison_records_are_parked_and_redriven() throws Exception {
        UUID customer = UUID.randomUUID();
        UUID broken = UUID.randomUUID();
        UUID unknownType = UUID.randomUUID();
        UUID healthy = UUID.randomUUID();
        String orders = Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER);
        EventEnvelope approval = envelope(2, T0.plusSeconds(2), new OrderEvent.OrderApproved(broken, customer));
        byte[] good = EventJson.encode(approval);
        byte[] mangled = new String(good, StandardCharsets.UTF_8).replace("\"data\":{", "\"data\":[")
                .getBytes(StandardCharsets.UTF_8);
        JsonObject shipped = new JsonObject(Buffer.buffer(EventJson.encode(envelope(2, T0,
                new OrderEvent.OrderApproved(unknownType, customer))))).put("type", "OrderShipped");

        publish(envelope(1, T0, new CustomerEvent.CustomerCreated(customer, "Eve", eur("800.00"))),
                envelope(1, T0.plusSeconds(1), new OrderEvent.OrderCreated(broken, customer, eur("10.00"))),
                envelope(1, T0.plusSeconds(1), new OrderEvent.OrderCreated(unknownType, customer, eur("20.00"))));
        publishRaw(orders, broken.toString(), mangled, "OrderApproved");
        publishRaw(orders, unknownType.toString(), shipped.encode().getBytes(StandardCharsets.UTF_8), "OrderShipped");
        publish(envelope(1, T0.plusSeconds(3), new OrderEvent.OrderCreated(healthy, customer, eur("30.00"))),
                envelope(3, T0.plusSeconds(4), new OrderEvent.OrderCancelled(broken, customer)));
        awaitCaughtUp();

        assertThat(getJson("/api/orders/" + healthy).getString("status")).isEqualTo("PENDING");
        JsonObject brokenView = getJson("/api/orders/" + broken);
        assertThat(brokenView.getString("status")).isEqualTo("CANCELLED");
        assertThat(brokenView.getBoolean("needsAttention")).isTrue();
        assertThat(getJson("/api/orders/" + unknownType).getBoolean("needsAttention")).isTrue();

        JsonArray parked = getJson("/api/admin/dead-letters?limit=500").getJsonArray("items");
        List<JsonObject> mine = parked.stream().map(JsonObject.class::cast)
                .filter(d -> d.getString("key").equals(broken.toString()) || d.getString("key").equals(unknownType.toString()))
                .toList();
        assertThat(mine).hasSize(2);
        for (JsonObject letter : mine) {
            assertThat(letter.getString("topic")).isEqualTo(orders);
            assertThat(letter.getInteger("partition")).isBetween(0, 2);
            assertThat(letter.getLong("offset")).isNotNegative();
            assertThat(letter.getString("error")).isNotBlank();
            assertThat(letter.getString("redrivenAt")).isNull();
        }
        JsonObject unknownLetter = mine.stream().filter(d -> d.getString("key").equals(unknownType.toString()))
                .findFirst().orElseThrow();
        assertThat(unknownLetter.getString("error")).contains("OrderShipped");
        long brokenId = mine.stream().filter(d -> d.getString("key").equals(broken.toString())).findFirst()
                .orElseThrow().getLong("id");

        // Re-driving the stored (still broken) payload fails and changes nothing.
        assertThat(await(http.post("/api/admin/dead-letters/" + brokenId + "/redrive").send()).statusCode())
                .isEqualTo(422);
        // The operator re-drives the fixed record: it lands in its place (version 2) below version 3.
        HttpResponse<Buffer> redriven = await(http.post("/api/admin/dead-letters/" + brokenId + "/redrive")
                .sendJsonObject(new JsonObject().put("payload", new JsonObject(Buffer.buffer(good)))));
        assertThat(redriven.statusCode()).as(redriven.bodyAsString()).isEqualTo(200);
        assertThat(redriven.bodyAsJsonObject().getLong("version")).isEqualTo(2);
        JsonObject fixed = getJson("/api/orders/" + broken);
        assertThat(fixed.getString("status")).isEqualTo("CANCELLED");
        assertThat(fixed.getLong("version")).isEqualTo(3);
        assertThat(fixed.containsKey("needsAttention")).isFalse();
        assertThat(new JsonArray(get("/api/orders/" + broken + "/history").bodyAsString()).stream()
                .map(e -> ((JsonObject) e).getString("type")))
                .containsExactly("OrderCreated", "OrderApproved", "OrderCancelled");

        assertThat(await(http.post("/api/admin/dead-letters/" + brokenId + "/redrive").send()).statusCode())
                .isEqualTo(409);
        assertThat(await(http.post("/api/admin/dead-letters/999999/redrive").send()).statusCode()).isEqualTo(404);
        assertThat(await(side.lag()).getLong("recordsBehind")).isZero();
    }

    @Test
    @DisplayName("?minVersion answers once the projection reaches it, and 503 with Retry-After past the bound")
    void min_version_waits_for_the_projection() throws Exception {
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        publish(envelope(1, T0, new OrderEvent.OrderCreated(order, customer, eur("42.00"))));
        assertThat(getJson("/api/orders/" + order + "?minVersion=1").getLong("version")).isEqualTo(1);

        long started = System.nanoTime();
        var waiting = http.get("/api/orders/" + order + "?minVersion=2").send();
        Thread.sleep(300);
        publish(envelope(2, T0.plusSeconds(1), new OrderEvent.OrderApproved(order, customer)));
        HttpResponse<Buffer> answered = await(waiting);
        assertThat(answered.statusCode()).isEqualTo(200);
        assertThat(answered.bodyAsJsonObject().getString("status")).isEqualTo("APPROVED");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(MIN_VERSION_WAIT);

        HttpResponse<Buffer> timedOut = get("/api/orders/" + order + "?minVersion=3");
        assertThat(timedOut.statusCode()).isEqualTo(503);
        assertThat(timedOut.getHeader("Retry-After")).isEqualTo("1");
        assertThat(timedOut.getHeader("Content-Type")).isEqualTo("application/problem+json");

        HttpResponse<Buffer> unknown = get("/api/orders/" + UUID.randomUUID() + "?minVersion=1");
        assertThat(unknown.statusCode()).isEqualTo(503);
    }

    @Test
    @DisplayName("?minVersion on a second query node is woken when the first node projects the order, not at its timeout")
    void min_version_on_another_node_is_woken_by_the_change_notification() throws Exception {
        Duration wait = Duration.ofSeconds(20);
        Vertx otherVertx = Vertx.vertx();
        try {
            // Node two shares the database; its own projector follows topics nobody publishes to, so node one
            // (this class's side) projects everything, and node two learns of it only through the change log.
            QuerySide two = await(QuerySide.deploy(otherVertx,
                    config.with("kafka.topic.prefix", config.kafkaTopicPrefix() + "-idle"), config.effectiveQueryPgUri(),
                    config.kafkaBootstrap(), QueryOptions.defaults().withMinVersionWait(wait)));
            WebClient onTwo = operatorClient(otherVertx, await(serve(otherVertx, two)));
            UUID customer = UUID.randomUUID();
            UUID order = UUID.randomUUID();

            long started = System.nanoTime();
            var waiting = onTwo.get("/api/orders/" + order + "?minVersion=1").send();
            Thread.sleep(300);
            publish(envelope(1, T0, new OrderEvent.OrderCreated(order, customer, eur("42.00"))));
            HttpResponse<Buffer> answered = await(waiting);
            assertThat(answered.statusCode()).isEqualTo(200);
            assertThat(answered.bodyAsJsonObject().getLong("version")).isEqualTo(1);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("woken, not timed out").isLessThan(wait.dividedBy(2));
            await(two.close());
        } finally {
            await(otherVertx.close());
        }
    }

    @Test
    @DisplayName("?asOf rebuilds the order as it was at that instant from its events")
    void as_of_rebuilds_past_states() throws Exception {
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        publish(envelope(1, T0, new OrderEvent.OrderCreated(order, customer, eur("42.00"))),
                envelope(2, T0.plusSeconds(10), new OrderEvent.OrderApproved(order, customer)),
                envelope(3, T0.plusSeconds(20), new OrderEvent.OrderCancelled(order, customer)));
        getJson("/api/orders/" + order + "?minVersion=3");

        JsonObject pending = getJson("/api/orders/" + order + "?asOf=2025-03-01T12:00:05Z");
        assertThat(pending.getString("status")).isEqualTo("PENDING");
        assertThat(pending.getLong("version")).isEqualTo(1);
        JsonObject approved = getJson("/api/orders/" + order + "?asOf=2025-03-01T12:00:10Z");
        assertThat(approved.getString("status")).isEqualTo("APPROVED");
        assertThat(getJson("/api/orders/" + order + "?asOf=2026-01-01T00:00:00Z"))
                .isEqualTo(getJson("/api/orders/" + order));
        assertThat(get("/api/orders/" + order + "?asOf=2025-03-01T11:59:59Z").statusCode()).isEqualTo(404);
    }

    @Test
    @DisplayName("?asOf follows versions when the writers' clocks disagree: never a fold with a version left out")
    void as_of_follows_versions_when_occurred_at_goes_backwards() throws Exception {
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        // v2 was written by a node whose clock ran 10 s ahead; v3 by one with the right time.
        publish(envelope(1, T0, new OrderEvent.OrderCreated(order, customer, eur("42.00"))),
                envelope(2, T0.plusSeconds(10), new OrderEvent.OrderApproved(order, customer)),
                envelope(3, T0.plusSeconds(5), new OrderEvent.OrderCancelled(order, customer)));
        getJson("/api/orders/" + order + "?minVersion=3");

        // v3 was stamped by then, and its writer had seen v2: the order had been approved, then cancelled.
        JsonObject cancelled = getJson("/api/orders/" + order + "?asOf=" + T0.plusSeconds(7));
        assertThat(cancelled.getString("status")).isEqualTo("CANCELLED");
        assertThat(cancelled.getLong("version")).isEqualTo(3);
        assertThat(cancelled.containsKey("needsAttention")).as("a fold without v2 has a gap: %s", cancelled).isFalse();
        assertThat(cancelled).isEqualTo(getJson("/api/orders/" + order));
        JsonObject pending = getJson("/api/orders/" + order + "?asOf=" + T0.plusSeconds(4));
        assertThat(pending.getString("status")).isEqualTo("PENDING");
        assertThat(pending.getLong("version")).isEqualTo(1);
    }

    @Test
    @DisplayName("pages a customer's orders newest first, by status, and customers by available credit")
    void paging_with_opaque_cursors() throws Exception {
        UUID customer = UUID.randomUUID();
        List<UUID> orders = new ArrayList<>();
        List<EventEnvelope> events = new ArrayList<>();
        events.add(envelope(1, T0, new CustomerEvent.CustomerCreated(customer, "Pat", eur("999999.00"))));
        for (int i = 0; i < 5; i++) {
            UUID order = UUID.randomUUID();
            orders.add(order);
            events.add(envelope(1, T0.plusSeconds(100 + i), new OrderEvent.OrderCreated(order, customer, eur("1.00"))));
            if (i % 2 == 0) {
                events.add(envelope(2, T0.plusSeconds(200 + i), new OrderEvent.OrderApproved(order, customer)));
            }
        }
        publish(events.toArray(EventEnvelope[]::new));
        awaitCaughtUp();

        List<String> seen = new ArrayList<>();
        String next = null;
        int pages = 0;
        do {
            JsonObject page = getJson("/api/customers/" + customer + "/orders?limit=2" + (next == null ? "" : "&after=" + next));
            page.getJsonArray("items").forEach(o -> seen.add(((JsonObject) o).getString("orderId")));
            next = page.getString("next");
            pages++;
        } while (next != null);
        assertThat(pages).isEqualTo(3);
        assertThat(seen).containsExactly(orders.get(4).toString(), orders.get(3).toString(), orders.get(2).toString(),
                orders.get(1).toString(), orders.get(0).toString());

        JsonObject approvedOnly = getJson("/api/customers/" + customer + "/orders?status=APPROVED");
        assertThat(approvedOnly.getJsonArray("items").stream().map(o -> ((JsonObject) o).getString("orderId")))
                .containsExactly(orders.get(4).toString(), orders.get(2).toString(), orders.get(0).toString());

        JsonObject rich = getJson("/api/customers?minAvailableCredit=999998.99&limit=1");
        assertThat(rich.getJsonArray("items")).hasSize(1);
        assertThat(rich.getJsonArray("items").getJsonObject(0).getString("customerId")).isEqualTo(customer.toString());
        assertThat(rich.getValue("next")).isNull();
        JsonObject all = getJson("/api/customers?limit=1");
        assertThat(all.getString("next")).isNotNull();
        JsonObject second = getJson("/api/customers?limit=1&after=" + all.getString("next"));
        assertThat(second.getJsonArray("items").getJsonObject(0).getString("customerId"))
                .isNotEqualTo(all.getJsonArray("items").getJsonObject(0).getString("customerId"));
    }

    @Test
    @DisplayName("answers bad input with 400 problem+json, and unknown ids with 404")
    void bad_input_is_a_400() throws Exception {
        UUID id = UUID.randomUUID();
        for (String uri : List.of("/api/orders/not-a-uuid", "/api/orders/" + id + "?minVersion=0",
                "/api/orders/" + id + "?minVersion=abc", "/api/orders/" + id + "?asOf=yesterday",
                "/api/orders/" + id + "?asOf=2025-03-01T12:00:00Z&minVersion=1", "/api/orders/xyz/history",
                "/api/customers/nope", "/api/customers?minAvailableCredit=-1", "/api/customers?minAvailableCredit=1.234",
                "/api/customers?limit=0", "/api/customers?limit=501", "/api/customers?after=%%%",
                "/api/customers?after=bm90LWEtY3Vyc29y", "/api/customers/" + id + "/orders?status=SHIPPED",
                "/api/customers/" + id + "/orders?after=YWJjfGRlZg", "/api/admin/dead-letters?limit=x")) {
            HttpResponse<Buffer> response = get(uri);
            assertThat(response.statusCode()).as(uri).isEqualTo(400);
            assertThat(response.getHeader("Content-Type")).as(uri).isEqualTo("application/problem+json");
            assertThat(response.bodyAsJsonObject().getString("detail")).as(uri).isNotBlank();
        }
        for (String uri : List.of("/api/orders/" + id, "/api/orders/" + id + "/history", "/api/customers/" + id,
                "/api/customers/" + id + "/orders")) {
            assertThat(get(uri).statusCode()).as(uri).isEqualTo(404);
        }
        assertThat(await(http.post("/api/admin/dead-letters/abc/redrive").send()).statusCode()).isEqualTo(400);
    }

    @Test
    @DisplayName("answers a paging cursor whose id is not a UUID in canonical form with 400, as every id it reads")
    void a_cursor_with_a_non_canonical_uuid_is_a_400() throws Exception {
        UUID id = UUID.randomUUID();
        for (String uri : List.of("/api/customers/" + id + "/orders?after=" + cursor("2025-01-01T00:00:00Z", "1-2-3-4-5"),
                "/api/orders?after=" + cursor("2025-01-01T00:00:00Z", "1-2-3-4-5"),
                "/api/customers?after=" + cursor("10.00", "1-2-3-4-5"))) {
            HttpResponse<Buffer> response = get(uri);
            assertThat(response.statusCode()).as(uri).isEqualTo(400);
            assertThat(response.bodyAsJsonObject().getString("detail")).as(uri).contains("cursor");
        }
    }

    private static String cursor(String... parts) {
        return java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString(String.join("|", parts).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    @DisplayName("reports readiness with PostgreSQL, Kafka and the projection's lag")
    void readiness_shows_lag() throws Exception {
        JsonObject ready = await(side.readiness(new dev.orders.service.http.Health()).ready());
        assertThat(ready.getString("status")).as(ready.encode()).isEqualTo("UP");
        assertThat(ready.getJsonObject("checks").getJsonObject("projection").containsKey("recordsBehind")).isTrue();
    }

    @Test
    @DisplayName("lists every customer's orders for operators, newest first, of one status or all, paged with a cursor")
    void lists_every_customers_orders_newest_first() throws Exception {
        Instant later = Instant.parse("2031-01-01T00:00:00Z"); // newer than every other test's orders
        UUID ada = UUID.randomUUID();
        UUID bob = UUID.randomUUID();
        UUID o1 = UUID.randomUUID();
        UUID o2 = UUID.randomUUID();
        UUID o3 = UUID.randomUUID();
        UUID o4 = UUID.randomUUID();
        publish(envelope(1, later, new OrderEvent.OrderCreated(o1, ada, eur("10.00"))),
                envelope(2, later.plusSeconds(10), new OrderEvent.OrderApproved(o1, ada)),
                envelope(1, later.plusSeconds(1), new OrderEvent.OrderCreated(o2, bob, eur("20.00"))),
                envelope(2, later.plusSeconds(11), new OrderEvent.OrderApproved(o2, bob)),
                envelope(1, later.plusSeconds(2), new OrderEvent.OrderCreated(o3, ada, eur("30.00"))),
                envelope(2, later.plusSeconds(12), new OrderEvent.OrderRejected(o3, ada, RejectionReason.CREDIT_LIMIT_EXCEEDED)),
                envelope(1, later.plusSeconds(3), new OrderEvent.OrderCreated(o4, bob, eur("40.00"))));
        awaitCaughtUp();

        JsonObject all = getJson("/api/orders?limit=4");
        assertThat(all.getJsonArray("items").stream().map(o -> ((JsonObject) o).getString("orderId")))
                .containsExactly(o4.toString(), o3.toString(), o2.toString(), o1.toString());
        JsonObject first = getJson("/api/orders?status=APPROVED&limit=1");
        assertThat(first.getJsonArray("items").getJsonObject(0).getString("orderId")).isEqualTo(o2.toString());
        JsonObject second = getJson("/api/orders?status=APPROVED&limit=1&after=" + first.getString("next"));
        assertThat(second.getJsonArray("items").getJsonObject(0).getString("orderId")).isEqualTo(o1.toString());
        assertThat(second.getJsonArray("items").getJsonObject(0).getString("status")).isEqualTo("APPROVED");
        for (String bad : List.of("/api/orders?status=SHIPPED", "/api/orders?after=bm90LWEtY3Vyc29y", "/api/orders?limit=0")) {
            assertThat(get(bad).statusCode()).as(bad).isEqualTo(400);
        }
    }

    @Test
    @DisplayName("streams the status once a second: its own stages known, the command side's marked unknown on a query node alone")
    void streams_the_status_and_says_what_a_query_node_cannot_know() throws Exception {
        io.vertx.core.http.HttpClient client = vertx.createHttpClient();
        try {
            io.vertx.core.Promise<JsonObject> status = io.vertx.core.Promise.promise();
            StringBuilder received = new StringBuilder();
            client.request(new io.vertx.core.http.RequestOptions().setHost("localhost").setPort(server.actualPort())
                            .setURI("/api/admin/status/stream")
                            .putHeader("Authorization", TestTokens.bearer(new TestTokens(vertx).operator())))
                    .compose(io.vertx.core.http.HttpClientRequest::send)
                    .onSuccess(response -> response.handler(chunk -> {
                        received.append(chunk.toString(StandardCharsets.UTF_8));
                        int at = received.indexOf("event: status\ndata: ");
                        int end = at < 0 ? -1 : received.indexOf("\n", at + 20);
                        if (end > 0) {
                            status.tryComplete(new JsonObject(received.substring(at + 20, end)));
                        }
                    }))
                    .onFailure(status::tryFail);
            JsonObject figures = await(status.future());
            JsonObject stages = figures.getJsonObject("stages");
            assertThat(stages.getJsonObject("relay").getBoolean("known")).isFalse();
            assertThat(stages.getJsonObject("saga").getBoolean("known")).isFalse();
            assertThat(stages.getJsonObject("saga").getString("reason")).contains("command side");
            assertThat(stages.getJsonObject("projector").getBoolean("known")).isTrue();
            assertThat(stages.getJsonObject("projector").getJsonObject("partitions")).isNotEmpty();
            assertThat(stages.getJsonObject("push").getLong("connections")).isNotNull();
            assertThat(figures.getJsonObject("orders").fieldNames())
                    .containsExactlyInAnyOrder("PENDING", "APPROVED", "REJECTED", "CANCELLED");
            assertThat(figures.getJsonObject("latency").getLong("windowSeconds")).isEqualTo(60);
            assertThat(figures.getJsonObject("deadLetters").getLong("projector")).isNotNull();
            assertThat(figures.getJsonObject("deadLetters").fieldNames()).as("no saga on this node").containsOnly("projector");
        } finally {
            await(client.close());
        }
    }

    @Test
    @DisplayName("serves the status stream to its own origin and answers another origin 403, as every stream")
    void the_status_stream_is_served_to_its_own_origin_only() throws Exception {
        String own = "http://localhost:" + server.actualPort();
        assertThat(statusStreamFrom(own)).isEqualTo("200 text/event-stream");
        assertThat(statusStreamFrom("https://evil.example")).isEqualTo("403 application/problem+json");
        assertThat(statusStreamFrom("http://localhost:" + (server.actualPort() + 1)))
                .as("another port is another origin").isEqualTo("403 application/problem+json");
    }

    /** The status stream's answer to an operator's request from {@code origin}: its status and content type. */
    private String statusStreamFrom(String origin) throws Exception {
        io.vertx.core.http.HttpClient client = vertx.createHttpClient();
        try {
            return await(client.request(new io.vertx.core.http.RequestOptions().setHost("localhost")
                            .setPort(server.actualPort()).setURI("/api/admin/status/stream")
                            .putHeader("Origin", origin)
                            .putHeader("Authorization", TestTokens.bearer(new TestTokens(vertx).operator())))
                    .compose(io.vertx.core.http.HttpClientRequest::send)
                    .map(response -> response.statusCode() + " "
                            + response.getHeader("Content-Type").replaceAll(";.*", "")));
        } finally {
            await(client.close());
        }
    }
}
