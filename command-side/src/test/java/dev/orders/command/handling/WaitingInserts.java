package dev.orders.command.handling;

import io.vertx.sqlclient.Pool;

import java.util.concurrent.TimeUnit;

/** Waits until inserts into the events table wait for a lock another session of the test holds. */
final class WaitingInserts {

    private WaitingInserts() {
    }

    /** Returns once at least {@code count} inserts into {@code events} of this database wait for a lock (at most 30 s). */
    static void await(Pool pool, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long waiting = 0;
        while (System.nanoTime() < deadline) {
            waiting = pool.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                            + " AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO events%'").execute()
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).iterator().next().getLong(0);
            if (waiting >= count) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError(waiting + " inserts waited for the lock, not " + count);
    }
}
