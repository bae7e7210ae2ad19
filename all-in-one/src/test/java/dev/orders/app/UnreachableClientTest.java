package dev.orders.app;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Why every test keeps its Vert.x clients in a variable it uses (or closes) after its last request: a client
 * that nothing refers to any more is closed by Vert.x's cleaner once the collector finds it, together with
 * the connections it has open. A test that connected with {@code vertx.createWebSocketClient().connect(..)}
 * lost its handshake that way ("Connection closed while handshake in process") when a collection happened
 * during it. Here the server holds the handshake until the collector has run, so the outcome is certain.
 */
@DisplayName("A Vert.x client nobody holds")
class UnreachableClientTest {

    private Vertx vertx;
    private NetServer server;
    private final CompletableFuture<NetSocket> handshake = new CompletableFuture<>();

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        // reads the upgrade request and answers nothing until the test says so
        server = vertx.createNetServer().connectHandler(socket -> socket.handler(bytes -> handshake.complete(socket)))
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void is_closed_by_the_collector_with_its_handshake_in_progress() throws Exception {
        WebSocketClient client = vertx.createWebSocketClient();
        WeakReference<WebSocketClient> unheld = new WeakReference<>(client);
        Future<WebSocket> connecting = client.connect(options());
        handshake.get(10, TimeUnit.SECONDS);
        client = null; // from here on, nothing refers to the client but the weak reference
        collectUntilGone(unheld);

        assertThatThrownBy(() -> connecting.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasMessageContaining("Connection closed while handshake in process");
    }

    @Test
    void keeps_its_handshake_while_a_variable_still_refers_to_it() throws Exception {
        WebSocketClient held = vertx.createWebSocketClient();
        Future<WebSocket> connecting = held.connect(options());
        NetSocket socket = handshake.get(10, TimeUnit.SECONDS);
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
        }
        socket.write("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");

        assertThatThrownBy(() -> connecting.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS))
                .as("the server's answer arrived: the connection was not closed")
                .hasCauseInstanceOf(UpgradeRejectedException.class);
        held.close();
    }

    private WebSocketConnectOptions options() {
        return new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.actualPort()).setURI("/api/ws");
    }

    private static void collectUntilGone(WeakReference<?> reference) throws InterruptedException {
        Instant deadline = Instant.now().plusSeconds(10);
        while (reference.get() != null) {
            assertThat(Instant.now()).as("the client collected within 10 s").isBefore(deadline);
            System.gc();
            Thread.sleep(20);
        }
    }
}
