package dev.orders.command.messaging;

import dev.orders.service.sql.PgPools;
import dev.orders.service.sql.PgSessions;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static dev.orders.command.messaging.RelayFixture.await;
import static dev.orders.command.messaging.RelayFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The services' PostgreSQL sessions")
class SessionBoundsTest {

    private TestInfrastructure infra;
    private Vertx vertx;
    private String uri;
    private Pool observer;

    @BeforeAll
    void start(TestInfrastructure infra) {
        this.infra = infra;
        vertx = Vertx.vertx();
        uri = infra.isolatedConfig().effectiveCommandPgUri();
        observer = PgPools.create(vertx, uri, 1, 8, "test-observer");
    }

    @AfterAll
    void stop() {
        await(observer.close());
        await(vertx.close());
    }

    @Test
    @DisplayName("are named and carry the configured timeouts; one left idle in a transaction is ended by the server")
    void a_session_idle_in_a_transaction_is_cut_by_the_timeout() {
        Pool pool = PgPools.create(vertx, uri, 1, 8, "command", new PgSessions(Duration.ofSeconds(30), Duration.ofSeconds(1)));
        try {
            SqlConnection connection = await(pool.getConnection());
            var settings = await(connection.query("SELECT current_setting('application_name'),"
                    + " current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout'),"
                    + " pg_backend_pid()").execute()).iterator().next();
            assertThat(settings.getString(0)).isEqualTo("orders-command");
            assertThat(settings.getString(1)).isEqualTo("30s");
            assertThat(settings.getString(2)).isEqualTo("1s");
            int pid = settings.getInteger(3);

            await(connection.begin());
            await(connection.query("SELECT pg_current_xact_id()").execute());
            eventually(Duration.ofSeconds(10), "the server ended the idle transaction's session",
                    () -> await(observer.preparedQuery("SELECT count(*) FROM pg_stat_activity WHERE pid = $1")
                            .execute(io.vertx.sqlclient.Tuple.of(pid))).iterator().next().getLong(0) == 0);
            Throwable failure = await(connection.query("SELECT 1").execute().<Throwable>map(ok -> null)
                    .otherwise(e -> e));
            assertThat(failure).as("the session is gone").isNotNull();
        } finally {
            pool.close();
        }
    }

    @Test
    @DisplayName("cancel a statement that runs past the statement timeout")
    void a_statement_past_the_timeout_is_cancelled() {
        Pool pool = PgPools.create(vertx, uri, 1, 8, "command", new PgSessions(Duration.ofMillis(300), Duration.ofSeconds(60)));
        try {
            Throwable failure = await(pool.query("SELECT pg_sleep(5)").execute().<Throwable>map(ok -> null)
                    .otherwise(e -> e));
            assertThat(failure).isInstanceOf(PgException.class);
            assertThat(((PgException) failure).getSqlState()).as("query_canceled").isEqualTo("57014");
        } finally {
            pool.close();
        }
    }

    @Test
    @DisplayName("the relay's lease session asks the server for keepalive probes, so a vanished relay host loses the lease in seconds")
    void the_lease_session_has_tcp_keepalive_bounds() {
        PgConnection lease = await(PgConnection.connect(vertx, RelayLease.options(uri, PgSessions.DEFAULTS)));
        try {
            var row = await(lease.query("SELECT current_setting('tcp_keepalives_idle'), current_setting('tcp_keepalives_interval'),"
                    + " current_setting('tcp_keepalives_count'), current_setting('tcp_user_timeout'),"
                    + " current_setting('application_name')").execute()).iterator().next();
            assertThat(row.getString(0)).isEqualTo("5");
            assertThat(row.getString(1)).isEqualTo("2");
            assertThat(row.getString(2)).isEqualTo("3");
            assertThat(row.getString(3)).as("tcp_user_timeout, ms").isEqualTo("10000");
            assertThat(row.getString(4)).isEqualTo("orders-relay-lease");
            assertThat(RelayLease.FAILOVER_BOUND_SECONDS).isEqualTo(11);
        } finally {
            lease.close();
        }
    }

}
