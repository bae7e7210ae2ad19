package dev.orders.command.messaging;

import dev.orders.command.store.YoungStore;
import dev.orders.service.sql.PgSessions;
import dev.orders.testsupport.PreparedPlans;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.orders.command.messaging.RelayFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The relay's read costs what it returns, not what the store holds: PostgreSQL's own plan of
 * {@link RelaySql#READ_SAFE}, executed on a store of thousands of events, touches a handful of pages and scans
 * no table from end to end. (Its horizon check once asked {@code EXISTS (... WHERE tx >= horizon)}, which the
 * planner answers with a sequential scan of every event ever stored, at every read.) The lease session plans it
 * once: its generic plan walks the same index, whatever the store's statistics say.
 */
@DisplayName("The relay's read of the store")
class RelayReadCostTest extends RelayTestBase {

    private static final String EXPLAIN = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ";
    private static final int STORED = 4_000;
    private static final int PAGES_AT_MOST = 24;
    private static final int READS = 8;
    /** The (tx, id) of the newest events, newest first ({@code e.tx}: ordered as xid8, not as the text selected). */
    private static final String NEWEST = "SELECT e.tx::text AS tx, e.id FROM events e ORDER BY e.tx DESC, e.id DESC LIMIT 1";

    @Test
    @DisplayName("touches a few pages of a store of thousands of events, before and after its statistics are gathered")
    void reads_without_scanning_the_store() {
        try (RelayFixture f = fixture()) {
            // no ANALYZE until the test asks for one: a store in its first minute, before autovacuum's first
            await(f.pool.query(YoungStore.NO_AUTOVACUUM).execute());
            await(f.pool.query(YoungStore.fill(STORED / 4)).execute());
            long tablePages = f.one("SELECT pg_relation_size('events') / current_setting('block_size')::int").getLong(0);
            assertThat(tablePages).as("pages of the events table (a store big enough to tell a scan)")
                    .isGreaterThan(4L * PAGES_AT_MOST);

            assertReadsFewPages(f, "without statistics");
            await(f.pool.query("ANALYZE events").execute());
            assertReadsFewPages(f, "with statistics");
        }
    }

    @Test
    @DisplayName("is planned once per lease session, not at every read, and that generic plan scans no table")
    void the_lease_session_plans_the_read_once() {
        try (RelayFixture f = fixture()) {
            await(f.pool.query(YoungStore.NO_AUTOVACUUM).execute());
            PgConnection lease = await(PgConnection.connect(f.vertx, RelayLease.options(f.pgUri, PgSessions.DEFAULTS)));
            try {
                assertGenericPlanScansNoTable(lease, "an empty store");
                await(f.pool.query(YoungStore.fill(STORED / 4)).execute());
                assertGenericPlanScansNoTable(lease, "a young store without statistics");
                Row newest = f.one(NEWEST + " OFFSET 20");
                for (int read = 0; read < READS; read++) {
                    await(lease.preparedQuery(RelaySql.READ_SAFE).execute(Tuple.of(500, newest.getString(0), newest.getLong(1))));
                }
                PreparedPlans plans = await(PreparedPlans.of(lease, "%w.blocked%"));
                assertThat(plans.statements()).as("statements that read the store").isEqualTo(1);
                assertThat(plans.custom()).as("reads planned with their parameters' values").isZero();
                assertThat(plans.generic()).as("reads run on the session's one generic plan").isEqualTo(READS);
                await(f.pool.query("ANALYZE events").execute());
                assertGenericPlanScansNoTable(lease, "a store with statistics");
            } finally {
                lease.close();
            }
        }
    }

    /** The plan the lease session runs the read with, for any parameters (PostgreSQL 16's {@code GENERIC_PLAN}). */
    private static void assertGenericPlanScansNoTable(PgConnection lease, String store) {
        Object json = await(lease.query("EXPLAIN (GENERIC_PLAN, FORMAT JSON) " + RelaySql.READ_SAFE).execute())
                .iterator().next().getValue(0);
        JsonArray plans = json instanceof JsonArray array ? array : new JsonArray(json.toString());
        assertNoScanOfEvents(plans.getJsonObject(0).getJsonObject("Plan"), "the generic plan, " + store);
    }

    private static void assertReadsFewPages(RelayFixture f, String statistics) {
        Row newest = f.one(NEWEST);
        JsonObject caughtUp = plan(f, 500, newest.getString(0), newest.getLong(1));
        assertNoScanOfEvents(caughtUp, "nothing new to read, " + statistics);
        assertThat(caughtUp.getLong("Actual Rows")).as("rows with nothing new to read (only the horizon's)").isEqualTo(1);
        assertThat(pagesTouched(caughtUp)).as("pages touched with nothing new to read, " + statistics)
                .isLessThanOrEqualTo(PAGES_AT_MOST);

        Row before = f.one(NEWEST + " OFFSET 20");
        // the horizon is the server's: another test's open transaction (any database) holds the rows back a while
        JsonObject[] read = new JsonObject[1];
        RelayFixture.eventually(LONG, "the 20 newest events below the horizon", () -> {
            read[0] = plan(f, 500, before.getString(0), before.getLong(1));
            return read[0].getLong("Actual Rows") == 20;
        });
        JsonObject batch = read[0];
        assertNoScanOfEvents(batch, "20 events to read, " + statistics);
        assertThat(batch.getLong("Actual Rows")).as("rows the read returned").isEqualTo(20);
        assertThat(pagesTouched(batch)).as("pages touched reading 20 events, " + statistics)
                .isLessThanOrEqualTo(PAGES_AT_MOST);
    }

    /** The executed plan's top node, with its actual rows and buffers. */
    private static JsonObject plan(RelayFixture f, int limit, String tx, long id) {
        Row row = f.one(EXPLAIN + RelaySql.READ_SAFE, limit, tx, id);
        Object json = row.getValue(0);
        JsonArray plans = json instanceof JsonArray array ? array : new JsonArray(json.toString());
        return plans.getJsonObject(0).getJsonObject("Plan");
    }

    private static long pagesTouched(JsonObject plan) {
        return plan.getLong("Shared Hit Blocks", 0L) + plan.getLong("Shared Read Blocks", 0L);
    }

    private static void assertNoScanOfEvents(JsonObject plan, String when) {
        List<String> scans = new ArrayList<>();
        collectScans(plan, scans);
        assertThat(scans).as("sequential scans of the events table (" + when + ")").doesNotContain("events");
    }

    private static void collectScans(JsonObject node, List<String> scans) {
        if (node.getString("Node Type", "").equals("Seq Scan")) {
            scans.add(node.getString("Relation Name"));
        }
        JsonArray children = node.getJsonArray("Plans");
        if (children != null) {
            children.forEach(child -> collectScans((JsonObject) child, scans));
        }
    }
}
