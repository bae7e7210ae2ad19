package dev.orders.query.rebuild;

import dev.orders.command.CommandSide;
import dev.orders.devservers.PgProvisioner;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.StreamType;
import dev.orders.events.Topics;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.query.QueryOptions;
import dev.orders.query.QuerySide;
import dev.orders.query.model.Projection;
import dev.orders.service.http.Health;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.client.WebClientSession;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.admin.ListOffsetsResultInfo;
import io.vertx.kafka.admin.OffsetSpec;
import io.vertx.kafka.client.common.TopicPartition;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A query node started on an empty query schema over an event store that already holds events that Kafka
 * will not give its projectors (the topics' retention deleted them, simulated by deleting every record; or
 * its group read them into a schema lost while the node was down): it fills its read model from the command
 * side's event feed before it serves, answering readiness and reads with 503 meanwhile, and then goes on
 * from Kafka.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("A query node started on an empty schema over an older event store")
class EmptySchemaFillTest {

    private TestInfrastructure infra;
    private OrdersConfig config;
    private Vertx vertx;
    private CommandSide commands;
    private WebClient commandHttp;
    /** The query side's way to the event feed: answers 503 until the test opens it. */
    private HttpServer feedGate;
    private QuerySide queries;
    private WebClient queryHttp;
    private final AtomicBoolean feedOpen = new AtomicBoolean();
    private final List<String> orders = new ArrayList<>();

    @BeforeAll
    void startVertx() {
        vertx = Vertx.vertx();
    }

