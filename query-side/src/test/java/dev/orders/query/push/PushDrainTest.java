package dev.orders.query.push;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The push hub's part of a graceful stop ({@link PushHub#drain()}): every open stream is told to
 * reconnect elsewhere and ended, keeping its last id to resume with; new streams are refused with 503.
 */
@DisplayName("A draining push node sends its clients elsewhere")
class PushDrainTest extends PushTestBase {

    @Test
    @DisplayName("SSE gets event: reconnect and ends, WebSocket closes with 1012, new streams answer 503")
    void streams_are_told_to_reconnect_elsewhere_and_new_ones_are_refused() throws Exception {
        PushNode node = node(SETTINGS);
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        changes(order, customer, 1, 1);
        SseClient stream = sse(node, "/api/customers/" + customer + "/orders/stream");
        assertThat(stream.status()).isEqualTo(200);
        WsClient socket = wsClient(node, null);
        socket.send(new JsonObject().put("type", "subscribe").put("customerId", customer.toString()));
        eventually("both have the state", () -> stream.orders().size() == 1 && socket.orders().size() == 1);

        await(node.hub.drain());

        eventually("the stream ended", () -> stream.ended);
        assertThat(stream.events.getLast().event()).isEqualTo("reconnect");
        assertThat(stream.events.getLast().id()).as("no id: the client keeps its last one").isNull();
        assertThat(stream.lastId()).isEqualTo(stream.orders().get(0).id());
        eventually("the socket closed", () -> socket.closeCode != null);
        assertThat(socket.closeCode).isEqualTo((short) 1012);
        assertThat(socket.closeReason).contains("reconnect");
        eventually("the connections released", () -> node.hub.metrics().openConnections() == 0);

        SseClient refused = sse(node, "/api/customers/" + customer + "/orders/stream");
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.response().getHeader("Retry-After")).isNotNull();
    }

    @Test
    @DisplayName("a WebSocket that has not subscribed closes with 1012 too, next to a subscribed one")
    void a_socket_that_never_subscribed_closes_with_1012() throws Exception {
        PushNode node = node(SETTINGS);
        UUID customer = UUID.randomUUID();
        changes(UUID.randomUUID(), customer, 1, 1);
        WsClient subscribed = wsClient(node, null);
        subscribed.send(new JsonObject().put("type", "subscribe").put("customerId", customer.toString()));
        WsClient silent = wsClient(node, null);
        eventually("the subscribed one has the state", () -> subscribed.orders().size() == 1);
        eventually("both connections counted", () -> node.hub.metrics().openConnections() == 2);

        await(node.hub.drain());

        eventually("both sockets closed", () -> subscribed.closeCode != null && silent.closeCode != null);
        assertThat(subscribed.closeCode).isEqualTo((short) 1012);
        assertThat(silent.closeCode).as("the socket that never subscribed").isEqualTo((short) 1012);
        assertThat(silent.closeReason).contains("reconnect");
        eventually("the connections released", () -> node.hub.metrics().openConnections() == 0);
    }
}
