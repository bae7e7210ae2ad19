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
}
