package dev.orders.query.http;

import dev.orders.service.http.ProblemException;

/**
 * Whether the read model may be read: shut while a lost schema is recreated and refilled, so that a
 * query is answered {@code 503} with {@code Retry-After} rather than from half-filled tables (an order
 * not restored yet would read as unknown).
 */
public final class ReadGate {

    static final int RETRY_AFTER_SECONDS = 2;

    private volatile boolean shut;

    public void shut() {
        shut = true;
    }

    public void open() {
        shut = false;
    }

    /** Throws the {@code 503} problem while the gate is shut. */
    public void check() {
        if (shut) {
            throw ProblemException.unavailable("the read model is being restored from the event store; retry shortly",
                    RETRY_AFTER_SECONDS);
        }
    }
}
