package dev.orders.command.handling;

import dev.orders.command.store.EventStore;
import dev.orders.service.sql.PipelinedTransaction;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Group commit of new streams' first events (a new order, a new customer). A creation that arrives while
 * {@value #IN_FLIGHT} groups are being committed waits; when one of them is done, everything that waited (up to
 * {@value #LARGEST} creations) goes together as the next group: one transaction, one multi-row INSERT of all their
 * events, each creation's own work beside it (its idempotent answer), one COMMIT. On a quiet system a creation
 * finds no group under way and goes alone at once, so grouping adds no wait; under load many creations share one
 * commit and one round trip.
 *
 * <p>A stream's first events need no read and no version check (the store's unique index refuses a second
 * creation), so a group is only writes. It commits whole or not at all: when it fails, every creation in it fails
 * with the group's failure, and its caller appends it again alone, which gives each its own outcome; one creation
 * the store refuses never refuses the others.
 *
 * <p>What waits is bounded like the pool's own wait queue ({@code pg.pool.max-wait-queue}): a creation that finds
 * that many waiting fails at once as one that finds the pool's queue full does, so an overloaded service still
 * answers {@code 503} at once instead of queueing without end.
 *
 * <p>Creations arrive on any event loop and groups answer on the pool's, so what waits and what is under way is
 * guarded by this object's lock; each creation's outcome is delivered on the context it came from.
 */
final class GroupCommit {

    /**
     * Groups whose transactions may be under way at once. Two, not more: on two cores fewer groups under way make
     * larger ones, and a larger group costs less a creation (BENCHMARKS.md, 2026-12-07 11:30 UTC: the command hop
     * alone at 32 clients took 48–51% of pgbench's rate with two, 38–43% with four and 31–32% with eight).
     */
    static final int IN_FLIGHT = 2;
    /** The most creations in one group. */
    static final int LARGEST = 500;

    /** One creation: its append, the work to do in its transaction, and whom to tell. */
    private record Creation(EventStore.Append append, Function<SqlConnection, Future<Void>> work, Context context,
                            Promise<Void> outcome) {

        void tell(AsyncResult<Void> committed) {
            if (Vertx.currentContext() == context) {
                outcome.handle(committed);
            } else {
                context.runOnContext(v -> outcome.handle(committed));
            }
        }
    }

    private final Vertx vertx;
    private final Pool pool;
    private final EventStore store;
    private final CommandMetrics metrics;
    private final int maxWaiting;
    private List<Creation> waiting = new ArrayList<>();
    private int inFlight;

    /** @param maxWaiting how many creations may wait for a group at once; -1 for no bound */
    GroupCommit(Vertx vertx, Pool pool, EventStore store, CommandMetrics metrics, int maxWaiting) {
        this.vertx = vertx;
        this.pool = pool;
        this.store = store;
        this.metrics = metrics;
        this.maxWaiting = maxWaiting;
    }

    /**
     * Appends a new stream's first events, with {@code work} in the same transaction, in the next group.
     *
     * @return done once its group committed; failed with the group's failure (nothing of the group was written), or
     *         at once with a {@link ConnectionPoolTooBusyException} when {@code maxWaiting} creations wait already
     */
    Future<Void> append(EventStore.Append append, Function<SqlConnection, Future<Void>> work) {
        if (append.expectedVersion() != 0) {
            return Future.failedFuture(new IllegalArgumentException("only a stream's first events are grouped, not "
                    + append.streamId() + " after version " + append.expectedVersion()));
        }
        Creation creation = new Creation(append, work, vertx.getOrCreateContext(), Promise.promise());
        List<Creation> group;
        synchronized (this) {
            if (maxWaiting >= 0 && waiting.size() >= maxWaiting && inFlight >= IN_FLIGHT) {
                return Future.failedFuture(new ConnectionPoolTooBusyException("creations waiting for a group commit"
                        + " reached the pool's max wait queue size of " + maxWaiting));
            }
            waiting.add(creation);
            group = next();
        }
        commit(group);
        return creation.outcome().future();
    }

    /** The group to commit now, if one may start: everything waiting, up to {@link #LARGEST}. Under the lock. */
    private List<Creation> next() {
        if (inFlight >= IN_FLIGHT || waiting.isEmpty()) {
            return List.of();
        }
        inFlight++;
        if (waiting.size() <= LARGEST) {
            List<Creation> group = waiting;
            waiting = new ArrayList<>();
            return group;
        }
        List<Creation> group = new ArrayList<>(waiting.subList(0, LARGEST));
        waiting = new ArrayList<>(waiting.subList(LARGEST, waiting.size()));
        return group;
    }

    private void commit(List<Creation> group) {
        if (group.isEmpty()) {
            return;
        }
        PipelinedTransaction.run(pool, tx -> {
            List<Future<?>> sent = new ArrayList<>(group.size() + 2);
            sent.add(store.appendAll(tx.connection(), group.stream().map(Creation::append).toList()));
            for (Creation creation : group) {
                sent.add(creation.work().apply(tx.connection()));
            }
            sent.add(tx.commit());
            return CommandHandler.inOrder(sent);
        }).onComplete(committed -> {
            metrics.group(group.size(), committed.succeeded());
            List<Creation> following;
            synchronized (this) {
                inFlight--;
                following = next();
            }
            group.forEach(creation -> creation.tell(committed));
            commit(following);
        });
    }
}
