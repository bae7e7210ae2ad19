package dev.orders.query.push;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;

/** A subscription's messages as WebSocket text frames: {@code {"type":"order","id":"<position>","order":{...}}}. */
final class WebSocketSink implements PushSink {

    /** The WebSocket close code "Service Restart" (RFC 6455 registry): reconnect, maybe elsewhere. */
    static final short SERVICE_RESTART = 1012;

    private static final Buffer PING = Buffer.buffer("hb");
    private final ServerWebSocket socket;

    WebSocketSink(ServerWebSocket socket) {
        this.socket = socket;
    }

    @Override
    public void order(ChangeRow change) {
        // The view is the stored JSON text: spliced in, not parsed and encoded again.
        socket.writeTextMessage("{\"type\":\"order\",\"id\":\"" + change.position() + "\",\"order\":" + change.view() + "}");
    }

    /** {@code {"type":"position","id":"<position>"}}: the id to resume with, with no order to show. */
    @Override
    public void position(long id) {
        socket.writeTextMessage("{\"type\":\"position\",\"id\":\"" + id + "\"}");
    }

    @Override
    public void reset() {
        socket.writeTextMessage("{\"type\":\"reset\"}");
    }

    @Override
    public void heartbeat() {
        socket.writePing(PING);
    }

    @Override
    public boolean writeQueueFull() {
        return socket.writeQueueFull();
    }

    @Override
    public void drainHandler(Handler<Void> handler) {
        socket.drainHandler(handler);
    }

    @Override
    public void expired() {
        WebSocketSession.closeExpired(socket);
    }

    /** Close code 1012 (service restart): the client reconnects, to another node, and resubscribes. */
    @Override
    public void moveOn() {
        closeForRestart(socket);
    }

    /** Closes a socket, subscribed or not, with {@value #SERVICE_RESTART}: this node is going away. */
    static void closeForRestart(ServerWebSocket socket) {
        if (!socket.isClosed()) {
            socket.close(SERVICE_RESTART, "this node is shutting down: reconnect and resubscribe with lastEventId");
        }
    }

    @Override
    public void close() {
        if (!socket.isClosed()) {
            socket.close((short) 1013, "stalled: reconnect and resume with lastEventId");
        }
    }
}
