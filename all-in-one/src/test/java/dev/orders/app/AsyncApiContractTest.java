package dev.orders.app;

import dev.orders.events.EventTypes;
import dev.orders.events.Topics;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.http.ContractDocument;
import dev.orders.testsupport.JsonSchemas;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.cloudevents.CloudEvent;
import io.cloudevents.SpecVersion;
import io.cloudevents.kafka.CloudEventDeserializer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The AsyncAPI document against what the system really sends: every Kafka record of a flow that produces
 * every event type (key, headers and body checked against the document's message of the record's type, and
 * read again as CloudEvents by the CloudEvents SDK), and every SSE event and WebSocket message pushed meanwhile.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The AsyncAPI document")
class AsyncApiContractTest {

    private OrdersApp app;
    private OrdersConfig config;
    private Vertx vertx;
    private WebClient client;
    private JsonObject document;

    @BeforeAll
    void start(TestInfrastructure infra) {
        config = infra.isolatedConfig();
        app = OrdersApp.start(config);
        vertx = Vertx.vertx();
        client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("localhost").setDefaultPort(app.port()));
        HttpResponse<Buffer> served = await(client.get(ContractDocument.ASYNCAPI_PATH).send());
        assertThat(served.statusCode()).as("served without a token: %s", served.bodyAsString()).isEqualTo(200);
        assertThat(served.bodyAsJsonObject()).isEqualTo(ContractDocument.asyncApi().json());
        document = JsonSchemas.resolved(served.bodyAsJsonObject());
    }

    @AfterAll
    void stop() {
        try {
            if (vertx != null) {
                await(vertx.close());
            }
        } finally {
            if (app != null) {
                app.close();
            }
        }
    }

    @Test
    void describes_every_event_type_on_the_topic_of_its_stream() {
        Set<String> documented = new TreeSet<>();
        for (String channel : List.of("customerEvents", "orderEvents")) {
            documented.addAll(channel(channel).getJsonObject("messages").fieldNames());
        }
        assertThat(documented).containsExactlyInAnyOrderElementsOf(EventTypes.all());
        assertThat(channel("customerEvents").getString("address").replace("{prefix}", "orders"))
                .isEqualTo(Topics.of("orders", dev.orders.events.StreamType.CUSTOMER));
        assertThat(channel("orderEvents").getString("address").replace("{prefix}", "orders"))
                .isEqualTo(Topics.of("orders", dev.orders.events.StreamType.ORDER));
    }

    @Test
    void every_record_sse_event_and_websocket_message_of_a_flow_with_every_event_type_conforms() throws Exception {
        String operator = signIn(new JsonObject().put("role", "operator"));
        HttpResponse<Buffer> created = await(client.post("/api/customers").putHeader("Authorization", "Bearer " + operator)
                .sendJsonObject(new JsonObject().put("name", "Ada").put("creditLimit", money("100.00"))));
        assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
        String customerId = created.bodyAsJsonObject().getString("customerId");
        String token = signIn(new JsonObject().put("customerId", customerId));

        eventually("the customer in the read model", () -> await(client.get("/api/customers/" + customerId)
                .putHeader("Authorization", "Bearer " + token).send()).statusCode() == 200);
        HttpClient http = vertx.createHttpClient();
        AllInOneFlowTest.SseStream stream = await(AllInOneFlowTest.SseStream.open(http, app.port(),
                "/api/customers/" + customerId + "/orders/stream", "orders_session=" + token));
        assertThat(stream.response().statusCode()).isEqualTo(200);
        List<String> frames = new CopyOnWriteArrayList<>();
        // both clients are held to the end and closed there: one nobody refers to is closed by Vert.x's cleaner,
        // with its connections, when the collector finds it (UnreachableClientTest)
        WebSocketClient webSockets = vertx.createWebSocketClient();
        var socket = await(webSockets.connect(new WebSocketConnectOptions().setHost("localhost")
                .setPort(app.port()).setURI("/api/ws").addHeader("Authorization", "Bearer " + token)));
        socket.textMessageHandler(frames::add);
        JsonObject subscribe = new JsonObject().put("type", "subscribe").put("customerId", customerId);
        JsonSchemas.assertValid(message("webSocket", "WsSubscribe").getJsonObject("payload"), subscribe, "the subscribe message");
        await(socket.writeTextMessage(subscribe.encode()));

        // approved then cancelled (reserved, released), and one past the limit (exceeded, rejected)
        String approved = place(token, customerId, "40.00");
        String rejected = place(token, customerId, "500.00");
        eventually("both settled on the stream", () -> stream.statusesOf(approved).contains("APPROVED")
                && stream.statusesOf(rejected).contains("REJECTED"));
        HttpResponse<Buffer> cancelled = await(client.post("/api/orders/" + approved + "/cancel")
                .putHeader("Authorization", "Bearer " + token).send());
        assertThat(cancelled.statusCode()).as(cancelled.bodyAsString()).isEqualTo(202);
        eventually("the cancel on the stream and the socket", () -> stream.statusesOf(approved).contains("CANCELLED")
                && frames.stream().anyMatch(f -> f.contains("CANCELLED")));

        List<ConsumerRecord<String, byte[]>> records = readBothTopics(customerId, 9);
        assertThat(records.stream().map(r -> Topics.eventType(header(r, Topics.HEADER_TYPE))).collect(Collectors.toSet()))
                .as("the flow produced every event type").containsExactlyInAnyOrderElementsOf(EventTypes.all());
        for (ConsumerRecord<String, byte[]> record : records) {
            String type = Topics.eventType(header(record, Topics.HEADER_TYPE));
            String channel = record.topic().endsWith("customer-events") ? "customerEvents" : "orderEvents";
            JsonObject message = message(channel, type);
            String what = type + " at " + record.topic() + "/" + record.partition() + "@" + record.offset();
            JsonObject headers = new JsonObject();
            for (Header header : record.headers()) {
                headers.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
            }
            JsonSchemas.assertValid(message.getJsonObject("headers"), headers, what + ": its headers");
            JsonObject body = new JsonObject(Buffer.buffer(record.value()));
            JsonSchemas.assertValid(message.getJsonObject("payload"), body, what + ": its body");
            JsonSchemas.assertValid(message.getJsonObject("bindings").getJsonObject("kafka").getJsonObject("key"),
                    record.key(), what + ": its key");
            assertThat(record.key()).as("keyed by the customer").isEqualTo(customerId);
            assertThat(headers.getString(Topics.HEADER_SCHEMA_VERSION)).as("the header's schema version is the body's")
                    .isEqualTo(Integer.toString(body.getInteger("schemaVersion")));
        }

        List<CloudEvent> cloudEvents = readAsCloudEvents(customerId, records.size());
        assertThat(cloudEvents).hasSameSizeAs(records);
        for (CloudEvent event : cloudEvents) {
            JsonObject body = new JsonObject(Buffer.buffer(event.getData().toBytes()));
            assertThat(event.getSpecVersion()).isEqualTo(SpecVersion.V1);
            assertThat(event.getId()).isEqualTo(body.getString("eventId"));
            assertThat(event.getType()).isEqualTo("dev.orders." + body.getString("type"));
            assertThat(event.getSource()).hasToString("/orders/" + body.getString("streamType"));
            assertThat(event.getSubject()).isEqualTo(body.getString("streamId"));
            assertThat(event.getTime()).isNotNull();
            assertThat(event.getTime().toInstant()).isEqualTo(Instant.parse(body.getString("occurredAt")));
            assertThat(event.getDataContentType()).isEqualTo("application/json");
            assertThat(event.getExtension("schemaversion")).hasToString(body.getInteger("schemaVersion").toString());
            assertThat(event.getExtension("streamversion")).hasToString(body.getLong("version").toString());
            assertThat(event.getExtension("globalposition")).hasToString(body.getLong("globalPosition").toString());
            assertThat(event.getExtension("correlationid")).hasToString(body.getJsonObject("metadata").getString("correlationId"));
        }

        JsonObject sseOrder = message("customerOrderStream", "SseOrder").getJsonObject("payload");
        assertThat(stream.events()).isNotEmpty().allSatisfy(event -> {
            assertThat(event.event()).isEqualTo("order");
            JsonSchemas.assertValid(sseOrder, event.json(), "SSE event: order");
        });
        Map<String, JsonObject> wsMessages = Map.of(
                "order", message("webSocket", "WsOrder").getJsonObject("payload"),
                "position", message("webSocket", "WsPosition").getJsonObject("payload"));
        assertThat(frames).isNotEmpty().anySatisfy(frame -> assertThat(new JsonObject(frame).getString("type")).isEqualTo("order"))
                .allSatisfy(frame -> {
                    JsonObject message = new JsonObject(frame);
                    assertThat(wsMessages).as("a documented WebSocket message: %s", frame).containsKey(message.getString("type"));
                    JsonSchemas.assertValid(wsMessages.get(message.getString("type")), message, "WebSocket message");
                });
        stream.close();
        await(socket.close());
        await(webSockets.close());
        await(http.close());
    }

    @Test
    void the_check_is_not_vacuous_it_refuses_what_the_document_does_not_allow() {
        JsonObject payload = message("orderEvents", "OrderRejected").getJsonObject("payload");
        JsonObject valid = new JsonObject().put("eventId", UUID.randomUUID().toString()).put("streamType", "order")
                .put("streamId", UUID.randomUUID().toString()).put("version", 2).put("globalPosition", 7)
                .put("type", "OrderRejected").put("schemaVersion", 1).put("occurredAt", Instant.now().toString())
                .put("metadata", new JsonObject()).put("data", new JsonObject().put("orderId", UUID.randomUUID().toString())
                        .put("customerId", UUID.randomUUID().toString()).put("reason", "CREDIT_LIMIT_EXCEEDED"));
        assertThat(JsonSchemas.isValid(payload, valid)).isTrue();
        assertThat(JsonSchemas.isValid(payload, valid.copy().put("type", "OrderApproved"))).isFalse();
        JsonObject badReason = valid.copy();
        badReason.getJsonObject("data").put("reason", "BECAUSE");
        assertThat(JsonSchemas.isValid(payload, badReason)).isFalse();
        JsonObject created = message("customerEvents", "CustomerCreated").getJsonObject("payload");
        JsonObject v2 = valid.copy().put("type", "CustomerCreated").put("streamType", "customer").put("schemaVersion", 2)
                .put("data", new JsonObject().put("customerId", UUID.randomUUID().toString()).put("name", "Ada")
                        .put("creditLimit", money("10.00")));
        assertThat(JsonSchemas.isValid(created, v2)).isTrue();
        assertThat(JsonSchemas.isValid(created, v2.copy().put("schemaVersion", 1)))
                .as("schema 1 names the limit 'limit'").isFalse();
    }

    private JsonObject channel(String name) {
        JsonObject channel = document.getJsonObject("channels").getJsonObject(name);
        assertThat(channel).as("the channel %s", name).isNotNull();
        return channel;
    }

    private JsonObject message(String channel, String name) {
        JsonObject message = channel(channel).getJsonObject("messages").getJsonObject(name);
        assertThat(message).as("the message %s of %s", name, channel).isNotNull();
        return message;
    }

    private String place(String token, String customerId, String amount) {
        HttpResponse<Buffer> placed = await(client.post("/api/orders").putHeader("Authorization", "Bearer " + token)
                .sendJsonObject(new JsonObject().put("customerId", customerId).put("total", money(amount))));
        assertThat(placed.statusCode()).as(placed.bodyAsString()).isEqualTo(202);
        return placed.bodyAsJsonObject().getString("orderId");
    }

    /** Every record of the customer on both topics, read from the start until at least {@code expected}. */
    private List<ConsumerRecord<String, byte[]>> readBothTopics(String customerId, int expected) {
        List<ConsumerRecord<String, byte[]>> records = read(customerId, expected, new ByteArrayDeserializer());
        assertThat(records).as("the customer's records on both topics").hasSizeGreaterThanOrEqualTo(expected);
        return records;
    }

    /** The customer's records as a team elsewhere reads them: with the CloudEvents SDK's Kafka deserializer. */
    private List<CloudEvent> readAsCloudEvents(String customerId, int expected) {
        return read(customerId, expected, new CloudEventDeserializer()).stream().map(ConsumerRecord::value).toList();
    }

    private <V> List<ConsumerRecord<String, V>> read(String customerId, int expected, Deserializer<V> values) {
        Map<String, Object> settings = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG, "contract-check-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<ConsumerRecord<String, V>> records = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(settings, new StringDeserializer(), values)) {
            consumer.subscribe(Topics.all(config.kafkaTopicPrefix()));
            Instant deadline = Instant.now().plusSeconds(30);
            while (records.size() < expected && Instant.now().isBefore(deadline)) {
                consumer.poll(Duration.ofMillis(500)).forEach(record -> {
                    if (customerId.equals(record.key())) {
                        records.add(record);
                    }
                });
            }
        }
        return records;
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private String signIn(JsonObject who) {
        HttpResponse<Buffer> signedIn = await(client.post("/api/dev/token").sendJsonObject(who));
        assertThat(signedIn.statusCode()).as(signedIn.bodyAsString()).isEqualTo(200);
        return signedIn.bodyAsJsonObject().getString("token");
    }

    private static JsonObject money(String amount) {
        return new JsonObject().put("amount", amount).put("currency", "EUR");
    }

    private static void eventually(String what, java.util.function.BooleanSupplier done) throws InterruptedException {
        Instant deadline = Instant.now().plusSeconds(30);
        while (!done.getAsBoolean()) {
            assertThat(Instant.now()).as("%s within 30 s", what).isBefore(deadline);
            Thread.sleep(50);
        }
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("no answer: " + e, e);
        }
    }
}
