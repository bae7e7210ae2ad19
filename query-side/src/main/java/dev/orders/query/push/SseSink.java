package dev.orders.query.push;

import io.vertx.core.Handler;

/** A subscription's messages as server-sent events: {@code event: order}, {@code id: <position>}, the view. */
final class SseSink implements PushSink {

    private static final String RESET = "{\"type\":\"reset\"}";
    private static final String EXPIRED = "{\"type\":\"expired\"}";
    private static final String RECONNECT = "{\"type\":\"reconnect\",\"reason\":\"this node is shutting down\"}";
    private final SseWriter writer;

    SseSink(SseWriter writer) {
        this.writer = writer;
    }

    @Override
    public void order(ChangeRow change) {
        writer.event("order", Long.toString(change.position()), change.view());
    }

    /** An id alone ({@code id: N} and a blank line): EventSource takes it as its last id and dispatches nothing. */
    @Override
    public void position(long id) {
        writer.id(Long.toString(id));
    }

    /** No id: the empty {@code id:} clears the browser's last id, so a cut during the state starts afresh. */
    @Override
    public void reset() {
        writer.event("reset", "", RESET);
    }

    /** Operators' stream only: {@code n} order changes were dropped by its rate cap; no id, it resumes nothing. */
    void skipped(long n) {
        writer.event("skipped", null, "{\"skipped\":" + n + "}");
    }

    @Override
    public void heartbeat() {
        writer.comment("hb");
    }

    @Override
    public boolean writeQueueFull() {
        return writer.writeQueueFull();
    }

    @Override
    public void drainHandler(Handler<Void> handler) {
        writer.drainHandler(handler);
    }

    @Override
    public void close() {
        writer.close();
    }

    /** {@code event: expired} without an id (the client keeps its last id to resume with), then the end. */
    @Override
    public void expired() {
        writer.event("expired", null, EXPIRED);
        writer.end();
    }

    /**
     * {@code event: reconnect} without an id (the client keeps its last id), then the end: EventSource
     * reconnects by itself, through the balancer to another node, with {@code Last-Event-ID}.
     */
    @Override
    public void moveOn() {
        writer.event("reconnect", null, RECONNECT);
        writer.end();
    }
}
