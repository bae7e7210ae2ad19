package dev.orders.service.sql;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Function;

/**
 * A transaction whose BEGIN and COMMIT travel with its work: BEGIN is sent as a plain statement together
 * with the work's first statements, and COMMIT either behind the work's last statements ({@link #commit()},
 * one round trip for writes and commit) or, when the work did not send it, once the work succeeded. So a
 * transaction costs no round trip of its own.
 *
 * <p>The Vert.x client does not know of a transaction begun this way, so this class ends it itself: after
 * a failure it sends ROLLBACK, and hands the connection back to the pool only when the transaction is known
 * to be over (COMMIT or ROLLBACK answered). When ROLLBACK itself fails, the session may still be inside the
 * transaction, and the connection is closed for good (its server session ends, and the pool drops it)
 * instead of being handed to the next caller.
 */
public final class PipelinedTransaction {

    private static final Logger LOG = LoggerFactory.getLogger(PipelinedTransaction.class);
    private static final String BEGIN = "BEGIN";
    private static final String COMMIT = "COMMIT";
    private static final String ROLLBACK = "ROLLBACK";
    /** Ends the connection's own server session: the pool then drops the connection. */
    private static final String END_SESSION = "SELECT pg_terminate_backend(pg_backend_pid())";

    private final SqlConnection connection;
    private final Future<?> begun;
    private Future<Void> committed;

    private PipelinedTransaction(SqlConnection connection, Future<?> begun) {
        this.connection = connection;
        this.begun = begun;
    }

    /**
     * Runs {@code work} in a transaction on a connection of the pool; see the class comment.
     *
     * @return the work's result once committed; failed with the first failure (BEGIN's, the work's, COMMIT's)
     */
    public static <T> Future<T> run(Pool pool, Function<PipelinedTransaction, Future<T>> work) {
        return pool.getConnection().compose(conn -> {
            PipelinedTransaction tx = new PipelinedTransaction(conn, conn.query(BEGIN).execute());
            Future<T> worked;
            try {
                worked = work.apply(tx);
            } catch (RuntimeException bug) {
                worked = Future.failedFuture(bug);
            }
            return tx.end(worked);
        });
    }

    /** The connection the work sends its statements on; they follow BEGIN. */
    public SqlConnection connection() {
        return connection;
    }

    /** BEGIN's answer, for work that waits for it before its next statements. */
    public Future<?> begun() {
        return begun;
    }

    /**
     * Sends COMMIT now, behind every statement the work has sent so far: the transaction's last statement.
     * PostgreSQL answers a COMMIT after a failed statement with a rollback, which fails this future.
     */
    public Future<Void> commit() {
        if (committed == null) {
            committed = connection.query(COMMIT).execute().mapEmpty();
        }
        return committed;
    }

    private <T> Future<T> end(Future<T> worked) {
        // the transaction ends only once every statement sent has answered: BEGIN, the work, a COMMIT it sent
        return Future.join(begun, worked).<Void>mapEmpty().otherwiseEmpty()
                .compose(settled -> committed == null ? Future.<Void>succeededFuture() : committed.otherwiseEmpty())
                .compose(settled -> {
                    if (begun.succeeded() && worked.succeeded()) {
                        return commit().transform(done -> done.succeeded()
                                ? connection.close().transform(closed -> Future.succeededFuture(worked.result()))
                                : rollBack(done.cause()));
                    }
                    Throwable failure = begun.failed() ? begun.cause() : worked.cause();
                    if (committed != null && committed.succeeded()) {
                        // committed, though the work reports a failure: the transaction is over all the same
                        return connection.close().transform(closed -> Future.failedFuture(failure));
                    }
                    return rollBack(failure);
                });
    }

    private <T> Future<T> rollBack(Throwable failure) {
        return connection.query(ROLLBACK).execute()
                .transform(rolledBack -> {
                    if (rolledBack.succeeded()) {
                        return connection.close();
                    }
                    LOG.warn("ROLLBACK failed ({}); closing the connection instead of handing it back inside a "
                            + "transaction", rolledBack.cause().toString());
                    return discard();
                })
                .transform(ignored -> Future.failedFuture(failure));
    }

    /**
     * Ends the connection's server session (if the connection still answers at all), so that the pool drops
     * the connection instead of handing it to the next caller, then releases it.
     */
    private Future<Void> discard() {
        return connection.query(END_SESSION).execute()
                .transform(ended -> connection.close())
                .otherwiseEmpty();
    }
}
