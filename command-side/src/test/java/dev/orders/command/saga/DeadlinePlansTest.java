package dev.orders.command.saga;

import dev.orders.command.store.MigratedCommandStore;
import dev.orders.testsupport.PreparedPlans;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static dev.orders.command.saga.SagaWorld.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The delete of the deadlines a customer's answers end, sent in every saga batch that reserves or releases
 * credit: on a table that has statistics (a few live rows among many deleted ones, as the saga leaves
 * it), PostgreSQL plans it once and runs that plan, a look-up of the key, from then on.
 */
@ExtendWith(SharedInfrastructure.class)
@DisplayName("The saga's delete of answered deadlines")
class DeadlinePlansTest {

    private static final int BATCHES = 12;
    /** Rows as the saga leaves them: written with each order, most deleted again by its customer's answer. */
    private static final String FILL = """
            INSERT INTO saga_deadlines (order_id, customer_id, due_at, correlation_id)
            SELECT gen_random_uuid(), gen_random_uuid(), now() + interval '1 hour', 'plans-test' FROM generate_series(1, 3000)""";

    private final Deadlines deadlines = new Deadlines();
    private MigratedCommandStore migrated;
    private Pool pool;

    @BeforeEach
    void setUp(TestInfrastructure infra) throws Exception {
        // one connection: every statement prepared in the session asked about its plans
        migrated = MigratedCommandStore.open(infra, 1, 100, "deadline-plans-test");
        pool = migrated.pool();
    }

    @AfterEach
    void tearDown() throws Exception {
        migrated.close();
    }

    @Test
    @DisplayName("deletes each batch's rows, one to three orders at a time, on one generic plan after PostgreSQL's first five")
    void deletes_on_one_generic_plan() throws Exception {
        await(pool.query(FILL).execute());
        await(pool.query("DELETE FROM saga_deadlines WHERE random() < 0.97").execute());
        await(pool.query("ANALYZE saga_deadlines").execute());
        List<UUID> deleted = new ArrayList<>();
        for (int batch = 0; batch < BATCHES; batch++) {
            List<UUID> orders = new ArrayList<>();
            for (int i = 0; i <= batch % 3; i++) {
                UUID order = UUID.randomUUID();
                await(deadlines.arm(pool, List.of(new Deadlines.Deadline(order, UUID.randomUUID(), "plans-test")),
                        Duration.ofHours(1)));
                orders.add(order);
            }
            await(deadlines.delete(pool, orders));
            deleted.addAll(orders);
        }

        Row left = await(pool.preparedQuery("SELECT count(*) FROM saga_deadlines WHERE order_id = ANY($1::uuid[])")
                .execute(Tuple.of((Object) deleted.toArray(UUID[]::new)))).iterator().next();
        assertThat(left.getLong(0)).as("deadlines left of the orders answered").isZero();
        PreparedPlans plans = await(PreparedPlans.of(pool, "DELETE FROM saga_deadlines%"));
        assertThat(plans.statements()).as("statements that delete deadlines").isEqualTo(1);
        assertThat(plans.custom()).as("runs planned with their arguments").isEqualTo(PreparedPlans.CUSTOM_PLANS_BY_RULE);
        assertThat(plans.generic()).as("runs on the one generic plan")
                .isEqualTo(plans.runs() - PreparedPlans.CUSTOM_PLANS_BY_RULE).isPositive();
    }
}
