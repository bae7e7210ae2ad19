package dev.orders.query.push;

import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fresh database, Vert.x and clients per test; nodes started on demand and closed after. The database
 * is an isolated one on the PostgreSQL shared by every test of the JVM ({@link SharedInfrastructure}),
 * reached as the query side's role with its schema first on the search path. Streams and WebSockets
 * are opened with an operator's bearer token unless a test names another credential.
 */
@ExtendWith(SharedInfrastructure.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
abstract class PushTestBase {

    static final PushSettings SETTINGS = PushSettings.defaults()
            .withPollInterval(Duration.ofMillis(500))
            .withHeartbeat(Duration.ofSeconds(1));

    Vertx vertx;
    PgConnectOptions db;
    Pool admin;
    ChangeLog log;
    HttpClient http;
    WebSocketClient ws;
    TestTokens tokens;
    /** A valid operator token: what streams are opened with unless a test says otherwise. */
    String operator;
    final List<PushNode> nodes = new ArrayList<>();

    @BeforeEach
    void setUp(TestInfrastructure infrastructure) throws Exception {
        vertx = Vertx.vertx();
        db = PgConnectOptions.fromUri(infrastructure.isolatedConfig().effectiveQueryPgUri());
        admin = PgBuilder.pool().connectingTo(db).using(vertx).build();
        await(ChangeLog.createTables(vertx, db));
        log = new ChangeLog(admin);
        http = vertx.createHttpClient(new HttpClientOptions(), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(2000));
        ws = vertx.createWebSocketClient();
        tokens = new TestTokens(vertx);
        operator = tokens.operator();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (PushNode node : nodes) {
            await(node.close());
        }
        await(vertx.close());
    }

    PushNode node(PushSettings settings) throws Exception {
        return node(settings, new HttpServerOptions());
    }

    PushNode node(PushSettings settings, HttpServerOptions options) throws Exception {
        return node(settings, OperatorStreamSettings.defaults(), options);
    }

    PushNode node(PushSettings settings, OperatorStreamSettings operators, HttpServerOptions options) throws Exception {
        PushNode node = await(PushNode.start(vertx, db, db, settings, operators, options));
        nodes.add(node);
        return node;
    }

    /** Opens a stream with the operator's token, unless the headers carry an Authorization or a Cookie. */
    SseClient sse(PushNode node, String path, String... headers) throws Exception {
        MultiMap map = MultiMap.caseInsensitiveMultiMap();
        for (int i = 0; i < headers.length; i += 2) {
            map.add(headers[i], headers[i + 1]);
        }
        if (!map.contains("Authorization") && !map.contains("Cookie")) {
            map.add("Authorization", TestTokens.bearer(operator));
        }
        return open(node, path, map);
    }

    /** Opens a stream with no credential at all. */
    SseClient anonymousSse(PushNode node, String path) throws Exception {
        return open(node, path, MultiMap.caseInsensitiveMultiMap());
    }

    /**
     * Opens the stream from an event loop, so that the client's handlers are in place before the response's
     * body arrives: from the test's thread, the callback that sets them may run after the body was delivered.
     */
    private SseClient open(PushNode node, String path, MultiMap headers) throws Exception {
        Promise<SseClient> opened = Promise.promise();
        vertx.getOrCreateContext().runOnContext(ignored -> SseClient.open(http, node.port(), path, headers)
                .onComplete(opened));
        return await(opened.future());
    }

    /** Headers with the operator's bearer token, for clients opened directly. */
    MultiMap operatorHeaders() {
        return MultiMap.caseInsensitiveMultiMap().add("Authorization", TestTokens.bearer(operator));
    }

    /** A WebSocket with the operator's token on its handshake. */
    WsClient wsClient(PushNode node, String origin) throws Exception {
        return WsClient.connect(ws, node.port(), origin, operator);
    }

    /** Appends the given versions of an order, one after the other; returns their positions. */
    List<Long> changes(UUID orderId, UUID customerId, int fromVersion, int toVersion) throws Exception {
        List<Future<Long>> appended = new ArrayList<>();
        for (int v = fromVersion; v <= toVersion; v++) {
            appended.add(log.append(orderId, customerId, v));
        }
        List<Long> positions = new ArrayList<>();
        for (Future<Long> future : appended) {
            positions.add(await(future));
        }
        return positions;
    }

    static List<Long> ids(List<SseClient.Event> events) {
        return events.stream().map(e -> Long.parseLong(e.id())).toList();
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(10);
        }
    }

    static List<Long> concat(List<Long> list, Long last) {
        List<Long> all = new ArrayList<>(list);
        all.add(last);
        return all;
    }

    /** A real WebSocket client collecting the server's messages. */
    static final class WsClient {
        final List<JsonObject> messages = new CopyOnWriteArrayList<>();
        WebSocket socket;
        Throwable failure;

        volatile Short closeCode;
        volatile String closeReason;

        /**
         * Connects with the token as a bearer header on the handshake (null: no credential).
         */
        static WsClient connect(WebSocketClient client, int port, String origin, String token) throws Exception {
            WebSocketConnectOptions options = new WebSocketConnectOptions();
            if (token != null) {
                options.addHeader("Authorization", TestTokens.bearer(token));
            }
            return connect(client, port, origin, options);
        }

        /** Connects with the handshake headers of {@code options} (host, port and URI are set here). */
        static WsClient connect(WebSocketClient client, int port, String origin, WebSocketConnectOptions options)
                throws Exception {
            WsClient ws = new WsClient();
            options.setHost("localhost").setPort(port).setURI("/api/ws");
            if (origin != null) {
                options.addHeader("Origin", origin);
            }
            try {
                ws.socket = await(client.connect(options));
                ws.socket.textMessageHandler(text -> ws.messages.add(new JsonObject(text)));
                ws.socket.closeHandler(ignored -> {
                    ws.closeReason = ws.socket.closeReason();
                    ws.closeCode = ws.socket.closeStatusCode();
                });
            } catch (java.util.concurrent.ExecutionException e) {
                ws.failure = e.getCause();
            }
            return ws;
        }

        void send(JsonObject message) {
            socket.writeTextMessage(message.encode());
        }

        List<JsonObject> orders() {
            return messages.stream().filter(m -> "order".equals(m.getString("type"))).toList();
        }

        List<JsonObject> errors() {
            return messages.stream().filter(m -> "error".equals(m.getString("type"))).toList();
        }
    }
}
