package dev.orders.command.saga;

import dev.orders.command.store.ConcurrencyConflictException;
import dev.orders.events.EventFormatException;
import dev.orders.events.EventJson;
import io.vertx.core.VertxException;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

@DisplayName("The saga's failures")
class SagaFailuresTest {

    private static PgException pg(String sqlState) {
        return new PgException("failed", "ERROR", sqlState, null);
    }

    @Test
    @DisplayName("may pass when the database or the network says so about itself, or another writer won a race")
    void outages_and_races_may_pass() {
        assertThat(SagaFailures.mayPass(new ConnectException("Connection refused"))).isTrue();
        assertThat(SagaFailures.mayPass(ClosedConnectionException.INSTANCE)).isTrue();
        assertThat(SagaFailures.mayPass(new ConnectionPoolTooBusyException("Connection pool reached max wait queue size"))).isTrue();
        assertThat(SagaFailures.mayPass(new VertxException("Timeout waiting for connection", true))).isTrue();
        assertThat(SagaFailures.mayPass(pg("57P01"))).as("the server shuts down").isTrue();
        assertThat(SagaFailures.mayPass(pg("55000"))).as("the database does not accept connections").isTrue();
        assertThat(SagaFailures.mayPass(pg("08006"))).as("connection failure").isTrue();
        assertThat(SagaFailures.mayPass(pg("40001"))).as("serialization failure").isTrue();
        assertThat(SagaFailures.mayPass(pg("53300"))).as("too many connections").isTrue();
        assertThat(SagaFailures.mayPass(pg("42501"))).as("a privilege an operator grants again").isTrue();
        assertThat(SagaFailures.mayPass(new ConcurrencyConflictException(UUID.randomUUID(), 1))).isTrue();
        assertThat(SagaFailures.mayPass(new RuntimeException("wrapped", new ConnectException("refused")))).isTrue();
    }

    @Test
    @DisplayName("recurs when the record cannot be read, the domain's code fails on it or the database refuses its data")
    void bad_input_recurs() {
        Throwable undecodable = catchThrowable(() -> EventJson.decode("{not json".getBytes(StandardCharsets.UTF_8)));
        assertThat(undecodable).isInstanceOf(EventFormatException.class);
        assertThat(SagaFailures.mayPass(undecodable)).as("Jackson's parse failure is an IOException, yet no I/O").isFalse();
        assertThat(SagaFailures.mayPass(new IllegalStateException("a order event in a customer stream"))).isFalse();
        assertThat(SagaFailures.mayPass(new NullPointerException())).isFalse();
        assertThat(SagaFailures.mayPass(pg("22003"))).as("numeric value out of range").isFalse();
        assertThat(SagaFailures.mayPass(pg("23514"))).as("check constraint").isFalse();
        assertThat(SagaFailures.mayPass(pg("42P01"))).as("undefined table").isFalse();
    }

    @Test
    @DisplayName("are described in one bounded line")
    void descriptions_are_bounded() {
        assertThat(SagaFailures.describe(new IllegalStateException("broken"))).isEqualTo("IllegalStateException: broken");
        assertThat(SagaFailures.describe(new IllegalStateException("x".repeat(10_000)))).hasSizeLessThan(2_100);
    }
}
