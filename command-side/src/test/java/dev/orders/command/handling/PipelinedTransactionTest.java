package dev.orders.command.handling;

import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.sql.PgPools;
import dev.orders.service.sql.PipelinedTransaction;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link PipelinedTransaction} on a real PostgreSQL, with a pool of one connection, so that the next caller
 * always gets the connection the transaction before it used, unless that one was closed: whatever befell the
 * transaction, the next caller's statements run outside any transaction left open.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("A pipelined transaction")
class PipelinedTransactionTest {

    /** Whether a statement runs in a transaction begun before it: then now() is older than the statement. */
    private static final String SESSION = """
            SELECT pg_backend_pid() AS pid, now() < statement_timestamp() AS in_old_transaction,
                   (SELECT count(*) FROM tx_probe) AS rows""";

    private final Vertx vertx = Vertx.vertx();
    private Pool pool;
    private Pool other;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        pool = PgPools.create(vertx, config.effectiveCommandPgUri(), 1, 100, "one-connection");
        other = PgPools.create(vertx, config.effectiveCommandPgUri(), 2, 100, "other");
        await(other.query("CREATE TABLE tx_probe (n int)").execute());
    }

    @BeforeEach
    void empty() throws Exception {
        await(other.query("TRUNCATE tx_probe").execute());
    }

    @AfterAll
    void stop() throws Exception {
        await(vertx.close());
    }

    @Test
    @DisplayName("commits once the work succeeded, or with the COMMIT the work sent behind its writes")
    void commits_the_work() throws Exception {
        String done = await(PipelinedTransaction.run(pool, tx -> tx.connection().query("INSERT INTO tx_probe VALUES (1)")
                .execute().map(rows -> "done")));
        assertThat(done).isEqualTo("done");
        int pid = await(PipelinedTransaction.run(pool, tx -> {
            Future<Row> pidOf = tx.connection().query("SELECT pg_backend_pid()").execute().map(r -> r.iterator().next());
            Future<?> insert = tx.connection().query("INSERT INTO tx_probe VALUES (2)").execute();
            return Future.all(pidOf, insert, tx.commit()).map(all -> pidOf.result().getInteger(0));
        }));
        Row after = session();
        assertThat(after.getLong("rows")).isEqualTo(2);
        assertThat(after.getBoolean("in_old_transaction")).isFalse();
        assertThat(after.getInteger("pid")).as("the same connection serves on").isEqualTo(pid);
    }

    @Test
    @DisplayName("rolls back a failed work and hands the connection on outside any transaction")
    void rolls_back_a_failed_work() throws Exception {
        AtomicInteger pid = new AtomicInteger();
        assertThatThrownBy(() -> await(PipelinedTransaction.run(pool, tx -> {
            tx.connection().query("SELECT pg_backend_pid()").execute().onSuccess(r -> pid.set(r.iterator().next().getInteger(0)));
            tx.connection().query("INSERT INTO tx_probe VALUES (1)").execute();
            return tx.connection().query("SELECT 1 / 0").execute();
        }))).hasMessageContaining("division by zero");
        assertThatThrownBy(() -> await(PipelinedTransaction.run(pool, tx -> {
            tx.connection().query("INSERT INTO tx_probe VALUES (2)").execute();
            throw new IllegalStateException("the work's own bug, after it sent a statement");
        }))).hasMessageContaining("the work's own bug");
        Row after = session();
        assertThat(after.getLong("rows")).isZero();
        assertThat(after.getBoolean("in_old_transaction")).isFalse();
        assertThat(after.getInteger("pid")).as("a rolled-back connection is handed on").isEqualTo(pid.get());
    }

    @Test
    @DisplayName("closes a connection whose ROLLBACK failed: the next caller gets a new session, outside any transaction")
    void a_connection_whose_rollback_failed_never_serves_again() throws Exception {
        AtomicInteger pid = new AtomicInteger();
        Future<Object> failing = PipelinedTransaction.run(pool, tx -> tx.connection().query("SELECT pg_backend_pid()")
                .execute()
                .compose(rows -> {
                    pid.set(rows.iterator().next().getInteger(0));
                    return tx.connection().query("INSERT INTO tx_probe VALUES (1)").execute();
                })
                // its session ends (an operator, a failover) while the work runs: the work fails, so does ROLLBACK
                .compose(inserted -> Future.join(tx.connection().query("SELECT pg_sleep(30)").execute(),
                        other.preparedQuery("SELECT pg_terminate_backend($1)").execute(Tuple.of(pid.get()))))
                .map(done -> null));
        assertThatThrownBy(() -> await(failing)).isNotNull();

        Row after = session();
        assertThat(after.getInteger("pid")).as("a new session").isNotEqualTo(pid.get());
        assertThat(after.getBoolean("in_old_transaction")).isFalse();
        assertThat(after.getLong("rows")).isZero();
        String servedOn = await(PipelinedTransaction.run(pool, tx -> tx.connection().query("INSERT INTO tx_probe VALUES (3)")
                .execute().map(rows -> "the pool serves on")));
        assertThat(servedOn).isEqualTo("the pool serves on");
        assertThat(session().getLong("rows")).isEqualTo(1);
    }

    /** The pool's one connection, asked about its session after a pause that makes an old transaction show. */
    private Row session() throws Exception {
        Thread.sleep(20);
        return await(pool.query(SESSION).execute()).iterator().next();
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
