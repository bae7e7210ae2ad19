package dev.orders.query.store;

import dev.orders.query.QuerySide;
import dev.orders.service.sql.PgPools;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

import java.util.concurrent.TimeUnit;

/**
 * A {@link ProjectionStore} on the test's query schema (migrated), through a pool of one connection with the
 * services' connection options (statements prepared once and kept), so that every statement it prepared is in
 * the one session a test asks ({@code pg_prepared_statements}).
 */
final class OneSessionStore {

    final Vertx vertx;
    final Pool pool;
    final ProjectionStore store;

    private OneSessionStore(Vertx vertx, Pool pool) {
        this.vertx = vertx;
        this.pool = pool;
        this.store = new ProjectionStore(vertx, pool);
    }

    static OneSessionStore open(TestInfrastructure infra) throws Exception {
        Vertx vertx = Vertx.vertx();
        PgConnectOptions db = PgPools.connectOptions(infra.isolatedConfig().effectiveQueryPgUri());
        await(QuerySide.MIGRATIONS.migrate(vertx, db));
        return new OneSessionStore(vertx, PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(db)
                .using(vertx).build());
    }

    void close() throws Exception {
        await(pool.close());
        await(vertx.close());
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
