package dev.orders.infra;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orders.infra.config.OrdersConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Durable means durable: the embedded PostgreSQL of production mode puts every acknowledged commit on disk. */
class DurablePostgresTest {

    @Test
    @DisplayName("the command side's session on the durable embedded PostgreSQL commits synchronously, with fsync on")
    void durable_embedded_postgres_commits_synchronously() throws Exception {
        Path dir = TestDirs.create("orders-durable-test");
        // production mode, Kafka named (not started): only PostgreSQL comes up
        OrdersConfig config = OrdersConfig.fromMap(Map.of("data.dir", dir.toString(), "mode", "production",
                "kafka.bootstrap", "127.0.0.1:9"));
        try (Infrastructure infra = Infrastructure.start(config);
             Connection c = EmbeddedInfrastructureTest.connect(infra.commandPgUri());
             Statement s = c.createStatement()) {
            assertThat(show(s, "synchronous_commit")).isEqualTo("on");
            assertThat(show(s, "fsync")).isEqualTo("on");
        } finally {
            TestDirs.delete(dir);
        }
    }

    private static String show(Statement s, String setting) throws Exception {
        try (ResultSet rows = s.executeQuery("SHOW " + setting)) {
            rows.next();
            return rows.getString(1);
        }
    }
}
