package dev.orders.query.store;

import dev.orders.events.CustomerEvent;
import dev.orders.events.Money;
import dev.orders.query.store.ProjectionStore.Checkpoint;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The checkpoints a projection batch writes with its rows, on real PostgreSQL: every partition the batch read
 * from, in one statement, each with the last event applied from it, and none ever moved back.
 */
@ExtendWith(SharedInfrastructure.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@DisplayName("The projector's checkpoints")
class ProjectionCheckpointsTest extends OneSessionStoreCase {

    private static final Instant T0 = Instant.parse("2025-07-01T08:00:00Z");

    /** A topic name of this test's own, so that other tests' checkpoints in the shared schema are not read. */
    private final String topic = "checkpoints-test-" + UUID.randomUUID();
    private final IncomingEvents received = new IncomingEvents(topic, T0);

    @Test
    @DisplayName("of a batch over several partitions are written in one statement, each with its next offset and last event")
    void several_partitions_in_one_statement(TestInfrastructure infra) throws Exception {
        ProjectionStore store = store(infra);
        Incoming first = created();
        Incoming second = created();
        // partition 0 holds the first event, partition 1 the second, partition 2 none of this batch's events
        Incoming onPartition1 = new Incoming(second.envelope(), new ProjectionStore.Coordinates(topic, 1, 40,
                second.at().streamKey()), second.value());
        await(store.applyBatch(List.of(first, onPartition1), List.of(), List.of(
                new Checkpoint(topic, 0, first.at().offset() + 1),
                new Checkpoint(topic, 1, 41),
                new Checkpoint(topic, 2, 7))));

        Map<Integer, Row> rows = checkpoints();
        assertThat(rows).containsOnlyKeys(0, 1, 2);
        assertThat(rows.get(0).getLong("next_offset")).isEqualTo(first.at().offset() + 1);
        assertThat(rows.get(0).getLong("last_position")).isEqualTo(first.envelope().globalPosition());
        assertThat(rows.get(0).getOffsetDateTime("last_occurred_at").toInstant()).isEqualTo(first.envelope().occurredAt());
        assertThat(rows.get(1).getLong("next_offset")).isEqualTo(41);
        assertThat(rows.get(1).getLong("last_position")).isEqualTo(second.envelope().globalPosition());
        assertThat(rows.get(2).getLong("next_offset")).isEqualTo(7);
        assertThat(rows.get(2).getLong("last_position")).as("a partition with no event in the batch").isZero();
        assertThat(rows.get(2).getValue("last_occurred_at")).isNull();

        PreparedPlans plans = await(PreparedPlans.of(pool, "%INTO projector_checkpoint%"));
        assertThat(plans.runs()).as("statements run for the batch's three checkpoints").isEqualTo(1);
    }

    @Test
    @DisplayName("never move back: a batch read again from an older offset leaves each partition where it was")
    void never_move_back(TestInfrastructure infra) throws Exception {
        ProjectionStore store = store(infra);
        Incoming later = created();
        await(store.applyBatch(List.of(later), List.of(), List.of(new Checkpoint(topic, 0, 100), new Checkpoint(topic, 1, 50))));
        Incoming older = created();
        Incoming olderOnPartition1 = new Incoming(older.envelope(), new ProjectionStore.Coordinates(topic, 1, 10,
                older.at().streamKey()), older.value());
        await(store.applyBatch(List.of(olderOnPartition1), List.of(), List.of(new Checkpoint(topic, 0, 60),
                new Checkpoint(topic, 1, 11))));

        Map<Integer, Row> rows = checkpoints();
        assertThat(rows.get(0).getLong("next_offset")).isEqualTo(100);
        assertThat(rows.get(0).getLong("last_position")).isEqualTo(later.envelope().globalPosition());
        assertThat(rows.get(1).getLong("next_offset")).isEqualTo(50);
        assertThat(rows.get(1).getLong("last_position")).as("the higher of the two events' positions")
                .isEqualTo(older.envelope().globalPosition());
    }

    private Incoming created() {
        UUID customer = UUID.randomUUID();
        return received.next(1, new CustomerEvent.CustomerCreated(customer, "Dora", Money.parse("100.00", "EUR")));
    }

    private Map<Integer, Row> checkpoints() throws Exception {
        Map<Integer, Row> rows = new HashMap<>();
        await(pool.preparedQuery("SELECT partition, next_offset, last_position, last_occurred_at FROM projector_checkpoint"
                + " WHERE topic = $1").execute(Tuple.of(topic))).forEach(row -> rows.put(row.getInteger("partition"), row));
        return rows;
    }
}