    /** Each test its own database, topics and command side; the query side reads its feed through the gate. */
    @BeforeEach
    void startCommandSide(TestInfrastructure infra) throws Exception {
        this.infra = infra;
        config = infra.isolatedConfig().with(Map.of("kafka.partitions", "2", "relay.poll-interval", "PT0.2S"));
        orders.clear();
        feedOpen.set(false);
        commands = await(CommandSide.deploy(vertx, config, config.effectiveCommandPgUri(), config.kafkaBootstrap()));
        int commandPort = serve(commands::mount);
        commandHttp = asOperator(WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
                .setDefaultPort(commandPort)));
        // The query side reads the feed through a gate the test opens, so that the fill waits for the test.
        WebClient forward = WebClient.create(vertx);
        feedGate = await(vertx.createHttpServer().requestHandler(request -> {
            if (!feedOpen.get()) {
                request.response().setStatusCode(503).end();
                return;
            }
            forward.get(commandPort, "127.0.0.1", request.uri())
                    .putHeader("Authorization", request.getHeader("Authorization")).send()
                    .onSuccess(answer -> request.response().setStatusCode(answer.statusCode())
                            .putHeader("Content-Type", "application/json").end(answer.body()))
                    .onFailure(failure -> request.response().setStatusCode(502).end());
        }).listen(0, "127.0.0.1"));
    }

    @AfterEach
    void stopSides() throws Exception {
        Future<Void> queriesClosed = queries == null ? Future.succeededFuture() : queries.close();
        await(queriesClosed.eventually(() -> commands.close()).eventually(() -> feedGate.close()));
        queries = null;
    }

    @AfterAll
    void stopVertx() throws Exception {
        await(vertx.close());
    }

    @Test
    @DisplayName("whose topics no longer hold the early records fills its read model from the event feed before it is ready, then goes on from Kafka")
    void fills_from_the_feed_before_serving_when_retention_deleted_the_records() throws Exception {
        String customer = placeOrders();
        long stored = awaitPublished(1 + 3 * orders.size());
        deleteEveryRecord();

        startQuerySideAndSeeItFillBeforeServing(stored, customer);
    }

    @Test
    @DisplayName("whose schema was lost while it was down, its group's offsets left at the end, fills it before it is ready")
    void fills_a_schema_lost_while_the_node_was_down() throws Exception {
        String customer = placeOrders();
        long stored = awaitPublished(1 + 3 * orders.size());
        queries = startQuerySide();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (scalar("SELECT count(*) FROM event_log") < stored) {
            assertThat(System.nanoTime()).as("projected from Kafka").isLessThan(deadline);
            Thread.sleep(50);
        }
        await(queries.close());
        queries = null;
        KafkaAdminClient admin = KafkaAdminClient.create(vertx, Map.of("bootstrap.servers", config.kafkaBootstrap()));
        try {
            assertThat(await(admin.listConsumerGroupOffsets(config.projectorGroupId())).values())
                    .as("the group's offsets, committed as its projectors stopped")
                    .anySatisfy(offset -> assertThat(offset.getOffset()).isPositive());
        } finally {
            await(admin.close());
        }
        // The schema is lost while the node is down, and recreated empty by its operator.
        try (Connection superuser = infra.superuserConnection(TestInfrastructure.databaseOf(config));
             Statement sql = superuser.createStatement()) {
            sql.execute("DROP SCHEMA " + PgProvisioner.QUERY_SCHEMA + " CASCADE");
            sql.execute("CREATE SCHEMA " + PgProvisioner.QUERY_SCHEMA + " AUTHORIZATION " + PgProvisioner.QUERY_ROLE);
        }

        startQuerySideAndSeeItFillBeforeServing(stored, customer);
    }

    /** A customer and twelve orders, all approved. */
    private String placeOrders() throws Exception {
        String customer = createCustomer("Early", "100000.00");
        for (int i = 0; i < 12; i++) {
            placeOrder(customer, (10 + i) + ".00");
        }
        return customer;
    }

    private QuerySide startQuerySide() throws Exception {
        QuerySide side = await(QuerySide.deploy(vertx, config.with("query.event-feed-url",
                        "http://127.0.0.1:" + feedGate.actualPort()), config.effectiveQueryPgUri(),
                config.kafkaBootstrap(), QueryOptions.defaults()));
        Health health = side.readiness(new Health());
        int queryPort = serve(router -> {
            health.mount(router);
            side.mount(router);
        });
        queryHttp = asOperator(WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
                .setDefaultPort(queryPort)));
        return side;
    }

    /**
     * Starts a query side on the empty schema with the feed shut: not ready and reading nothing until the feed
     * opens, then ready with the read model a fold of the store; later events arrive through Kafka.
     */
    private void startQuerySideAndSeeItFillBeforeServing(long stored, String customer) throws Exception {
        queries = startQuerySide();

        // While the feed cannot be read: not ready, and nothing is read from the half-empty model.
        Thread.sleep(2_500);
        HttpResponse<Buffer> ready = await(queryHttp.get(Health.READY).send());
        assertThat(ready.statusCode()).as(ready.bodyAsString()).isEqualTo(503);
        assertThat(ready.bodyAsJsonObject().getJsonObject("checks").getJsonObject("query-schema").getString("error"))
                .contains("empty while the event store holds events");
        HttpResponse<Buffer> read = await(queryHttp.get("/api/orders/" + orders.getFirst()).send());
        assertThat(read.statusCode()).as(read.bodyAsString()).isEqualTo(503);
        assertThat(read.getHeader("Retry-After")).isNotNull();

        feedOpen.set(true);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((ready = await(queryHttp.get(Health.READY).send())).statusCode() != 200) {
            assertThat(System.nanoTime()).as("ready after the fill: " + ready.bodyAsString()).isLessThan(deadline);
            Thread.sleep(20);
        }
        // At the first 200, the read model already is a fold of the whole store.
        assertReadModelIsTheFoldOfTheStore(stored);

        // And Kafka takes it on from there: later events arrive through the projectors.
        for (int i = 0; i < 3; i++) {
            placeOrder(customer, (50 + i) + ".00");
        }
        long later = awaitPublished(1 + 3 * orders.size());
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (scalar("SELECT count(*) FROM event_log") < later) {
            assertThat(System.nanoTime()).as("the later events projected from Kafka").isLessThan(deadline);
            Thread.sleep(50);
        }
        assertReadModelIsTheFoldOfTheStore(later);
    }

    // --- helpers -------------------------------------------------------------------------------------------

    private void assertReadModelIsTheFoldOfTheStore(long events) throws Exception {
        Map<UUID, List<EventEnvelope>> streams = new LinkedHashMap<>();
        HttpResponse<Buffer> feed = await(commandHttp.get("/api/admin/events?after=0&limit=5000").send());
        assertThat(feed.statusCode()).as(feed.bodyAsString()).isEqualTo(200);
        for (Object node : feed.bodyAsJsonObject().getJsonArray("events")) {
            EventEnvelope e = EventJson.decode(((JsonObject) node).toBuffer().getBytes());
            streams.computeIfAbsent(e.streamId(), id -> new ArrayList<>()).add(e);
        }
        assertThat(streams.values().stream().mapToLong(List::size).sum()).isEqualTo(events);
        assertThat(scalar("SELECT count(*) FROM event_log")).isEqualTo(events);
        for (var stream : streams.entrySet()) {
            boolean order = stream.getValue().getFirst().streamType() == StreamType.ORDER;
            JsonObject expected = order ? Projection.foldOrder(stream.getValue()).orElseThrow().toJson()
                    : Projection.foldCustomer(stream.getValue()).orElseThrow().toJson();
            HttpResponse<Buffer> actual = await(queryHttp.get((order ? "/api/orders/" : "/api/customers/")
                    + stream.getKey()).send());
            assertThat(actual.statusCode()).as(actual.bodyAsString()).isEqualTo(200);
            assertThat(actual.bodyAsJsonObject()).isEqualTo(expected);
        }
        assertThat(scalar("SELECT count(*) FROM order_view")).isEqualTo(orders.size());
    }

    /** Waits until the store holds {@code events} events, every one of them published (none left in {@code unpublished_events}). */
    private long awaitPublished(long events) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            var row = await(commands.pool().query(
                    "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM events) - (SELECT count(*) FROM unpublished_events)").execute()).iterator().next();
            if (row.getLong(0) == events && row.getLong(1) == events) {
                return events;
            }
            assertThat(System.nanoTime()).as("published: " + row.getLong(1) + " of " + row.getLong(0)).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    /** What retention does to old records, at once: every record the topics hold is deleted. */
    private void deleteEveryRecord() throws Exception {
        KafkaAdminClient admin = KafkaAdminClient.create(vertx, Map.of("bootstrap.servers", config.kafkaBootstrap()));
        try {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (String topic : Topics.all(config.kafkaTopicPrefix())) {
                for (int p = 0; p < config.kafkaPartitions(); p++) {
                    latest.put(new TopicPartition(topic, p), OffsetSpec.LATEST);
                }
            }
            Map<TopicPartition, ListOffsetsResultInfo> ends = await(admin.listOffsets(latest));
            Map<TopicPartition, RecordsToDelete> deletions = new HashMap<>();
            ends.forEach((tp, end) -> deletions.put(tp, RecordsToDelete.beforeOffset(end.getOffset())));
            assertThat(ends.values().stream().mapToLong(ListOffsetsResultInfo::getOffset).sum()).isPositive();
            await(admin.deleteRecords(deletions));
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            latest.keySet().forEach(tp -> earliest.put(tp, OffsetSpec.EARLIEST));
            Map<TopicPartition, ListOffsetsResultInfo> firsts = await(admin.listOffsets(earliest));
            firsts.forEach((tp, first) -> assertThat(first.getOffset()).as("first offset of " + tp)
                    .isEqualTo(ends.get(tp).getOffset()));
        } finally {
            await(admin.close());
        }
    }

    private String createCustomer(String name, String limit) throws Exception {
        HttpResponse<Buffer> response = await(commandHttp.post("/api/customers").sendJsonObject(new JsonObject()
                .put("name", name).put("creditLimit", new JsonObject().put("amount", limit).put("currency", "EUR"))));
        assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
        return response.bodyAsJsonObject().getString("customerId");
    }

    private void placeOrder(String customer, String amount) throws Exception {
        HttpResponse<Buffer> response = await(commandHttp.post("/api/orders").sendJsonObject(new JsonObject()
                .put("customerId", customer).put("total", new JsonObject().put("amount", amount).put("currency", "EUR"))));
        assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
        orders.add(response.bodyAsJsonObject().getString("orderId"));
    }

    private long scalar(String sql) throws Exception {
        return ((Number) await(queries.pool().query(sql).execute()).iterator().next().getValue(0)).longValue();
    }

    private WebClient asOperator(WebClient client) {
        return WebClientSession.create(client).addHeader("Authorization",
                TestTokens.bearer(new TestTokens(vertx).operator()));
    }

    private int serve(Consumer<Router> mount) throws Exception {
        return await(ApiServer.serve(vertx, mount));
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
