package dev.orders.query.rebuild;

import dev.orders.command.CommandSide;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.StreamType;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.query.QueryOptions;
import dev.orders.query.QuerySide;
import dev.orders.query.model.Projection;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.client.WebClientSession;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The zero-downtime rebuild on real PostgreSQL and Kafka, with the real command side (relay and saga)
 * producing the events: the query side reads the command side's event feed over HTTP, never its tables.
 * Both sides run behind the real {@link dev.orders.service.http.ApiRouter}; the test calls them as an operator, and the query
 * side presents its own service token to the feed.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@DisplayName("Rebuilding the projections without downtime")
class RebuildTest {

    private static final Logger LOG = LoggerFactory.getLogger(RebuildTest.class);
    private static final String[] TABLES = {"order_view ORDER BY order_id", "customer_view ORDER BY customer_id",
            "event_log ORDER BY global_position"};

    private Vertx vertx;
    private CommandSide commands;
    private QuerySide queries;
    private OrdersConfig config;
    private WebClient commandHttp;
    private WebClient queryHttp;
    private String operator;
    private final List<String> customers = new CopyOnWriteArrayList<>();
    private final List<String> orders = new CopyOnWriteArrayList<>();

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        OrdersConfig base = infra.isolatedConfig().with(Map.of("kafka.partitions", "3", "relay.poll-interval", "PT0.2S"));
        vertx = Vertx.vertx();
        operator = new TestTokens(vertx).operator();
        commands = await(CommandSide.deploy(vertx, base, base.effectiveCommandPgUri(), base.kafkaBootstrap()));
        int commandPort = serve(commands::mount);
        // Deployed apart, as in production: the query side finds the feed by configuration.
        config = base.with("query.event-feed-url", "http://127.0.0.1:" + commandPort);
        queries = await(QuerySide.deploy(vertx, config, config.effectiveQueryPgUri(), config.kafkaBootstrap(),
                QueryOptions.defaults()));
        int queryPort = serve(queries::mount);
        commandHttp = asOperator(WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
                .setDefaultPort(commandPort), new PoolOptions().setHttp1MaxSize(16)));
        queryHttp = asOperator(WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
                .setDefaultPort(queryPort), new PoolOptions().setHttp1MaxSize(8)));
    }

    private WebClient asOperator(WebClient client) {
        return WebClientSession.create(client).addHeader("Authorization", TestTokens.bearer(operator));
    }

    private int serve(java.util.function.Consumer<Router> mount) throws Exception {
        return await(ApiServer.serve(vertx, mount));
    }

    @AfterAll
    void stop() throws Exception {
        if (vertx != null) {
            await(queries.close().eventually(() -> commands.close()));
            await(vertx.close());
        }
    }

    // --- the tests -----------------------------------------------------------------------------------------

    @Test
    @Order(1)
    @DisplayName("the event feed answers pages by position and refuses bad parameters with 400")
    void event_feed() throws Exception {
        placeOrders(2, 4);
        awaitQuiet();
        JsonObject all = feedPage(0, 1000);
        JsonArray events = all.getJsonArray("events");
        assertThat(events.size()).isGreaterThanOrEqualTo(2 + 4 + 4 * 2);
        JsonObject two = feedPage(1, 2);
        assertThat(two.getJsonArray("events").size()).isEqualTo(2);
        assertThat(two.getJsonArray("events").getJsonObject(0).getLong("globalPosition")).isEqualTo(2);
        assertThat(two.getLong("lastPosition")).isEqualTo(3);
        assertThat(feedPage(events.size(), 10).getJsonArray("events")).isEmpty();
        for (String bad : List.of("limit=0", "limit=5001", "after=-1", "after=x", "limit=1&limit=2")) {
            HttpResponse<Buffer> response = await(commandHttp.get("/api/admin/events?" + bad).send());
            assertThat(response.statusCode()).as(bad).isEqualTo(400);
            assertThat(response.getHeader("Content-Type")).startsWith("application/problem+json");
        }
    }

    @Test
    @Order(2)
    @DisplayName("a rebuild from the event store equals the live projection, answers queries throughout and keeps resume ids")
    void rebuild_equals_live() throws Exception {
        placeOrders(10, 150);
        awaitQuiet();
        Map<String, List<String>> before = snapshot();
        long changesBefore = scalar("SELECT count(*) FROM order_changes");
        long maxChangeBefore = scalar("SELECT max(position) FROM order_changes");
        long oidBefore = scalar("SELECT 'order_view'::regclass::oid::bigint");
        List<String> indexesBefore = indexes();

        // A connection that caches its prepared statements by name, prepared before the switch.
        PgConnection cached = await(PgConnection.connect(vertx,
                PgConnectOptions.fromUri(config.effectiveQueryPgUri()).setCachePreparedStatements(true)));
        String probe = "SELECT status, version FROM order_view WHERE order_id = $1";
        UUID probed = UUID.fromString(orders.getFirst());
        String probeBefore = await(cached.preparedQuery(probe).execute(Tuple.of(probed))).iterator().next().toJson().encode();

        Poller poller = Poller.start(vertx, queryHttp, orders, customers);
        HttpResponse<Buffer> started = await(queryHttp.post("/api/admin/rebuild").send());
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        assertThat(started.bodyAsJsonObject().getString("state")).isEqualTo("BUILDING");
        JsonObject status = awaitRebuild();
        poller.stop();

        long events = scalar("SELECT count(*) FROM event_log");
        assertThat(status.getLong("eventsRead")).isEqualTo(events);
        assertThat(status.getLong("feedPosition")).isEqualTo(events);
        JsonObject swap = status.getJsonObject("switch");
        assertThat(swap.getLong("ordersDiffering")).isZero();
        assertThat(swap.getLong("customersDiffering")).isZero();
        assertThat(swap.getLong("copiedFromLive")).isZero();
        assertThat(swap.getLong("leftToProjector")).isZero();

        assertThat(scalar("SELECT 'order_view'::regclass::oid::bigint")).as("the tables were switched").isNotEqualTo(oidBefore);
        Map<String, List<String>> after = snapshot();
        for (String table : before.keySet()) {
            assertThat(after.get(table)).as(table).containsExactlyElementsOf(before.get(table));
        }
        assertThat(indexes()).as("indexes, names and definitions, after the switch").isEqualTo(indexesBefore);
        assertThat(scalar("SELECT count(*) FROM order_changes")).isEqualTo(changesBefore);
        assertThat(scalar("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\\_next' OR tablename LIKE '%\\_old'")).isZero();

        String probeAfter = await(cached.preparedQuery(probe).execute(Tuple.of(probed))).iterator().next().toJson().encode();
        assertThat(probeAfter).isEqualTo(probeBefore);
        await(cached.close());
        poller.assertAnsweredThroughout();

        // Resume ids stay valid: the change log goes on from where it was.
        placeOrders(1, 3);
        awaitQuiet();
        assertThat(scalar("SELECT min(position) FROM order_changes WHERE position > " + maxChangeBefore))
                .isGreaterThan(maxChangeBefore);
        assertThat(scalar("SELECT count(*) FROM order_changes")).isGreaterThan(changesBefore);
        assertEveryOrderPushedAtItsVersion();
    }

    @Test
    @Order(3)
    @DisplayName("a rebuild while orders keep coming catches up, switches, and loses no change")
    void rebuild_under_load() throws Exception {
        AtomicBoolean writing = new AtomicBoolean(true);
        List<Throwable> writeFailures = new CopyOnWriteArrayList<>();
        String customer = createCustomer("Busy", "100000.00");
        // the pollers read only what the read model already has: the new customer once projected,
        // and the orders placed before the writer starts (the writer's own orders are eventually consistent)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (await(queryHttp.get("/api/customers/" + customer).send()).statusCode() != 200) {
            assertThat(System.nanoTime()).as("the new customer is projected").isLessThan(deadline);
            Thread.sleep(50);
        }
        List<String> knownOrders = List.copyOf(orders);
        List<String> knownCustomers = List.copyOf(customers);
        Thread writer = Thread.ofVirtual().start(() -> {
            while (writing.get()) {
                try {
                    placeOrder(customer, randomAmount());
                } catch (Throwable e) {
                    writeFailures.add(e);
                }
            }
        });
        Poller poller = Poller.start(vertx, queryHttp, knownOrders, knownCustomers);
        Thread.sleep(300);
        HttpResponse<Buffer> started = await(queryHttp.post("/api/admin/rebuild").send());
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        HttpResponse<Buffer> again = await(queryHttp.post("/api/admin/rebuild").send());
        assertThat(again.statusCode()).as("a second rebuild while one runs").isEqualTo(409);
        assertThat(again.getHeader("Content-Type")).startsWith("application/problem+json");
        JsonObject status = awaitRebuild();
        Thread.sleep(300);
        writing.set(false);
        writer.join();
        poller.stop();
        assertThat(writeFailures).isEmpty();
        awaitQuiet();
        poller.assertAnsweredThroughout();
        LOG.info("rebuild under load: {}", status.encode());

        // Every row equals the fold of its events in the event store, read through the feed.
        Map<UUID, List<EventEnvelope>> streams = new HashMap<>();
        Set<UUID> eventIds = new HashSet<>();
        long after = 0;
        while (true) {
            JsonObject page = feedPage(after, 1000);
            for (Object node : page.getJsonArray("events")) {
                EventEnvelope e = EventJson.decode(((JsonObject) node).toBuffer().getBytes());
                streams.computeIfAbsent(e.streamId(), id -> new ArrayList<>()).add(e);
                eventIds.add(e.eventId());
            }
            if (page.getJsonArray("events").size() < 1000) {
                break;
            }
            after = page.getLong("lastPosition");
        }
        assertThat(scalar("SELECT count(*) FROM event_log")).isEqualTo(eventIds.size());
        int orderStreams = 0;
        for (var stream : streams.entrySet()) {
            boolean order = stream.getValue().getFirst().streamType() == StreamType.ORDER;
            if (order) {
                orderStreams++;
                JsonObject expected = Projection.foldOrder(stream.getValue()).orElseThrow().toJson();
                assertThat(getJson("/api/orders/" + stream.getKey())).isEqualTo(expected);
            } else {
                JsonObject expected = Projection.foldCustomer(stream.getValue()).orElseThrow().toJson();
                assertThat(getJson("/api/customers/" + stream.getKey())).isEqualTo(expected);
            }
        }
        assertThat(scalar("SELECT count(*) FROM order_view")).isEqualTo(orderStreams);
        assertEveryOrderPushedAtItsVersion();
    }

    @Test
    @Order(4)
    @DisplayName("a rebuild that cannot read the feed, or finds another one running, fails and leaves the live tables as they were")
    void failed_rebuilds_change_nothing() throws Exception {
        Map<String, List<String>> before = snapshot();
        PgConnectOptions connect = PgConnectOptions.fromUri(config.effectiveQueryPgUri());

        Rebuilder unreachable = new Rebuilder(vertx, connect, "http://127.0.0.1:1", 100, () -> operator);
        unreachable.start();
        JsonObject failed = awaitFailed(unreachable);
        assertThat(failed.getString("error")).isNotBlank();
        await(unreachable.close());

        // The feed refuses the token: the rebuild asks for a fresh one once (a long rebuild outlives its
        // token), then fails.
        AtomicLong asked = new AtomicLong();
        String refusedToken = new TestTokens(vertx).signedWithOtherKey(null);
        Rebuilder unauthorized = new Rebuilder(vertx, connect, config.effectiveEventFeedUrl(), 100, () -> {
            asked.incrementAndGet();
            return refusedToken;
        });
        unauthorized.start();
        JsonObject unauthorizedStatus = awaitFailed(unauthorized);
        assertThat(unauthorizedStatus.getString("error")).contains("401");
        assertThat(asked.get()).isEqualTo(2);
        await(unauthorized.close());

        // Another process holds the rebuild lock.
        PgConnection other = await(PgConnection.connect(vertx, connect));
        assertThat(await(other.query("SELECT pg_try_advisory_lock(hashtext('query.rebuild'))").execute())
                .iterator().next().getBoolean(0)).isTrue();
        HttpResponse<Buffer> started = await(queryHttp.post("/api/admin/rebuild").send());
        assertThat(started.statusCode()).isEqualTo(202);
        JsonObject refused;
        do {
            Thread.sleep(20);
            refused = getJson("/api/admin/rebuild");
        } while (!refused.getString("state").equals("FAILED") && !refused.getString("state").equals("DONE"));
        assertThat(refused.getString("state")).isEqualTo("FAILED");
        assertThat(refused.getString("error")).contains("another process");
        await(other.close());

        assertThat(snapshot()).isEqualTo(before);
        assertThat(scalar("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\\_next'")).isZero();
        // and a rebuild afterwards succeeds
        assertThat(await(queryHttp.post("/api/admin/rebuild").send()).statusCode()).isEqualTo(202);
        awaitRebuild();
        assertThat(snapshot()).isEqualTo(before);
    }

    @Test
    @Order(5)
    @DisplayName("events the feed has but the live projector has not applied yet are left to the projector at the switch")
    void events_ahead_of_the_projector_are_left_to_it() throws Exception {
        awaitQuiet();
        Map<String, List<String>> before = snapshot();
        long changesBefore = scalar("SELECT count(*) FROM order_changes");
        // The real feed, plus events the projector will never have seen: an order and its customer's reservation.
        List<JsonObject> feed = new ArrayList<>();
        long after = 0;
        while (true) {
            JsonObject page = feedPage(after, 1000);
            page.getJsonArray("events").forEach(e -> feed.add((JsonObject) e));
            if (page.getJsonArray("events").size() < 1000) {
                break;
            }
            after = page.getLong("lastPosition");
        }
        UUID customer = UUID.fromString(customers.getFirst());
        long customerVersion = scalar("SELECT version FROM customer_view WHERE customer_id = '" + customer + "'");
        UUID order = UUID.randomUUID();
        dev.orders.events.Money total = dev.orders.events.Money.parse("12.34", "EUR");
        long ahead = 1_000_000_000L;
        for (EventEnvelope e : List.of(
                envelope(order, 1, ahead, new dev.orders.events.OrderEvent.OrderCreated(order, customer, total)),
                envelope(customer, customerVersion + 1, ahead + 1,
                        new dev.orders.events.CustomerEvent.CreditReserved(customer, order, total)))) {
            feed.add(new JsonObject(Buffer.buffer(EventJson.encode(e))));
        }
        io.vertx.core.http.HttpServer fake = await(vertx.createHttpServer().requestHandler(request -> {
            long from = Long.parseLong(request.getParam("after"));
            int limit = Integer.parseInt(request.getParam("limit"));
            JsonArray page = new JsonArray();
            long last = from;
            for (JsonObject e : feed) {
                if (e.getLong("globalPosition") > from && page.size() < limit) {
                    page.add(e);
                    last = e.getLong("globalPosition");
                }
            }
            request.response().putHeader("Content-Type", "application/json")
                    .end(new JsonObject().put("events", page).put("lastPosition", last).encode());
        }).listen(0, "127.0.0.1"));

        Rebuilder rebuilder = new Rebuilder(vertx, PgConnectOptions.fromUri(config.effectiveQueryPgUri()),
                "http://127.0.0.1:" + fake.actualPort(), 100, () -> operator);
        rebuilder.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (rebuilder.running() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        JsonObject status = rebuilder.status();
        assertThat(status.getString("state")).as(status.encode()).isEqualTo("DONE");
        assertThat(status.getLong("eventsRead")).isEqualTo(feed.size());
        assertThat(status.getJsonObject("switch").getLong("leftToProjector")).isEqualTo(2);
        assertThat(status.getJsonObject("switch").getLong("streamsRefolded")).isEqualTo(2);
        assertThat(snapshot()).isEqualTo(before);
        assertThat(scalar("SELECT count(*) FROM order_changes")).isEqualTo(changesBefore);
        await(rebuilder.close());
        await(fake.close());
    }

    private static EventEnvelope envelope(UUID stream, long version, long position, dev.orders.events.DomainEvent event) {
        return new EventEnvelope(UUID.randomUUID(), version, position, java.time.Instant.parse("2030-01-01T00:00:00Z"),
                dev.orders.events.EventTypes.currentSchemaVersion(event),
                new dev.orders.events.EventMetadata("corr-ahead", null, null, null), event);
    }

    private static JsonObject awaitFailed(Rebuilder rebuilder) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (rebuilder.running() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        JsonObject status = rebuilder.status();
        assertThat(status.getString("state")).as(status.encode()).isEqualTo("FAILED");
        return status;
    }

    // --- helpers -------------------------------------------------------------------------------------------

    /** The change log's latest row of every order has the order's current version: no push was lost. */
    private void assertEveryOrderPushedAtItsVersion() throws Exception {
        long mismatches = scalar("""
                SELECT count(*) FROM order_view v
                  LEFT JOIN (SELECT DISTINCT ON (order_id) order_id, version FROM order_changes
                              ORDER BY order_id, position DESC) c ON c.order_id = v.order_id
                 WHERE c.version IS DISTINCT FROM v.version""");
        assertThat(mismatches).isZero();
    }

    private JsonObject awaitRebuild() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonObject status;
        do {
            Thread.sleep(50);
            status = getJson("/api/admin/rebuild");
            if (status.getString("state").equals("FAILED")) {
                throw new AssertionError("the rebuild failed: " + status.encode());
            }
        } while (!status.getString("state").equals("DONE") && System.nanoTime() < deadline);
        assertThat(status.getString("state")).as(status.encode()).isEqualTo("DONE");
        assertThat(status.getLong("eventsPerSecond")).isNotNegative();
        assertThat(status.getString("finishedAt")).isNotNull();
        return status;
    }

    /** Credit releases the cancels so far must lead to (one for each order cancelled after its approval). */
    private long releasesExpected;

    /**
     * Waits until every event is published, projected, and the sagas have settled (no order PENDING, every
     * expected credit release appended).
     */
    private void awaitQuiet() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String last = "";
        while (System.nanoTime() < deadline) {
            long stored = await(commands.pool().query("SELECT count(*) FROM events").execute())
                    .iterator().next().getLong(0);
            long projected = scalar("SELECT count(*) FROM event_log");
            long pending = scalar("SELECT count(*) FROM order_view WHERE status = 'PENDING'");
            long orderRows = scalar("SELECT count(*) FROM order_view");
            long behind = await(queries.lag()).getLong("recordsBehind");
            // a cancel is answered before the saga releases its credit: stored and projected agree in between
            long released = await(commands.pool().query("SELECT count(*) FROM events WHERE event_type = 'CreditReleased'")
                    .execute()).iterator().next().getLong(0);
            last = stored + " stored, " + projected + " projected, " + pending + " pending, " + behind + " behind, "
                    + released + " of " + releasesExpected + " releases";
            if (stored == projected && pending == 0 && behind == 0 && orderRows == orders.size()
                    && released == releasesExpected) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not quiet: " + last);
    }

    private Map<String, List<String>> snapshot() throws Exception {
        Map<String, List<String>> rows = new HashMap<>();
        for (String table : TABLES) {
            String name = table.substring(0, table.indexOf(' '));
            List<String> lines = new ArrayList<>();
            await(queries.pool().query("SELECT t::text FROM " + table.replace(name, name + " t")).execute())
                    .forEach(row -> lines.add(row.getString(0)));
            rows.put(name, lines);
        }
        return rows;
    }

    private List<String> indexes() throws Exception {
        List<String> names = new ArrayList<>();
        await(queries.pool().query("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename"
                + " IN ('order_view', 'customer_view', 'event_log') ORDER BY indexname").execute())
                .forEach(row -> names.add(row.getString(0)));
        return names;
    }

    private long scalar(String sql) throws Exception {
        Row row = await(queries.pool().query(sql).execute()).iterator().next();
        return row.getValue(0) == null ? 0 : ((Number) row.getValue(0)).longValue();
    }

    private JsonObject feedPage(long after, int limit) throws Exception {
        HttpResponse<Buffer> response = await(commandHttp.get("/api/admin/events?after=" + after + "&limit=" + limit).send());
        assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
        return response.bodyAsJsonObject();
    }

    private JsonObject getJson(String uri) throws Exception {
        HttpResponse<Buffer> response = await(queryHttp.get(uri).send());
        assertThat(response.statusCode()).as(uri + " -> " + response.bodyAsString()).isEqualTo(200);
        return response.bodyAsJsonObject();
    }

    /** Customers with a limit of 1,000.00 and orders spread over them: some approved, some rejected, some cancelled. */
    private void placeOrders(int customerCount, int orderCount) throws Exception {
        List<String> mine = new ArrayList<>();
        for (int i = 0; i < customerCount; i++) {
            mine.add(createCustomer("Customer " + i, "1000.00"));
        }
        List<Future<String>> placed = new ArrayList<>();
        for (int i = 0; i < orderCount; i++) {
            placed.add(placeOrderAsync(mine.get(i % mine.size()), randomAmount()));
        }
        await(Future.all(placed));
        awaitQuiet();
        List<Future<?>> cancels = new ArrayList<>();
        for (int i = 0; i < placed.size(); i += 7) {
            cancels.add(commandHttp.post("/api/orders/" + placed.get(i).result() + "/cancel").send()
                    .map(r -> r.statusCode() == 202 || r.statusCode() == 409 ? r
                            : failWith("cancel answered " + r.statusCode() + ": " + r.bodyAsString())));
        }
        await(Future.all(cancels));
        // every order was settled before its cancel, so each one cancelled (202) had its credit reserved
        releasesExpected += cancels.stream().filter(cancel -> ((HttpResponse<?>) cancel.result()).statusCode() == 202).count();
    }

    private static <T> T failWith(String message) {
        throw new IllegalStateException(message);
    }

    private static String randomAmount() {
        return ThreadLocalRandom.current().nextInt(10, 300) + ".00";
    }

    private String createCustomer(String name, String limit) throws Exception {
        HttpResponse<Buffer> response = await(commandHttp.post("/api/customers").sendJsonObject(new JsonObject()
                .put("name", name).put("creditLimit", new JsonObject().put("amount", limit).put("currency", "EUR"))));
        assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
        String id = response.bodyAsJsonObject().getString("customerId");
        customers.add(id);
        return id;
    }

    private String placeOrder(String customer, String amount) throws Exception {
        return await(placeOrderAsync(customer, amount));
    }

    private Future<String> placeOrderAsync(String customer, String amount) {
        return commandHttp.post("/api/orders").sendJsonObject(new JsonObject().put("customerId", customer)
                .put("total", new JsonObject().put("amount", amount).put("currency", "EUR"))).map(response -> {
            if (response.statusCode() != 202) {
                throw new IllegalStateException("place order answered " + response.statusCode() + ": "
                        + response.bodyAsString());
            }
            String id = response.bodyAsJsonObject().getString("orderId");
            orders.add(id);
            return id;
        });
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    /** Clients reading orders, customers and histories in a loop; every answer must be a 200. */
    static final class Poller {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong answered = new AtomicLong();
        private final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        private final List<Future<Void>> loops = new ArrayList<>();

        static Poller start(Vertx vertx, WebClient http, List<String> orders, List<String> customers) {
            Poller poller = new Poller();
            List<String> orderIds = List.copyOf(orders);
            List<String> customerIds = List.copyOf(customers);
            for (int i = 0; i < 4; i++) {
                Promise<Void> done = Promise.promise();
                poller.loops.add(done.future());
                vertx.runOnContext(v -> poller.loop(http, orderIds, customerIds, done));
            }
            return poller;
        }

        private void loop(WebClient http, List<String> orders, List<String> customers, Promise<Void> done) {
            if (!running.get()) {
                done.complete();
                return;
            }
            ThreadLocalRandom random = ThreadLocalRandom.current();
            String uri = switch (random.nextInt(4)) {
                case 0 -> "/api/customers/" + customers.get(random.nextInt(customers.size()));
                case 1 -> "/api/orders/" + orders.get(random.nextInt(orders.size())) + "/history";
                default -> "/api/orders/" + orders.get(random.nextInt(orders.size()));
            };
            http.get(uri).send().onComplete(result -> {
                if (result.failed()) {
                    errors.add(uri + ": " + result.cause());
                } else if (result.result().statusCode() != 200) {
                    errors.add(uri + ": " + result.result().statusCode() + " " + result.result().bodyAsString());
                } else {
                    answered.incrementAndGet();
                }
                loop(http, orders, customers, done);
            });
        }

        void stop() throws Exception {
            running.set(false);
            await(Future.all(loops));
        }

        void assertAnsweredThroughout() {
            assertThat(errors).isEmpty();
            assertThat(answered.get()).isGreaterThan(10);
            LOG.info("{} queries answered during the rebuild, none failed", answered.get());
        }
    }
}
