package dev.orders.service.sql;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("Flyway's JDBC connection, from a side's postgresql:// URI")
class JdbcTargetTest {

    @Test
    @DisplayName("takes host, port, database, role, password, TLS mode and search_path from the URI the pool uses")
    void takes_everything_from_the_pools_uri() {
        JdbcTarget target = JdbcTarget.of(PgPools.connectOptions(
                "postgresql://orders_command:p%40ss%20word@db.example:5433/orders?search_path=command&sslmode=require"),
                "orders-command-migrations");

        assertThat(target.url()).isEqualTo("jdbc:postgresql://db.example:5433/orders?sslmode=require"
                + "&ApplicationName=orders-command-migrations&currentSchema=command");
        assertThat(target.user()).isEqualTo("orders_command");
        assertThat(target.password()).isEqualTo("p@ss word");
        assertThat(target.properties()).containsEntry("user", "orders_command").containsEntry("password", "p@ss word");
    }

    @Test
    @DisplayName("without a search_path leaves the role's own, and never shows the password")
    void without_a_search_path_leaves_the_roles_own() {
        JdbcTarget target = JdbcTarget.of(PgPools.connectOptions("postgresql://orders:secret@127.0.0.1:5432/orders"),
                "orders-query-migrations");

        assertThat(target.url()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/orders?sslmode=disable"
                + "&ApplicationName=orders-query-migrations");
        assertThat(target.toString()).doesNotContain("secret");
    }
}
