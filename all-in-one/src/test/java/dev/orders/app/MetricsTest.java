package dev.orders.app;

import dev.orders.events.StreamType;
import dev.orders.events.Topics;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /metrics} answers Prometheus text, and each meter the operations need moves when the thing it
 * counts happens: commands by type and outcome with their latency, append conflicts and their retries,
 * relay lag, consumer lag per partition and projection lag, push connections, pushed, coalesced and
 * dropped changes, dead letters, and saga deadlines pending. Where the thing does not happen by itself in a
 * healthy system, the test makes it happen as it does in production: a long transaction holds the relay
 * back, a lock blocks the projector, a record that is no event reaches a topic, a client stops reading.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The metrics endpoint")
class MetricsTest {

    private static final long EVENTUALLY_MS = 30_000;

    private TestInfrastructure infra;
    private OrdersConfig config;
    private String database;
    private OrdersApp app;
    private Vertx vertx;
    private WebClient client;
    private String operator;

    @BeforeAll
    void start(TestInfrastructure infra) {
        this.infra = infra;
        // the meters that need a query (lag, dead letters) are read every metrics.refresh-interval: a short one here
        // and Idempotency-Keys kept for a second, so that pruning them shows within a test
        config = infra.isolatedConfig().with("metrics.refresh-interval", "PT0.2S").with("idempotency.retention", "PT1S");
        database = TestInfrastructure.databaseOf(config);
        app = OrdersApp.start(config);
        vertx = Vertx.vertx();
        client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("localhost").setDefaultPort(app.port()));
        operator = new TestTokens(vertx).operator();
    }

    @AfterAll
    void stop() throws Exception {
        await(vertx.close());
        app.close();
    }

    @Test
    void commands_are_counted_by_type_and_outcome_with_their_latency_and_the_pipeline_meters_move() throws Exception {
        String before = scrape();
        assertThat(before).contains("# TYPE orders_relay_unpublished gauge");

        String customerId = createCustomer("Meter");
        String orderId = placeOrder(customerId);
        awaitStatus(orderId, "APPROVED");
        HttpResponse<Buffer> unknown = await(api(HttpMethod.POST, "/api/orders/" + UUID.randomUUID() + "/cancel").send());
        assertThat(unknown.statusCode()).isEqualTo(404);

        String after = scrape();
        assertThat(value(after, "orders_commands_total", "command=\"CreateOrder\"", "outcome=\"accepted\""))
                .isGreaterThan(value(before, "orders_commands_total", "command=\"CreateOrder\"", "outcome=\"accepted\""));
        assertThat(value(after, "orders_commands_total", "command=\"CancelOrder\"", "outcome=\"rejected\""))
                .isGreaterThan(value(before, "orders_commands_total", "command=\"CancelOrder\"", "outcome=\"rejected\""));
        assertThat(value(after, "orders_commands_total", "command=\"ReserveCredit\"", "outcome=\"accepted\""))
                .isGreaterThan(value(before, "orders_commands_total", "command=\"ReserveCredit\"", "outcome=\"accepted\""));
        assertThat(value(after, "orders_command_duration_seconds_count", "command=\"CreateOrder\""))
                .isGreaterThan(value(before, "orders_command_duration_seconds_count", "command=\"CreateOrder\""));
        assertThat(value(after, "orders_command_duration_seconds_sum", "command=\"CreateOrder\""))
                .isGreaterThan(value(before, "orders_command_duration_seconds_sum", "command=\"CreateOrder\""));
        assertThat(value(after, "orders_command_group_creations_sum", "outcome=\"committed\""))
                .as("creations group-committed: the customer and the order at least")
                .isGreaterThanOrEqualTo(value(before, "orders_command_group_creations_sum", "outcome=\"committed\"") + 2);
        assertThat(value(after, "orders_relay_published_total")).isGreaterThan(value(before, "orders_relay_published_total"));
        assertThat(value(after, "orders_relay_position")).isGreaterThanOrEqualTo(4);
        assertThat(value(after, "orders_saga_records_handled_total")).isGreaterThan(value(before, "orders_saga_records_handled_total"));
        eventually("the projection's position is read", () -> value(scrape(), "orders_projection_position") >= 3);
    }

    @Test
    void the_saga_takes_the_relays_records_in_the_process_and_skips_their_kafka_copies() throws Exception {
        String before = scrape();
        String customerId = createCustomer("Handed");
        for (int i = 0; i < 3; i++) {
            awaitStatus(placeOrder(customerId), "APPROVED");
        }
        eventually("records taken from the relay's hand-off, and each one's Kafka copy skipped", () -> {
            String scrape = scrape();
            double taken = value(scrape, "orders_saga_handoff_taken_total");
            return taken > value(before, "orders_saga_handoff_taken_total")
                    && value(scrape, "orders_saga_handoff_kafka_skipped_total") == taken;
        });
        assertThat(scrape()).contains("# TYPE orders_saga_handoff_dropped_total counter");
    }

    @Test
    @DisplayName("counts the Idempotency-Keys it forgot once they are older than idempotency.retention")
    void forgotten_idempotency_keys_are_counted() throws Exception {
        double before = value(scrape(), "orders_idempotency_keys_forgotten_total");
        HttpResponse<Buffer> created = await(api(HttpMethod.POST, "/api/customers")
                .putHeader("Idempotency-Key", UUID.randomUUID().toString())
                .sendJsonObject(new JsonObject().put("name", "Keyed")
                        .put("creditLimit", new JsonObject().put("amount", "10.00").put("currency", "EUR"))));
        assertThat(created.statusCode()).isEqualTo(201);
        eventually("the key is forgotten and counted",
                () -> value(scrape(), "orders_idempotency_keys_forgotten_total") > before);
    }

    /** What a dashboard of the HTTP server, the pools, the event loops, the JVM and the process reads. */
    private static final List<String> LIBRARY_METERS = List.of(
            "vertx_http_server_requests_total", "vertx_http_server_response_time_seconds_bucket",
            "vertx_http_server_active_connections", "vertx_pool_in_use", "vertx_pool_queue_pending",
            "vertx_sql_processing_pending", "vertx_sql_processing_time_seconds_bucket", "vertx_pool_queue_time_seconds_bucket",
            "jvm_memory_used_bytes", "jvm_gc_pause_seconds_count", "jvm_threads_live_threads",
            "jvm_classes_loaded_classes", "process_cpu_usage", "system_cpu_count", "process_uptime_seconds",
            "process_files_open_files");

    @Test
    void the_meters_a_dashboard_needs_come_from_vertx_the_jvm_and_the_process() throws Exception {
        createCustomer("Dashboard");
        System.gc();
        String scraped = eventuallyScraped(LIBRARY_METERS);
        for (String meter : LIBRARY_METERS) {
            assertThat(scraped).as("the meter %s among: %s", meter, meterNames(scraped)).containsPattern("(?m)^" + meter + "[{ ]");
        }
        assertThat(value(scraped, "vertx_http_server_requests_total", "method=\"POST\"", "code=\"201\""))
                .as("the customer's creation").isGreaterThanOrEqualTo(1);
        assertThat(scraped).as("a route template, never a raw path, labels the HTTP meters")
                .doesNotContainPattern("route=\"[^\"]*[0-9a-f]{8}-[0-9a-f]{4}");
    }

    @Test
    void a_client_connection_adds_no_series_to_the_http_server_meters() throws Exception {
        // each request on a connection of its own, as browsers, probes and scrapers come and go
        WebClient fresh = WebClient.create(vertx, new WebClientOptions().setDefaultHost("localhost")
                .setDefaultPort(app.port()).setKeepAlive(false));
        try {
            for (int i = 0; i < 6; i++) {
                assertThat(await(fresh.get("/health/live").send()).statusCode()).isEqualTo(200);
            }
        } finally {
            fresh.close();
        }
        String scraped = scrape();
        assertThat(scraped).as("the client's address and port label no meter (one series per connection otherwise)")
                .doesNotContainPattern("(?m)^vertx_(http|net)_server_[a-z_]+\\{[^}]*remote=");
        assertThat(scraped.lines().filter(line -> line.startsWith("vertx_http_server_requests_total{")
                        && line.contains("route=\"/health/live\"") && line.contains("code=\"200\"")))
                .as("one series for the liveness probe's answers, however many connections asked").hasSize(1);
    }

    /**
     * What a dashboard of the Kafka clients reads, from the clients themselves (Micrometer's binder, tagged
     * with each client's id): the relay's producer (sends, errors, latency, retries, buffer) and the saga's
     * and the projector's consumers (fetches, consumed records, records lag, commits, rebalances).
     */
    private static final List<String> KAFKA_METERS = List.of(
            "kafka_producer_record_send_total", "kafka_producer_record_error_total", "kafka_producer_record_retry_total",
            "kafka_producer_request_latency_avg", "kafka_producer_buffer_available_bytes",
            "kafka_consumer_fetch_manager_records_lag_max", "kafka_consumer_fetch_manager_records_consumed_total",
            "kafka_consumer_fetch_manager_fetch_latency_avg", "kafka_consumer_coordinator_commit_total",
            "kafka_consumer_coordinator_rebalance_total", "kafka_consumer_connection_count");

    @Test
    void the_kafka_producer_and_consumers_own_meters_are_on_the_endpoint() throws Exception {
        String customerId = createCustomer("Kafka");
        awaitStatus(placeOrder(customerId), "APPROVED");
        String scraped = eventuallyScraped(KAFKA_METERS);
        for (String meter : KAFKA_METERS) {
            assertThat(scraped).as("the meter %s among: %s", meter, meterNames(scraped)).containsPattern("(?m)^" + meter + "[{ ]");
        }
        assertThat(value(scraped, "kafka_producer_record_send_total", "client_id=\"orders-relay\""))
                .as("the relay's sends").isGreaterThanOrEqualTo(4);
        assertThat(value(scraped, "kafka_consumer_fetch_manager_records_consumed_total", "client_id=\"" + config.sagaGroupId()))
                .as("records the saga consumed").isGreaterThanOrEqualTo(4);
        assertThat(value(scraped, "kafka_consumer_fetch_manager_records_consumed_total", "client_id=\"" + config.projectorGroupId()))
                .as("records the projector consumed").isGreaterThanOrEqualTo(4);
    }

    private String eventuallyScraped(List<String> meters) throws Exception {
        long deadline = System.currentTimeMillis() + EVENTUALLY_MS;
        String scraped = scrape();
        while (System.currentTimeMillis() < deadline && !allPresent(scraped, meters)) {
            Thread.sleep(200);
            scraped = scrape();
        }
        return scraped;
    }

    private static boolean allPresent(String scraped, List<String> meters) {
        return meters.stream().allMatch(meter -> Pattern.compile("(?m)^" + meter + "[{ ]").matcher(scraped).find());
    }

    private static java.util.Set<String> meterNames(String scraped) {
        java.util.Set<String> names = new java.util.TreeSet<>();
        Matcher line = Pattern.compile("(?m)^([a-z_]+)[{ ]").matcher(scraped);
        while (line.find()) {
            names.add(line.group(1));
        }
        return names;
    }

    @Test
    void concurrent_commands_on_one_aggregate_count_append_conflicts_and_their_retries() throws Exception {
        String customerId = createCustomer("Racer");
        double before = value(scrape(), "orders_append_conflicts_total", "aggregate=\"order\"", "retried=\"true\"");
        // Sixteen cancels of one approved order at once: all load the same version, one appends, the others
        // lose the race, decide again on the reloaded state and find it cancelled. A race is likely, not
        // certain, on one order; a few orders make it all but sure.
        double after = before;
        for (int round = 0; round < 8 && after == before; round++) {
            String orderId = placeOrder(customerId);
            awaitStatus(orderId, "APPROVED");
            List<Future<HttpResponse<Buffer>>> cancels = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                cancels.add(api(HttpMethod.POST, "/api/orders/" + orderId + "/cancel").send());
            }
            for (Future<HttpResponse<Buffer>> cancel : cancels) {
                assertThat(await(cancel).statusCode()).isLessThan(500);
            }
            after = value(scrape(), "orders_append_conflicts_total", "aggregate=\"order\"", "retried=\"true\"");
        }
        assertThat(after).as("conflicts on the order stream that were retried").isGreaterThan(before);
    }

    @Test
    void relay_lag_and_pending_deadlines_rise_while_a_long_transaction_holds_the_relay_back_and_fall_after() throws Exception {
        String customerId = createCustomer("Held");
        eventually("the relay has nothing unpublished", () -> value(scrape(), "orders_relay_unpublished") == 0);
        try (Connection holder = infra.superuserConnection(database)) {
            // A transaction that holds a transaction id: the relay publishes only what is older than the oldest one.
            holder.setAutoCommit(false);
            try (Statement statement = holder.createStatement()) {
                statement.execute("select pg_current_xact_id()");
            }
            String orderId = placeOrder(customerId);
            eventually("the held-back order shows as unpublished and lagging", () -> {
                String scrape = scrape();
                return value(scrape, "orders_relay_unpublished") >= 1 && value(scrape, "orders_relay_lag_seconds") > 0
                        && value(scrape, "orders_relay_horizon_held_seconds") > 0;
            });
            holder.rollback();
            awaitStatus(orderId, "APPROVED");
        }
        eventually("the relay catches up, with no deadline left", () -> {
            String scrape = scrape();
            return value(scrape, "orders_relay_unpublished") == 0 && value(scrape, "orders_relay_lag_seconds") == 0
                    && value(scrape, "orders_relay_horizon_held_seconds") == 0
                    && value(scrape, "orders_saga_deadlines_pending") == 0;
        });
    }

    @Test
    void consumer_lag_per_partition_and_projection_lag_rise_while_the_projector_is_blocked_and_fall_after() throws Exception {
        String customerId = createCustomer("Blocked");
        eventually("the projector has caught up", () -> totalConsumerLag(scrape()) == 0);
        try (Connection blocker = infra.superuserConnection(database)) {
            // The projector writes its checkpoint in every batch's transaction: this lock makes it wait.
            blocker.setAutoCommit(false);
            try (Statement statement = blocker.createStatement()) {
                statement.execute("lock table query.projector_checkpoint in exclusive mode");
            }
            placeOrder(customerId);
            eventually("records wait on a partition, and the projection lags", () -> {
                String scrape = scrape();
                return totalConsumerLag(scrape) > 0 && value(scrape, "orders_projection_lag_records") > 0
                        && value(scrape, "orders_projection_lag_seconds") > 0;
            });
            String scrape = scrape();
            assertThat(lagByPartition(scrape)).hasSize(2 * config.kafkaPartitions())
                    .allSatisfy((partition, lag) -> assertThat(partition).startsWith(config.kafkaTopicPrefix() + "."));
            blocker.commit();
        }
        eventually("the projector catches up", () -> {
            String scrape = scrape();
            return totalConsumerLag(scrape) == 0 && value(scrape, "orders_projection_lag_records") == 0;
        });
    }

    @Test
    void a_record_that_is_no_event_is_counted_as_a_dead_letter_of_the_projector_and_of_the_saga() throws Exception {
        String before = scrape();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBootstrap()), new StringSerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER),
                    UUID.randomUUID().toString(), "this is not an event".getBytes(StandardCharsets.UTF_8)))
                    .get(30, TimeUnit.SECONDS);
        }
        eventually("the projector and the saga parked it", () -> {
            String scrape = scrape();
            return value(scrape, "orders_dead_letters") > value(before, "orders_dead_letters")
                    && value(scrape, "orders_saga_dead_letters") > value(before, "orders_saga_dead_letters");
        });
    }

    @Test
    @DisplayName("counts the projection's batches by the views they were folded on: remembered, or read")
    void projection_batches_are_counted_by_their_views() throws Exception {
        String customerId = createCustomer("Remembered");
        String before = scrape();
        String orderId = placeOrder(customerId);
        awaitStatus(orderId, "APPROVED");
        String after = scrape();
        double remembered = value(after, "orders_projection_batches_total", "views=\"remembered\"")
                - value(before, "orders_projection_batches_total", "views=\"remembered\"");
        assertThat(remembered).as("batches folded on the views the projector wrote (the order's creation at least)")
                .isGreaterThanOrEqualTo(1);
        assertThat(after).contains("orders_projection_batches_total{views=\"read\"}");
    }

    @Test
    void push_connections_and_pushed_changes_are_counted() throws Exception {
        String customerId = createCustomer("Watcher");
        String before = scrape();
        HttpClient http = vertx.createHttpClient();
        StringBuffer received = new StringBuffer();
        HttpClientResponse stream = await(openStream(http, customerId));
        stream.handler(chunk -> received.append(chunk.toString(StandardCharsets.UTF_8)));
        eventually("the connection is counted", () -> value(scrape(), "orders_push_connections")
                == value(before, "orders_push_connections") + 1);

        String orderId = placeOrder(customerId);
        eventually("the order's changes reached the stream", () -> received.toString().contains(orderId)
                && received.toString().contains("APPROVED"));
        String after = scrape();
        assertThat(value(after, "orders_push_pushed_total")).isGreaterThanOrEqualTo(value(before, "orders_push_pushed_total") + 2);
        assertThat(value(after, "orders_push_latency_seconds_count"))
                .as("the push latency is a timer in seconds").isGreaterThanOrEqualTo(value(before, "orders_push_latency_seconds_count") + 2);
        assertThat(value(after, "orders_push_latency_seconds_bucket", "le=\"+Inf\""))
                .isEqualTo(value(after, "orders_push_latency_seconds_count"));
        assertThat(after).as("with service-level buckets").contains("orders_push_latency_seconds_bucket{le=\"0.05\"}");

        stream.request().connection().close();
        eventually("the connection is no longer counted", () -> value(scrape(), "orders_push_connections")
                == value(before, "orders_push_connections"));
        await(http.close());
    }

    @Test
    void a_client_that_stops_reading_has_its_changes_coalesced_and_is_then_dropped() throws Exception {
        String customerId = createCustomer("Stalled");
        String before = scrape();
        // A small receive buffer, and a client that never reads past the response head: its server-side
        // write queue fills, later changes wait coalesced to the latest per order, and past the hub's bound
        // of waiting orders (1,000) the client is dropped.
        HttpClient slow = vertx.createHttpClient(new HttpClientOptions().setReceiveBufferSize(4 * 1024),
                new PoolOptions().setHttp1MaxSize(1));
        HttpClientResponse stream = await(openStream(slow, customerId));
        stream.pause();
        eventually("the connection is counted", () -> value(scrape(), "orders_push_connections")
                == value(before, "orders_push_connections") + 1);

        // The changes are written as the projector writes them (the change log, under its lock, with its
        // NOTIFY), so that many large ones arrive at once: 600 orders with 16 KiB views (far more than the
        // socket buffers hold), the same 600 orders again (those still waiting are coalesced), then 1,200
        // more orders (more waiting orders than the bound).
        try (Connection log = infra.superuserConnection(database)) {
            appendChanges(log, customerId, 1, 600, 1, 16_000);
            appendChanges(log, customerId, 1, 600, 2, 10);
            eventually("changes of a stalled client are coalesced", () -> value(scrape(), "orders_push_coalesced_total")
                    > value(before, "orders_push_coalesced_total"));
            appendChanges(log, customerId, 601, 1_800, 1, 10);
        }
        eventually("the stalled client is dropped and no longer counted", () -> {
            String scrape = scrape();
            return value(scrape, "orders_push_dropped_total") > value(before, "orders_push_dropped_total")
                    && value(scrape, "orders_push_connections") == value(before, "orders_push_connections");
        });
        await(slow.close());
    }

    // ---- the system under test -------------------------------------------------------------------------

    private HttpRequest<Buffer> api(HttpMethod method, String path) {
        return client.request(method, path).bearerTokenAuthentication(operator);
    }

    private String createCustomer(String name) throws Exception {
        HttpResponse<Buffer> created = await(api(HttpMethod.POST, "/api/customers").sendJsonObject(new JsonObject()
                .put("name", name).put("creditLimit", new JsonObject().put("amount", "100000.00").put("currency", "EUR"))));
        assertThat(created.statusCode()).isEqualTo(201);
        String customerId = created.bodyAsJsonObject().getString("customerId");
        eventually("customer " + name + " is projected",
                () -> await(api(HttpMethod.GET, "/api/customers/" + customerId).send()).statusCode() == 200);
        return customerId;
    }

    private String placeOrder(String customerId) throws Exception {
        HttpResponse<Buffer> placed = await(api(HttpMethod.POST, "/api/orders").sendJsonObject(new JsonObject()
                .put("customerId", customerId).put("total", new JsonObject().put("amount", "10.00").put("currency", "EUR"))));
        assertThat(placed.statusCode()).isEqualTo(202);
        return placed.bodyAsJsonObject().getString("orderId");
    }

    private void awaitStatus(String orderId, String status) throws Exception {
        eventually("order " + orderId + " is " + status, () -> {
            HttpResponse<Buffer> order = await(api(HttpMethod.GET, "/api/orders/" + orderId).send());
            return order.statusCode() == 200 && status.equals(order.bodyAsJsonObject().getString("status"));
        });
    }

    private Future<HttpClientResponse> openStream(HttpClient http, String customerId) {
        return http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("localhost").setPort(app.port())
                        .setURI("/api/customers/" + customerId + "/orders/stream")
                        .putHeader("Accept", "text/event-stream")
                        .putHeader("Authorization", TestTokens.bearer(operator)))
                .compose(request -> request.send())
                .map(response -> {
                    assertThat(response.statusCode()).isEqualTo(200);
                    return response;
                });
    }

    /**
     * Appends changes of orders {@code from..to} of a customer to the order-change log in one transaction,
     * as the projector does (its lock, its NOTIFY), with views padded to about {@code viewBytes}. Their
     * global positions are far above any real event's, one per order and version.
     */
    private static void appendChanges(Connection conn, String customerId, int from, int to, int version, int viewBytes)
            throws Exception {
        conn.setAutoCommit(false);
        try (Statement lock = conn.createStatement();
             PreparedStatement insert = conn.prepareStatement("""
                     insert into query.order_changes (global_position, order_id, customer_id, version, view)
                     select 1000000000000 + ?::bigint * 1000000 + g, md5('stalled-' || g)::uuid, ?::uuid, ?::int,
                            jsonb_build_object('orderId', md5('stalled-' || g)::uuid, 'customerId', ?::uuid,
                                               'status', 'PENDING', 'version', ?::int, 'pad', repeat('x', ?::int))
                       from generate_series(?::int, ?::int) g order by g""")) {
            lock.execute("select pg_advisory_xact_lock(hashtext('query.order_changes'))");
            insert.setLong(1, version);
            insert.setString(2, customerId);
            insert.setInt(3, version);
            insert.setString(4, customerId);
            insert.setInt(5, version);
            insert.setInt(6, viewBytes);
            insert.setInt(7, from);
            insert.setInt(8, to);
            insert.executeUpdate();
            lock.execute("select pg_notify('order_changes', '')");
        }
        conn.commit();
    }

    // ---- reading the metrics ----------------------------------------------------------------------------

    /** The meters now, as {@code GET /metrics} answers them. */
    private String scrape() throws Exception {
        HttpResponse<Buffer> response = await(client.get("/metrics").send());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.getHeader("Content-Type")).startsWith("text/plain");
        return response.bodyAsString();
    }

    private static final Pattern CONSUMER_LAG = Pattern.compile(
            "^orders_consumer_lag\\{[^}]*partition=\"([^\"]+)\"[^}]*\\} ([0-9.eE+-]+)$", Pattern.MULTILINE);

    /** {@code orders_consumer_lag} by its partition label. */
    private static Map<String, Double> lagByPartition(String scrape) {
        Map<String, Double> lags = new java.util.TreeMap<>();
        Matcher matcher = CONSUMER_LAG.matcher(scrape);
        while (matcher.find()) {
            lags.put(matcher.group(1), Double.parseDouble(matcher.group(2)));
        }
        return lags;
    }

    private static double totalConsumerLag(String scrape) {
        Map<String, Double> lags = lagByPartition(scrape);
        assertThat(lags).as("orders_consumer_lag per partition").isNotEmpty();
        return lags.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** The value of the first sample of a metric whose labels contain all the given pairs; 0 if none. */
    private static double value(String scrape, String metric, String... labels) {
        Pattern line = Pattern.compile("^" + Pattern.quote(metric) + "(\\{[^}]*\\})? ([0-9.eE+-]+)$", Pattern.MULTILINE);
        Matcher matcher = line.matcher(scrape);
        while (matcher.find()) {
            String found = matcher.group(1) == null ? "" : matcher.group(1);
            boolean all = true;
            for (String label : labels) {
                all &= found.contains(label);
            }
            if (all) {
                return Double.parseDouble(matcher.group(2));
            }
        }
        return 0;
    }

    private static void eventually(String what, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(EVENTUALLY_MS);
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + EVENTUALLY_MS / 1000 + " s: " + what);
            }
            Thread.sleep(200);
        }
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
