package dev.orders.query.push;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the order-change log to its window ({@link PushSettings.Retention}): every {@code pruneEvery} it
 * finds where the window starts, then deletes the changes below it from the oldest on, {@value #CHUNK} per
 * statement (short locks, never one long transaction), until a chunk comes back short. Deleting strictly
 * from below keeps the log "every change from its oldest position on", which resumes rely on. Non-blocking: each chunk is one
 * statement on the pool. Every query node prunes; two doing it at once delete each row once.
 */
final class ChangeRetention {

    private static final Logger LOG = LoggerFactory.getLogger(ChangeRetention.class);
    static final int CHUNK = 5_000;

    private final Vertx vertx;
    private final PushStore store;
    private final PushSettings.Retention retention;
    private long timer = -1;
    private boolean pruning;
    private boolean closed;

    ChangeRetention(Vertx vertx, PushStore store, PushSettings.Retention retention) {
        this.vertx = vertx;
        this.store = store;
        this.retention = retention;
    }

    /** Call on the context the pruning should run on. */
    void start() {
        timer = vertx.setPeriodic(retention.pruneEvery().toMillis(), id -> prune());
    }

    void close() {
        closed = true;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }

    private void prune() {
        if (pruning || closed) {
            return;
        }
        pruning = true;
        store.windowStart(retention).compose(start -> deleteBelow(start, 0)).onComplete(done -> {
            pruning = false;
            if (done.failed()) {
                LOG.warn("pruning the order-change log failed; the next round retries: {}", done.cause().getMessage());
            } else if (done.result() > 0) {
                LOG.debug("pruned {} changes from the order-change log", done.result());
            }
        });
    }

    private Future<Long> deleteBelow(long windowStart, long deletedSoFar) {
        return store.deleteBelow(windowStart, CHUNK).compose(deleted -> deleted == CHUNK && !closed
                ? deleteBelow(windowStart, deletedSoFar + deleted) : Future.succeededFuture(deletedSoFar + deleted));
    }
}
