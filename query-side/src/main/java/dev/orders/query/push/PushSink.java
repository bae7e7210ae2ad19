package dev.orders.query.push;

import io.vertx.core.Handler;

/** Where one subscription's messages go: an SSE response or a WebSocket. Used on its connection's context. */
interface PushSink {

    /** Writes one order change (or state), with its position as the resume id. */
    void order(ChangeRow change);

    /**
     * Gives the client {@code id} as its resume id, with nothing to show: everything the stream shows up to
     * that position has been sent. Sent when a stream's start ends past its last shown change (an empty
     * state above all), so that a client cut before any change still resumes from there and misses none.
     */
    void position(long id);

    /** Tells the client to drop what it shows: the full current state follows. */
    void reset();

    /** Keeps an idle connection open. */
    void heartbeat();

    boolean writeQueueFull();

    void drainHandler(Handler<Void> handler);

    /** Closes the connection; the client reconnects and resumes. */
    void close();

    /** The caller's token expired: tells the client so and ends the connection; it signs in again to resume. */
    void expired();

    /** This node shuts down: tells the client to reconnect (to another node) and resume, and ends the connection. */
    void moveOn();
}
