package dev.orders.command.store;

import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.sql.PgPools;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;

import java.util.concurrent.TimeUnit;

/**
 * What the store's tests start from: a Vert.x instance and a pool on a fresh database of the shared test
 * PostgreSQL, its command schema migrated. Closing it closes both.
 */
public record MigratedCommandStore(Vertx vertx, Pool pool) implements AutoCloseable {

    /** A fresh database ({@link TestInfrastructure#isolatedConfig}), a pool of {@code size} named {@code name}. */
    public static MigratedCommandStore open(TestInfrastructure infra, int size, int maxWaitQueue, String name)
            throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        Vertx vertx = Vertx.vertx();
        Pool pool = PgPools.create(vertx, config.effectiveCommandPgUri(), size, maxWaitQueue, name);
        await(CommandSchema.MIGRATIONS.migrate(vertx, config.effectiveCommandPgUri()));
        return new MigratedCommandStore(vertx, pool);
    }

    @Override
    public void close() throws Exception {
        await(pool.close());
        await(vertx.close());
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
