package dev.orders.command.store;

import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The check a saga batch decided on remembered states sends with its appends ({@link EventStore#requireCurrent},
 * the PL/pgSQL function {@code batch_require_current}) costs index lookups, not a scan of the store, on the
 * session a service has kept since its first batches. PL/pgSQL keeps the plans of a function's statements for the
 * session: planned once for all while the store was nearly empty, they went on scanning every event as the store
 * grew, until autovacuum's first ANALYZE of the table made them be planned again.
 */
@ExtendWith(SharedInfrastructure.class)
@DisplayName("The check of a batch decided on remembered states")
class BatchCheckCostTest {

    private static final int STORED = 4_000;
    /** Sequential scans of the events table in the current transaction. */
    private static final String SCANS = "SELECT pg_stat_get_xact_numscans('events'::regclass)";

    private final EventStore store = new EventStore();
    private MigratedCommandStore migrated;
    private Pool pool;

    @BeforeEach
    void setUp(TestInfrastructure infra) throws Exception {
        migrated = MigratedCommandStore.open(infra, 2, 100, "batch-check-test");
        pool = migrated.pool();
    }

    @AfterEach
    void tearDown() throws Exception {
        migrated.close();
    }

    @Test
    @DisplayName("looks its events up by index on a session whose first checks ran on a nearly empty store")
    void looks_up_by_index_after_the_store_grew() throws Exception {
        // no ANALYZE until the end: a store in its first minutes, before autovacuum's first
        await(pool.query(YoungStore.NO_AUTOVACUUM).execute());
        SqlConnection session = await(pool.getConnection());
        try {
            // a service's first batches, on a store with a handful of events: the function's plans are made now
            await(session.query(YoungStore.fill(2)).execute());
            for (int i = 0; i < 10; i++) {
                await(check(session));
            }
            await(pool.query(YoungStore.fill(STORED / 4)).execute());

            await(session.query("BEGIN").execute());
            long before = scans(session);
            await(check(session));
            long scans = scans(session) - before;
            await(session.query("COMMIT").execute());

            assertThat(scans).as("sequential scans of the %,d events by one check", STORED).isZero();
        } finally {
            await(session.close());
        }
    }

    private static long scans(SqlConnection session) throws Exception {
        return await(session.query(SCANS).execute()).iterator().next().getLong(0);
    }

    /** A check of a batch of three commands on three streams, none of them stored: it passes. */
    private Future<Void> check(SqlConnection session) {
        List<UUID> commands = List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
        return store.requireCurrent(session, commands, Map.of(UUID.randomUUID(), 0L, UUID.randomUUID(), 0L,
                UUID.randomUUID(), 0L));
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
