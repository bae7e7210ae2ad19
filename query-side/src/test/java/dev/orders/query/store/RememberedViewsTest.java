package dev.orders.query.store;

import dev.orders.events.CustomerEvent;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import dev.orders.events.RejectionReason;
import dev.orders.query.store.ProjectionStore.BatchResult;
import dev.orders.query.store.ProjectionStore.Checkpoint;
import dev.orders.query.store.ProjectionStore.Incoming;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Batches folded on the views a projector remembers from its own commits ({@link ViewMemory}), on real
 * PostgreSQL: one round trip when the memory is right, and, whenever the tables hold anything else (a view
 * changed by another writer, an event recorded before, a dead letter waiting), the same outcome as a batch that
 * reads its views, with nothing of the failed attempt left behind.
 */
@ExtendWith(SharedInfrastructure.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@DisplayName("Batches folded on remembered views")
class RememberedViewsTest extends OneSessionStoreCase {

    private static final Instant T0 = Instant.parse("2025-07-01T08:00:00Z");

    private final String topic = "remembered-test-" + UUID.randomUUID();
    private final IncomingEvents received = new IncomingEvents(topic, T0);
    private final UUID customer = UUID.randomUUID();
    private final UUID order = UUID.randomUUID();
    private ProjectionStore store;
    private ViewMemory memory;

    @BeforeEach
    void setUp(TestInfrastructure infra) throws Exception {
        store = store(infra);
        memory = new ViewMemory(100);
    }

    @Test
    @DisplayName("apply a customer and an order from their creation to approval without reading a view")
    void creation_to_approval_on_memory() throws Exception {
        BatchResult created = await(store.applyBatch(List.of(customerCreated(), orderCreated("30.00")), List.of(),
                List.of(), memory));
        assertThat(created.onRemembered()).as("creations need no view").isTrue();
        BatchResult approved = await(store.applyBatch(List.of(reserved("30.00"), approved()), List.of(), List.of(), memory));

        assertThat(approved.onRemembered()).as("folded on the views the first batch wrote").isTrue();
        assertThat(approved.fresh()).isEqualTo(2);
        assertThat(approved.changes().size()).isEqualTo(1);
        assertThat(orderRow().getString("status")).isEqualTo("APPROVED");
        assertThat(orderRow().getInteger("version")).isEqualTo(2);
        assertThat(orderRow().getBoolean("needs_attention")).isFalse();
        assertThat(customerRow().getBigDecimal("credit_reserved")).isEqualByComparingTo("30.00");
        assertThat(customerRow().getInteger("version")).isEqualTo(2);
        assertThat(count("SELECT count(*) FROM event_log WHERE stream_id = ANY($1::uuid[])")).isEqualTo(4);
    }

    @Test
    @DisplayName("write a batch's checkpoint and change log in the same round trip")
    void checkpoint_and_change_log_on_memory() throws Exception {
        await(store.applyBatch(List.of(customerCreated(), orderCreated("30.00")), List.of(), List.of(), memory));
        Incoming approve = approved();
        BatchResult result = await(store.applyBatch(List.of(approve), List.of(),
                List.of(new Checkpoint(topic, 0, approve.at().offset() + 1)), memory));

        assertThat(result.onRemembered()).isTrue();
        assertThat(result.lastChangePosition()).isPositive();
        Row checkpoint = await(pool.preparedQuery("SELECT next_offset, last_position FROM projector_checkpoint"
                + " WHERE topic = $1 AND partition = 0").execute(Tuple.of(topic))).iterator().next();
        assertThat(checkpoint.getLong("next_offset")).isEqualTo(approve.at().offset() + 1);
        assertThat(checkpoint.getLong("last_position")).isEqualTo(approve.envelope().globalPosition());
        Row latest = await(pool.preparedQuery("SELECT position, view ->> 'status' AS status FROM latest_order_changes"
                + " WHERE order_id = $1").execute(Tuple.of(order))).iterator().next();
        assertThat(latest.getLong("position")).isEqualTo(result.lastChangePosition());
        assertThat(latest.getString("status")).isEqualTo("APPROVED");
    }

    @Test
    @DisplayName("read an order view another writer changed since, and keep what that writer did")
    void order_view_changed_behind_the_memory() throws Exception {
        await(store.applyBatch(List.of(customerCreated(), orderCreated("30.00")), List.of(), List.of(), memory));
        await(pool.preparedQuery("UPDATE order_view SET needs_attention = true WHERE order_id = $1").execute(Tuple.of(order)));

        BatchResult result = await(store.applyBatch(List.of(approved()), List.of(), List.of(), memory));

        assertThat(result.onRemembered()).as("the check found the stored view changed").isFalse();
        assertThat(result.fresh()).isEqualTo(1);
        assertThat(orderRow().getString("status")).isEqualTo("APPROVED");
        assertThat(orderRow().getBoolean("needs_attention")).as("the other writer's flag").isTrue();
        assertThat(count("SELECT count(*) FROM event_log WHERE stream_id = ANY($1::uuid[])")).isEqualTo(3);
        assertThat(count("SELECT count(*) FROM order_changes WHERE order_id = ANY($1::uuid[])")).isEqualTo(2);
    }

    @Test
    @DisplayName("read a customer view another writer changed since, and fold on what is stored")
    void customer_view_changed_behind_the_memory() throws Exception {
        await(store.applyBatch(List.of(customerCreated(), orderCreated("30.00")), List.of(), List.of(), memory));
        await(pool.preparedQuery("UPDATE customer_view SET credit_reserved = 5 WHERE customer_id = $1")
                .execute(Tuple.of(customer)));

        BatchResult result = await(store.applyBatch(List.of(reserved("30.00")), List.of(), List.of(), memory));

        assertThat(result.onRemembered()).isFalse();
        assertThat(customerRow().getBigDecimal("credit_reserved")).isEqualByComparingTo("35.00");
    }

    @Test
    @DisplayName("take a redelivered creation the memory does not know for the duplicate it is")
    void redelivered_creation_after_a_restart() throws Exception {
        List<Incoming> batch = List.of(customerCreated(), orderCreated("30.00"));
        BatchResult first = await(store.applyBatch(batch, List.of(), List.of(), memory));
        ViewMemory afterRestart = new ViewMemory(100);

        BatchResult again = await(store.applyBatch(batch, List.of(), List.of(), afterRestart));

        assertThat(again.onRemembered()).isFalse();
        assertThat(again.duplicates()).isEqualTo(2);
        assertThat(again.changes().size()).as("change-log rows written again").isZero();
        assertThat(count("SELECT count(*) FROM order_changes WHERE order_id = ANY($1::uuid[])")).isEqualTo(1);
        assertThat(orderRow().getLong("version")).isEqualTo(first.changedOrders().getFirst().version());
    }

    @Test
    @DisplayName("take a redelivered event the memory already holds for a duplicate without sending anything")
    void redelivered_event_the_memory_holds() throws Exception {
        Incoming create = orderCreated("30.00");
        await(store.applyBatch(List.of(customerCreated(), create), List.of(), List.of(), memory));

        BatchResult again = await(store.applyBatch(List.of(create), List.of(), List.of(), memory));

        assertThat(again.onRemembered()).isFalse();
        assertThat(again.duplicates()).isEqualTo(1);
    }

    @Test
    @DisplayName("read the views of an order whose dead letter waits, and mark the order for attention")
    void dead_letter_waiting() throws Exception {
        await(store.applyBatch(List.of(customerCreated(), orderCreated("30.00")), List.of(), List.of(), memory));
        await(pool.preparedQuery("INSERT INTO dead_letters (topic, partition, \"offset\", key, error) VALUES ($1, 0, 999, $2, 'x')")
                .execute(Tuple.of(topic, order.toString())));

        BatchResult result = await(store.applyBatch(List.of(approved()), List.of(), List.of(), memory));

        assertThat(result.onRemembered()).isFalse();
        assertThat(orderRow().getString("status")).isEqualTo("APPROVED");
        assertThat(orderRow().getBoolean("needs_attention")).isTrue();
    }

    @Test
    @DisplayName("read the views of a stream the memory does not hold, unless the batch creates it")
    void stream_not_remembered() throws Exception {
        await(store.applyBatch(List.of(customerCreated(), orderCreated("30.00")), List.of(), List.of(), memory));

        BatchResult result = await(store.applyBatch(List.of(approved()), List.of(), List.of(), new ViewMemory(100)));

        assertThat(result.onRemembered()).isFalse();
        assertThat(orderRow().getString("status")).isEqualTo("APPROVED");
    }

    @Test
    @DisplayName("read the views of a stream whose versions skip one, and mark the order for attention")
    void version_gap() throws Exception {
        await(store.applyBatch(List.of(customerCreated(), orderCreated("30.00")), List.of(), List.of(), memory));

        BatchResult result = await(store.applyBatch(List.of(received.next(3, new OrderEvent.OrderApproved(order, customer))),
                List.of(), List.of(), memory));

        assertThat(result.onRemembered()).isFalse();
        assertThat(orderRow().getInteger("version")).isEqualTo(3);
        assertThat(orderRow().getBoolean("needs_attention")).isTrue();
    }

    @Test
    @DisplayName("roll back everything of an attempt whose check failed: no event, change or checkpoint twice")
    void failed_attempt_leaves_nothing() throws Exception {
        await(store.applyBatch(List.of(customerCreated(), orderCreated("30.00")), List.of(), List.of(), memory));
        await(pool.preparedQuery("UPDATE order_view SET updated_at = updated_at + interval '1 second' WHERE order_id = $1")
                .execute(Tuple.of(order)));
        Incoming reserve = reserved("30.00");
        Incoming approve = approved();

        BatchResult result = await(store.applyBatch(List.of(reserve, approve), List.of(),
                List.of(new Checkpoint(topic, 0, approve.at().offset() + 1)), memory));

        assertThat(result.onRemembered()).isFalse();
        assertThat(result.fresh()).as("both events new to the batch that stood").isEqualTo(2);
        assertThat(customerRow().getBigDecimal("credit_reserved")).as("reserved once").isEqualByComparingTo("30.00");
        assertThat(count("SELECT count(*) FROM order_changes WHERE order_id = ANY($1::uuid[])")).isEqualTo(2);

        BatchResult next = await(store.applyBatch(List.of(rejectedAfterApproval()), List.of(), List.of(), memory));
        assertThat(next.onRemembered()).as("the views read afresh were remembered").isTrue();
        assertThat(orderRow().getString("status")).isEqualTo("REJECTED");
    }

    private Incoming customerCreated() {
        return received.next(1, new CustomerEvent.CustomerCreated(customer, "Dora", Money.parse("100.00", "EUR")));
    }

    private Incoming orderCreated(String amount) {
        return received.next(1, new OrderEvent.OrderCreated(order, customer, Money.parse(amount, "EUR")));
    }

    private Incoming reserved(String amount) {
        return received.next(2, new CustomerEvent.CreditReserved(customer, order, Money.parse(amount, "EUR")));
    }

    private Incoming approved() {
        return received.next(2, new OrderEvent.OrderApproved(order, customer));
    }

    private Incoming rejectedAfterApproval() {
        return received.next(3, new OrderEvent.OrderRejected(order, customer, RejectionReason.values()[0]));
    }

    private Row orderRow() throws Exception {
        return await(pool.preparedQuery("SELECT status, version, needs_attention FROM order_view WHERE order_id = $1")
                .execute(Tuple.of(order))).iterator().next();
    }

    private Row customerRow() throws Exception {
        return await(pool.preparedQuery("SELECT credit_reserved, version FROM customer_view WHERE customer_id = $1")
                .execute(Tuple.of(customer))).iterator().next();
    }

    private long count(String sql) throws Exception {
        return await(pool.preparedQuery(sql).execute(Tuple.of((Object) new UUID[]{order, customer}))).iterator().next()
                .getLong(0);
    }
}
