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
import org.junit.jupiter.api.AfterEach;

import java.util.concurrent.TimeUnit;

/**
 * Tests of a {@link ProjectionStore} on the test's query schema (migrated), through a pool of one connection with
 * the services' connection options (statements prepared once and kept), so that every statement the store
 * prepared is in the one session a test asks ({@code pg_prepared_statements}).
 */
abstract class OneSessionStoreCase {

    private Vertx vertx;
    /** The store's one session, once {@link #store} made it. */
    Pool pool;

    /** The store, on a fresh pool of one connection. */
    ProjectionStore store(TestInfrastructure infra) throws Exception {
        vertx = Vertx.vertx();
        PgConnectOptions db = PgPools.connectOptions(infra.isolatedConfig().effectiveQueryPgUri());
        await(QuerySide.MIGRATIONS.migrate(vertx, db));
        pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(db).using(vertx).build();
        return new ProjectionStore(vertx, pool);
    }

    @AfterEach
    void closeSession() throws Exception {
        if (pool != null) {
            await(pool.close());
        }
        if (vertx != null) {
            await(vertx.close());
        }
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
