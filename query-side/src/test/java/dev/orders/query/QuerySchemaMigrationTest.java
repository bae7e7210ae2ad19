package dev.orders.query;

import dev.orders.command.store.CommandSchema;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.sql.PgPools;
import dev.orders.testsupport.EarlierMigrationRunner;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The query side's schema under Flyway, and both sides' migrations in one database: each keeps its own
 * history, whether each side has its own schema (the provisioned roles) or both share one schema under one
 * URI. A fresh database of the shared PostgreSQL per test.
 */
@ExtendWith(SharedInfrastructure.class)
@DisplayName("The query side's schema migrations")
class QuerySchemaMigrationTest {

    private static final String VERSIONS = "SELECT version FROM %s WHERE type = 'SQL' ORDER BY installed_rank";
    /** Every script under {@code db/command} and {@code db/query}, in order: a new script adds its version here. */
    private static final List<String> COMMAND_VERSIONS = List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11",
            "12", "13", "14", "15");
    private static final List<String> QUERY_VERSIONS = List.of("1", "2", "4", "5");

    private Vertx vertx;
    private String commandUri;
    private String queryUri;
    private final List<Pool> pools = new ArrayList<>();

    @BeforeEach
    void setUp(TestInfrastructure infra) {
        vertx = Vertx.vertx();
        OrdersConfig config = infra.isolatedConfig();
        commandUri = config.effectiveCommandPgUri();
        queryUri = config.effectiveQueryPgUri();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Pool pool : pools) {
            await(pool.close());
        }
        await(vertx.close());
    }

    @Test
    @DisplayName("both sides in one database, each in its own schema, keep separate histories")
    void both_sides_keep_separate_histories_in_their_own_schemas() throws Exception {
        assertThat(await(CommandSchema.MIGRATIONS.migrate(vertx, commandUri))).isEqualTo(COMMAND_VERSIONS.size());
        assertThat(await(QuerySide.MIGRATIONS.migrate(vertx, queryUri))).isEqualTo(QUERY_VERSIONS.size());

        Pool command = pool(commandUri);
        Pool query = pool(queryUri);
        assertThat(strings(command, VERSIONS.formatted("command_schema_history")))
                .containsExactlyElementsOf(COMMAND_VERSIONS);
        assertThat(strings(query, VERSIONS.formatted("query_schema_history"))).containsExactlyElementsOf(QUERY_VERSIONS);
        assertThat(strings(command, "SELECT table_schema || '.' || table_name FROM information_schema.tables"
                + " WHERE table_name LIKE '%schema_history'")).containsExactly("command.command_schema_history");
        assertThat(strings(query, "SELECT table_schema || '.' || table_name FROM information_schema.tables"
                + " WHERE table_name LIKE '%schema_history'")).containsExactly("query.query_schema_history");
    }

    @Test
    @DisplayName("both sides under one URI, in one schema, each get all of their scripts and their own history")
    void both_sides_in_one_schema_get_all_of_their_scripts() throws Exception {
        assertThat(await(CommandSchema.MIGRATIONS.migrate(vertx, commandUri))).isEqualTo(COMMAND_VERSIONS.size());
        assertThat(await(QuerySide.MIGRATIONS.migrate(vertx, commandUri))).isEqualTo(QUERY_VERSIONS.size());

        Pool shared = pool(commandUri);
        assertThat(strings(shared, VERSIONS.formatted("command_schema_history")))
                .containsExactlyElementsOf(COMMAND_VERSIONS);
        assertThat(strings(shared, VERSIONS.formatted("query_schema_history"))).containsExactlyElementsOf(QUERY_VERSIONS);
        assertThat(strings(shared, "SELECT table_schema FROM information_schema.tables"
                + " WHERE table_name IN ('events', 'order_view') ORDER BY table_name")).containsExactly("command", "command");
        assertThat(await(QuerySide.MIGRATIONS.migrate(vertx, commandUri))).isZero();
        assertThat(await(CommandSchema.MIGRATIONS.migrate(vertx, commandUri))).isZero();
    }

    @Test
    @DisplayName("a query schema the earlier runner left at V2 gets only the newer scripts")
    void a_query_schema_the_earlier_runner_migrated_gets_only_the_newer_script() throws Exception {
        Pool query = pool(queryUri);
        await(EarlierMigrationRunner.migrate(query, EarlierMigrationRunner.QUERY.subList(0, 2)));

        assertThat(await(QuerySide.MIGRATIONS.migrate(vertx, queryUri))).isEqualTo(QUERY_VERSIONS.size() - 2);

        assertThat(strings(query, VERSIONS.formatted("query_schema_history"))).containsExactlyElementsOf(QUERY_VERSIONS);
        assertThat(strings(query, "SELECT indexname FROM pg_indexes WHERE indexname = 'order_view_by_status'"))
                .containsExactly("order_view_by_status");
    }

    private Pool pool(String uri) {
        Pool pool = PgPools.create(vertx, uri, 2, 100, "migration-test");
        pools.add(pool);
        return pool;
    }

    private static List<String> strings(Pool pool, String sql) throws Exception {
        List<String> values = new ArrayList<>();
        await(pool.query(sql).execute()).forEach(row -> values.add(row.getString(0)));
        return values;
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    }
}
