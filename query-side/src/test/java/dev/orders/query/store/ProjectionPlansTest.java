package dev.orders.query.store;

import dev.orders.events.CustomerEvent;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import dev.orders.query.store.ProjectionStore.BatchResult;
import dev.orders.query.store.ProjectionStore.Incoming;
import dev.orders.testsupport.PreparedPlans;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The projector's writes of the order-change log: one statement writes a batch's changes and moves each order's
 * latest change, and PostgreSQL keeps one generic plan for it, as for any statement whose plan does not depend on
 * its arguments. (Its second statement, which looked the written rows up again by their positions, was planned
 * again at every call, its plan depending on the array's length.)
 */
@ExtendWith(SharedInfrastructure.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@DisplayName("The projector's change-log writes")
class ProjectionPlansTest extends OneSessionStoreCase {

    private static final Instant T0 = Instant.parse("2025-07-01T08:00:00Z");
    private static final int BATCHES = 12;

    /** Changes of other orders, at global positions far from the test's own. */
    private static final String FILL_LOG = """
            WITH filled AS (
              INSERT INTO order_changes (global_position, order_id, customer_id, version, view)
              SELECT 1000000 + i, gen_random_uuid(), gen_random_uuid(), 1, '{"status": "PENDING"}'::jsonb
                FROM generate_series(1, 20000) AS i
              RETURNING position, order_id, customer_id, version, view, changed_at)
            INSERT INTO latest_order_changes (order_id, customer_id, position, version, view, changed_at)
            SELECT order_id, customer_id, position, version, view, changed_at FROM filled""";

    private final IncomingEvents received = new IncomingEvents("plans-test", T0);

    @Test
    @DisplayName("write each batch's changes and latest changes in one statement, run on one generic plan after PostgreSQL's first five")
    void run_on_one_generic_plan(TestInfrastructure infra) throws Exception {
        ProjectionStore store = store(infra);
        UUID customer = UUID.randomUUID();
        await(store.applyBatch(List.of(received.next(1, new CustomerEvent.CustomerCreated(customer, "Dora",
                Money.parse("100.00", "EUR")))), List.of(), List.of()));
        // a log of some size, its statistics gathered: where a plan made for the arguments looks cheaper
        await(pool.query(FILL_LOG).execute());
        await(pool.query("ANALYZE order_changes").execute());
        await(pool.query("ANALYZE latest_order_changes").execute());
        List<UUID> orders = new ArrayList<>();
        for (int batch = 0; batch < BATCHES; batch++) {
            // batches of one to three new orders, each created and approved: arrays of two to six changes
            List<Incoming> events = new ArrayList<>();
            for (int i = 0; i <= batch % 3; i++) {
                UUID order = UUID.randomUUID();
                orders.add(order);
                events.add(received.next(1, new OrderEvent.OrderCreated(order, customer, Money.parse("1.00", "EUR"))));
                events.add(received.next(2, new OrderEvent.OrderApproved(order, customer)));
            }
            BatchResult result = await(store.applyBatch(events, List.of(), List.of()));
            assertThat(result.changes().size()).as("changes written by batch %d", batch).isEqualTo(events.size());
        }

        PreparedPlans plans = await(PreparedPlans.of(pool, "%INTO latest_order_changes%"));
        assertThat(plans.statements()).as("statements that write latest changes").isEqualTo(1);
        assertThat(plans.custom()).as("runs planned with their arguments").isEqualTo(PreparedPlans.CUSTOM_PLANS_BY_RULE);
        assertThat(plans.generic()).as("runs on the one generic plan").isEqualTo(BATCHES - PreparedPlans.CUSTOM_PLANS_BY_RULE);

        for (UUID order : orders) {
            Row latest = await(pool.preparedQuery("SELECT l.version, l.position, l.view ->> 'status' AS status,"
                    + " (SELECT max(position) FROM order_changes c WHERE c.order_id = l.order_id) AS newest"
                    + " FROM latest_order_changes l WHERE l.order_id = $1").execute(Tuple.of(order))).iterator().next();
            assertThat(latest.getInteger("version")).as("latest version of %s", order).isEqualTo(2);
            assertThat(latest.getString("status")).isEqualTo("APPROVED");
            assertThat(latest.getLong("position")).as("its newest change").isEqualTo(latest.getLong("newest"));
        }
    }

    @Test
    @DisplayName("record a redelivered batch once: its changes are not written again and no order's latest change moves")
    void a_redelivered_batch_changes_nothing(TestInfrastructure infra) throws Exception {
        ProjectionStore store = store(infra);
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        List<Incoming> events = List.of(
                received.next(1, new CustomerEvent.CustomerCreated(customer, "Dora", Money.parse("100.00", "EUR"))),
                received.next(1, new OrderEvent.OrderCreated(order, customer, Money.parse("1.00", "EUR"))));
        BatchResult first = await(store.applyBatch(events, List.of(), List.of()));
        BatchResult again = await(store.applyBatch(events, List.of(), List.of()));
        assertThat(again.duplicates()).isEqualTo(2);
        assertThat(again.changes().size()).as("changes written again").isZero();
        Row latest = await(pool.preparedQuery("SELECT position, (SELECT count(*) FROM order_changes WHERE order_id = $1) AS rows"
                + " FROM latest_order_changes WHERE order_id = $1").execute(Tuple.of(order))).iterator().next();
        assertThat(latest.getLong("position")).isEqualTo(first.lastChangePosition());
        assertThat(latest.getLong("rows")).as("change-log rows of the order").isEqualTo(1);
    }
}
