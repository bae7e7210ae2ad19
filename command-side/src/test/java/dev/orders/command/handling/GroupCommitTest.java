package dev.orders.command.handling;

import dev.orders.command.domain.CustomerCommand.CreateCustomer;
import dev.orders.command.domain.CustomerCommand.ReserveCredit;
import dev.orders.command.domain.CustomerState;
import dev.orders.command.handling.CommandHandler.InTransaction;
import dev.orders.command.handling.CommandHandler.Result;
import dev.orders.command.store.EventStore;
import dev.orders.command.store.MigratedCommandStore;
import dev.orders.command.store.Snapshots;
import dev.orders.events.EventMetadata;
import dev.orders.events.Money;
import dev.orders.service.sql.PoolOverload;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Creations appended in groups ({@link GroupCommit}) on the real event store. Another session's lock on the events
 * table holds the first groups' inserts, so which creations share a transaction is fixed, not a matter of timing: the
 * first {@value GroupCommit#IN_FLIGHT} creations each start a group of their own at once, and every creation that
 * arrives while those wait goes in the next group, all together.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("Group commit of creations")
class GroupCommitTest {

    private final EventStore store = new EventStore();
    private MigratedCommandStore database;
    private Vertx vertx;
    private Pool pool;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        database = MigratedCommandStore.open(infra, 12, 100, "group-commit-test");
        vertx = database.vertx();
        pool = database.pool();
    }

    @AfterAll
    void stop() throws Exception {
        database.close();
    }

    @Test
    @DisplayName("appends the creations that arrive while groups are under way in one transaction")
    void creations_that_wait_share_one_commit() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CommandHandler handler = new CommandHandler(vertx, pool, store, new Snapshots(), Clock.systemUTC(),
                UUID::randomUUID, 100, 8, registry, true, -1);
        SqlConnection lock = lockEvents();
        List<UUID> alone = new ArrayList<>();
        List<Future<Result<CustomerState>>> created = new ArrayList<>();
        for (int i = 0; i < GroupCommit.IN_FLIGHT; i++) {
            alone.add(create(handler, created, InTransaction.nothing()));
        }
        WaitingInserts.await(pool, GroupCommit.IN_FLIGHT);
        List<UUID> together = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            together.add(create(handler, created, InTransaction.nothing()));
        }
        await(lock.query("COMMIT").execute());
        await(lock.close());

        for (Future<Result<CustomerState>> one : created) {
            assertThat(await(one).version()).isEqualTo(1);
        }
        for (UUID id : concat(alone, together)) {
            assertThat(await(store.load(pool, id, 0))).singleElement()
                    .satisfies(event -> assertThat(event.version()).isEqualTo(1));
        }
        assertThat(transactions(together)).hasSize(1);
        assertThat(transactions(alone)).hasSize(GroupCommit.IN_FLIGHT).doesNotContainAnyElementsOf(transactions(together));
        DistributionSummary groups = registry.get("orders.command.group.creations").tag("outcome", "committed").summary();
        assertThat(groups.count()).as("groups committed").isEqualTo(GroupCommit.IN_FLIGHT + 1);
        assertThat(groups.totalAmount()).as("creations in them").isEqualTo(GroupCommit.IN_FLIGHT + 20);
        assertThat(groups.max()).as("the largest").isEqualTo(20);
        UUID next = together.getFirst();
        assertThat(await(handler.handle(AggregateType.CUSTOMER, next, new ReserveCredit(next, UUID.randomUUID(),
                Money.parse("10", "EUR")), EventMetadata.NONE, InTransaction.nothing())).version())
                .as("a later command on a grouped creation").isEqualTo(2);
    }

    @Test
    @DisplayName("appends each creation of a group that cannot commit alone, so one failure fails only its own creation")
    void a_failed_group_is_appended_one_by_one() throws Exception {
        CommandHandler handler = handler(true);
        SqlConnection lock = lockEvents();
        List<Future<Result<CustomerState>>> blockers = new ArrayList<>();
        for (int i = 0; i < GroupCommit.IN_FLIGHT; i++) {
            create(handler, blockers, InTransaction.nothing());
        }
        WaitingInserts.await(pool, GroupCommit.IN_FLIGHT);
        List<Future<Result<CustomerState>>> good = new ArrayList<>();
        UUID first = create(handler, good, InTransaction.nothing());
        List<Future<Result<CustomerState>>> bad = new ArrayList<>();
        UUID failing = create(handler, bad, (tx, result) -> tx.query("SELECT 1 / 0").execute().mapEmpty());
        UUID second = create(handler, good, InTransaction.nothing());
        await(lock.query("COMMIT").execute());
        await(lock.close());

        for (Future<Result<CustomerState>> one : concat(blockers, good)) {
            assertThat(await(one).version()).isEqualTo(1);
        }
        assertThatThrownBy(() -> await(bad.getFirst())).isInstanceOf(ExecutionException.class)
                .hasMessageContaining("division by zero");
        assertThat(await(store.load(pool, failing, 0))).isEmpty();
        assertThat(await(store.load(pool, first, 0))).hasSize(1);
        assertThat(await(store.load(pool, second, 0))).hasSize(1);
        assertThat(transactions(List.of(first, second))).as("appended alone once their group failed").hasSize(2);
    }

    @Test
    @DisplayName("refuses a creation at once, as a pool whose wait queue is full does, when the most that may wait do")
    void a_creation_past_the_waiting_bound_is_refused_at_once() throws Exception {
        CommandHandler handler = handler(true, 2);
        SqlConnection lock = lockEvents();
        List<Future<Result<CustomerState>>> accepted = new ArrayList<>();
        for (int i = 0; i < GroupCommit.IN_FLIGHT; i++) {
            create(handler, accepted, InTransaction.nothing());
        }
        WaitingInserts.await(pool, GroupCommit.IN_FLIGHT);
        create(handler, accepted, InTransaction.nothing());
        create(handler, accepted, InTransaction.nothing());
        List<Future<Result<CustomerState>>> refused = new ArrayList<>();
        UUID past = create(handler, refused, InTransaction.nothing());

        assertThat(refused.getFirst().failed()).as("refused before anything was sent").isTrue();
        assertThat(PoolOverload.causes(refused.getFirst().cause())).as("answered as an overload (503)").isTrue();
        await(lock.query("COMMIT").execute());
        await(lock.close());
        for (Future<Result<CustomerState>> one : accepted) {
            assertThat(await(one).version()).isEqualTo(1);
        }
        assertThat(await(store.load(pool, past, 0))).isEmpty();
    }

    @Test
    @DisplayName("appends each creation in a transaction of its own when grouping is off")
    void without_grouping_each_creation_commits_alone() throws Exception {
        CommandHandler handler = handler(false);
        SqlConnection lock = lockEvents();
        List<UUID> ids = new ArrayList<>();
        List<Future<Result<CustomerState>>> created = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(create(handler, created, InTransaction.nothing()));
        }
        WaitingInserts.await(pool, 6);
        await(lock.query("COMMIT").execute());
        await(lock.close());

        for (Future<Result<CustomerState>> one : created) {
            assertThat(await(one).version()).isEqualTo(1);
        }
        assertThat(transactions(ids)).hasSize(6);
    }

    private CommandHandler handler(boolean groupCommit) {
        return handler(groupCommit, -1);
    }

    private CommandHandler handler(boolean groupCommit, int maxWaiting) {
        return new CommandHandler(vertx, pool, store, new Snapshots(), Clock.systemUTC(), UUID::randomUUID, 100, 8,
                new SimpleMeterRegistry(), groupCommit, maxWaiting);
    }

    /** A new customer, its outcome added to {@code outcomes}; returns its id. */
    private static UUID create(CommandHandler handler, List<Future<Result<CustomerState>>> outcomes,
                               InTransaction<CustomerState> work) {
        UUID id = UUID.randomUUID();
        outcomes.add(handler.create(AggregateType.CUSTOMER, id, new CreateCustomer(id, "c", Money.parse("100", "EUR")),
                new EventMetadata("corr", null, UUID.randomUUID().toString(), null), work));
        return id;
    }

    /** A session that holds a lock on the events table which every insert into it waits for, until COMMIT. */
    private SqlConnection lockEvents() throws Exception {
        SqlConnection conn = await(pool.getConnection());
        await(conn.query("BEGIN").execute());
        await(conn.query("LOCK TABLE events IN SHARE MODE").execute());
        return conn;
    }

    /** The transactions that wrote these streams' events. */
    private Set<String> transactions(List<UUID> streams) throws Exception {
        Set<String> txs = new HashSet<>();
        await(pool.preparedQuery("SELECT tx::text FROM events WHERE stream_id = ANY($1::uuid[])")
                .execute(Tuple.of((Object) streams.toArray(UUID[]::new)))).forEach(row -> txs.add(row.getString(0)));
        return txs;
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> both = new ArrayList<>(a);
        both.addAll(b);
        return both;
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
