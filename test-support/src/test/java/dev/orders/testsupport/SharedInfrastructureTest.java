package dev.orders.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orders.infra.config.OrdersConfig;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith({VertxExtension.class, SharedInfrastructure.class})
class SharedInfrastructureTest {

    private static TestInfrastructure fromBeforeAll;

    @BeforeAll
    static void setUp(TestInfrastructure infra) {
        fromBeforeAll = infra;
    }

    @Test
    void oneInstancePerJvm(TestInfrastructure infra) {
        assertThat(infra).isSameAs(fromBeforeAll);
        assertThat(infra.kafkaBootstrap()).startsWith("127.0.0.1:");
        assertThat(infra.commandPgUri()).contains("/orders?search_path=command");
    }

    @Test
    void isolatedConfigsAreFreshDatabasesAndTopicPrefixes(TestInfrastructure infra) throws Exception {
        long t = System.nanoTime();
        OrdersConfig a = infra.isolatedConfig();
        long millis = (System.nanoTime() - t) / 1_000_000;
        OrdersConfig b = infra.isolatedConfig();
        System.out.println("isolatedConfig took " + millis + " ms");

        assertThat(TestInfrastructure.databaseOf(a)).startsWith("t_").isNotEqualTo(TestInfrastructure.databaseOf(b));
        assertThat(a.kafkaTopicPrefix()).isNotEqualTo(b.kafkaTopicPrefix()).isNotEqualTo("orders");
        assertThat(a.httpPort()).isZero();
        assertThat(a.kafkaBootstrap()).isEqualTo(infra.kafkaBootstrap());
        assertThat(a.dataDir()).isNotEqualTo(b.dataDir());
        assertThat(millis).isLessThan(3_000);

        try (Connection c = infra.superuserConnection(TestInfrastructure.databaseOf(a));
                Statement s = c.createStatement();
                ResultSet rows = s.executeQuery("select schema_name, schema_owner from information_schema.schemata"
                        + " where schema_name in ('command', 'query') order by 1")) {
            assertThat(rows.next()).isTrue();
            assertThat(rows.getString(2)).isEqualTo("orders_command");
            assertThat(rows.next()).isTrue();
            assertThat(rows.getString(2)).isEqualTo("orders_query");
        }
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", a.kafkaBootstrap()))) {
            assertThat(admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)).hasSize(1);
        }
    }

    @Test
    void vertxPgClientConnectsThroughTheIsolatedUris(Vertx vertx, VertxTestContext test, TestInfrastructure infra) {
        OrdersConfig config = infra.isolatedConfig();
        Pool command = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(config.effectiveCommandPgUri()))
                .using(vertx).build();
        command.query("create table events (id bigint)").execute()
                .compose(created -> command.query("select current_user, current_schema(), current_database()").execute())
                .onComplete(test.succeeding(rows -> test.verify(() -> {
                    Row row = rows.iterator().next();
                    assertThat(row.getString(0)).isEqualTo("orders_command");
                    assertThat(row.getString(1)).isEqualTo("command");
                    assertThat(row.getString(2)).isEqualTo(TestInfrastructure.databaseOf(config));
                    assertThat(tables(infra, config)).containsExactly("command.events");
                    command.close();
                    test.completeNow();
                })));
    }

    private static Set<String> tables(TestInfrastructure infra, OrdersConfig config) throws Exception {
        try (Connection c = java.sql.DriverManager.getConnection(infra.superuserJdbcUrl(TestInfrastructure.databaseOf(config)));
                Statement s = c.createStatement();
                ResultSet rows = s.executeQuery("select schemaname || '.' || tablename from pg_tables"
                        + " where schemaname in ('command', 'query')")) {
            Set<String> names = new java.util.TreeSet<>();
            while (rows.next()) {
                names.add(rows.getString(1));
            }
            return names;
        }
    }
}
