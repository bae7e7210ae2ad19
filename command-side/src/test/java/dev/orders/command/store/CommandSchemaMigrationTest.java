package dev.orders.command.store;

import dev.orders.command.CommandSide;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.sql.Migrations;
import dev.orders.service.sql.PgPools;
import dev.orders.testsupport.EarlierMigrationRunner;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The command side's schema under Flyway, on a fresh database of the shared PostgreSQL per test, reached
 * as the command role in its own schema: a fresh schema gets every script, a schema the earlier runner
 * migrated upgrades without running anything twice, and a changed script stops the start.
 */
@ExtendWith(SharedInfrastructure.class)
@DisplayName("The command side's schema migrations")
class CommandSchemaMigrationTest {

    /** Every script under {@code db/command}, in order: a new script adds its version here. */
    private static final List<String> ALL_VERSIONS = List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
            "11", "12", "13", "14", "15");
    /** What the earlier runner knew: a schema it migrated lacks only the scripts added since. */
    private static final List<String> SINCE_THE_EARLIER_RUNNER = ALL_VERSIONS.stream()
            .filter(version -> EarlierMigrationRunner.COMMAND.stream()
                    .noneMatch(script -> Integer.toString(script.version()).equals(version)))
            .toList();
    private static final String HISTORY = "SELECT version, type, checksum, success FROM command_schema_history"
            + " ORDER BY installed_rank";

    private Vertx vertx;
    private OrdersConfig config;
    private String uri;
    private Pool pool;

    @BeforeEach
    void setUp(TestInfrastructure infra) {
        vertx = Vertx.vertx();
        config = infra.isolatedConfig();
        uri = config.effectiveCommandPgUri();
        pool = PgPools.create(vertx, uri, 2, 100, "migration-test");
    }

    @AfterEach
    void tearDown() throws Exception {
        await(pool.close());
        await(vertx.close());
    }

    @Test
    @DisplayName("a fresh schema gets every script, each recorded with its checksum; a second run applies none")
    void a_fresh_schema_gets_every_script_with_its_checksum() throws Exception {
        assertThat(await(CommandSchema.MIGRATIONS.migrate(vertx, uri))).isEqualTo(ALL_VERSIONS.size());

        List<Row> history = rows(HISTORY);
        assertThat(history).extracting(row -> row.getString("version")).containsExactlyElementsOf(ALL_VERSIONS);
        assertThat(history).allSatisfy(row -> {
            assertThat(row.getString("type")).isEqualTo("SQL");
            assertThat(row.getInteger("checksum")).isNotNull();
            assertThat(row.getBoolean("success")).isTrue();
        });
        assertThat(await(CommandSchema.MIGRATIONS.migrate(vertx, uri))).isZero();
        assertThat(rows(HISTORY)).hasSameSizeAs(history);
    }

    @Test
    @DisplayName("a schema the earlier runner migrated keeps its data and runs none of its scripts again")
    void a_schema_the_earlier_runner_migrated_runs_nothing_again() throws Exception {
        assertThat(await(EarlierMigrationRunner.migrate(pool, EarlierMigrationRunner.COMMAND))).isEqualTo(9);
        // 42 events the relay of then published and stamped
        await(pool.query("""
                INSERT INTO events (event_id, stream_type, stream_id, version, event_type, schema_version, data, metadata,
                                    occurred_at, global_position)
                SELECT gen_random_uuid(), 'customer', gen_random_uuid(), 1, 'CustomerCreated', 1, '{}', '{}', now(), n
                  FROM generate_series(1, 42) AS n""").execute());
        await(pool.query("UPDATE relay_checkpoint SET last_position = 42 WHERE id = 1").execute());

        assertThat(await(CommandSchema.MIGRATIONS.migrate(vertx, uri))).isEqualTo(SINCE_THE_EARLIER_RUNNER.size());

        List<Row> history = rows(HISTORY);
        assertThat(history.getFirst().getString("type")).isEqualTo("BASELINE");
        assertThat(history.subList(1, history.size())).extracting(row -> row.getString("version"))
                .containsExactlyInAnyOrderElementsOf(ALL_VERSIONS);
        assertThat(rows("SELECT last_position FROM relay_checkpoint WHERE id = 1"))
                .extracting(row -> row.getLong(0)).containsExactly(42L);
        assertThat(rows("SELECT global_position FROM events ORDER BY id")).extracting(row -> row.getLong(0))
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 42).boxed().toList());
        assertThat(await(CommandSchema.MIGRATIONS.migrate(vertx, uri))).isZero();
        assertThat(rows(HISTORY)).hasSameSizeAs(history);
    }

    @Test
    @DisplayName("a schema the earlier runner left without one script gets exactly that one, below its highest version")
    void a_schema_the_earlier_runner_left_behind_gets_exactly_the_missing_script() throws Exception {
        List<EarlierMigrationRunner.Script> withoutV8 = new ArrayList<>(EarlierMigrationRunner.COMMAND);
        withoutV8.removeIf(script -> script.version() == 8);
        await(EarlierMigrationRunner.migrate(pool, withoutV8));
        assertThat(rows("SELECT 1 FROM pg_proc WHERE proname = 'relay_take_over'")).isEmpty();

        assertThat(await(CommandSchema.MIGRATIONS.migrate(vertx, uri))).isEqualTo(1 + SINCE_THE_EARLIER_RUNNER.size());

        assertThat(rows("SELECT 1 FROM pg_proc WHERE proname = 'relay_take_over'")).hasSize(1);
        List<Row> history = rows(HISTORY);
        assertThat(history.get(history.size() - 1 - SINCE_THE_EARLIER_RUNNER.size()).getString("version")).isEqualTo("8");
        assertThat(history).extracting(row -> row.getString("version")).containsAll(ALL_VERSIONS);
    }

    @Test
    @DisplayName("a script changed after it was applied stops the start with an error naming it, and nothing runs")
    void a_changed_script_stops_the_start_naming_it() throws Exception {
        await(CommandSchema.MIGRATIONS.migrate(vertx, uri));
        // what Flyway sees when V3's file changes: the checksum recorded differs from the script's
        await(pool.query("UPDATE command_schema_history SET checksum = checksum + 1 WHERE version = '3'").execute());

        assertThatThrownBy(() -> await(CommandSide.deploy(vertx, config, uri, config.kafkaBootstrap())))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .hasMessageContaining("command schema: changed after it was applied: V3__saga.sql (version 3")
                .hasMessageContaining("restore it and put the change in a new script");
        assertThat(rows(HISTORY)).hasSize(ALL_VERSIONS.size());
    }

    @Test
    @DisplayName("a script that fails leaves the schema as it was, and the error names it")
    void a_failing_script_leaves_the_schema_as_it_was() throws Exception {
        Migrations failing = new Migrations("failing", "db/failing");

        assertThatThrownBy(() -> await(failing.migrate(vertx, uri)))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .hasMessageContaining("failing schema: migration failed")
                .hasMessageContaining("V2__fails.sql");
        assertThat(rows("SELECT 1 FROM information_schema.tables WHERE table_name = 'first_of_two'")).isEmpty();
        assertThat(rows("SELECT 1 FROM failing_schema_history WHERE type = 'SQL'")).isEmpty();
    }

    @Test
    @DisplayName("two instances starting together apply each script once")
    void two_instances_starting_together_apply_each_script_once() throws Exception {
        Future<Integer> first = CommandSchema.MIGRATIONS.migrate(vertx, uri);
        Future<Integer> second = CommandSchema.MIGRATIONS.migrate(vertx, uri);
        await(Future.all(first, second));

        assertThat(first.result() + second.result()).isEqualTo(ALL_VERSIONS.size());
        assertThat(rows(HISTORY)).extracting(row -> row.getString("version")).containsExactlyElementsOf(ALL_VERSIONS);
    }

    private List<Row> rows(String sql) throws Exception {
        List<Row> rows = new ArrayList<>();
        await(pool.query(sql).execute()).forEach(rows::add);
        return rows;
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    }
}
