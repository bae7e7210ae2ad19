package dev.orders.command.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Forgets the {@code Idempotency-Key}s older than {@code idempotency.retention}: every {@code pruneEvery} it
 * deletes them oldest first, {@value #CHUNK} per statement (short locks, never one long transaction), until a
 * chunk comes back short. Without it the table would grow with every keyed request for ever. Every command
 * process prunes; two doing it at once delete each row once. A request repeated with a forgotten key runs as
 * a new one.
 */
public final class IdempotencyRetention extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(IdempotencyRetention.class);
    static final int CHUNK = 5_000;
    private static final Duration LONGEST_PAUSE = Duration.ofMinutes(10);
    private static final Duration SHORTEST_PAUSE = Duration.ofSeconds(1);

    private final Pool pool;
    private final Duration retention;
    private final Duration pruneEvery;
    private long timer = -1;
    private boolean pruning;
    private volatile boolean stopped;
    private volatile long forgotten;

    /** Prunes a tenth of the retention apart, at least every ten minutes and at most every second. */
    public IdempotencyRetention(Pool pool, Duration retention) {
        this(pool, retention, clamp(retention.dividedBy(10)));
    }

    IdempotencyRetention(Pool pool, Duration retention, Duration pruneEvery) {
        this.pool = pool;
        this.retention = retention;
        this.pruneEvery = pruneEvery;
    }

    private static Duration clamp(Duration pause) {
        return pause.compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE : pause.compareTo(SHORTEST_PAUSE) < 0 ? SHORTEST_PAUSE : pause;
    }

    @Override
    public Future<?> start() {
        timer = vertx.setPeriodic(pruneEvery.toMillis(), id -> prune());
        prune();
        return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
        stopped = true;
        vertx.cancelTimer(timer);
        return Future.succeededFuture();
    }

    /** Keys forgotten by this process since it started. */
    public long forgotten() {
        return forgotten;
    }

    private void prune() {
        if (pruning) {
            return;
        }
        pruning = true;
        deleteOlder(0).onComplete(done -> {
            pruning = false;
            if (done.failed()) {
                LOG.warn("pruning idempotency keys failed; the next round retries: {}", done.cause().getMessage());
            } else if (done.result() > 0) {
                forgotten += done.result();
                LOG.info("forgot {} idempotency keys older than {}", done.result(), retention);
            }
        });
    }

    private Future<Long> deleteOlder(long deletedSoFar) {
        return IdempotencyKeys.prune(pool, retention, CHUNK).compose(deleted -> deleted == CHUNK && !stopped
                ? deleteOlder(deletedSoFar + deleted) : Future.succeededFuture(deletedSoFar + deleted));
    }
}
