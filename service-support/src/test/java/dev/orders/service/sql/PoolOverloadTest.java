package dev.orders.service.sql;

import io.vertx.core.VertxException;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PoolOverloadTest {

    @Test
    void the_full_wait_queue_and_the_connection_timeout_are_recognised_precisely() {
        // what the Vert.x 5 pool fails an acquisition with when its wait queue is full
        assertThat(PoolOverload.causes(
                new ConnectionPoolTooBusyException("Connection pool reached max wait queue size of 1"))).isTrue();
        assertThat(PoolOverload.causes(new RuntimeException("wrapped",
                new ConnectionPoolTooBusyException("Connection pool reached max wait queue size of 1")))).isTrue();
        assertThat(PoolOverload.causes(new VertxException("Timeout waiting for connection", true))).isTrue();
        // a message that merely mentions a wait queue is not the pool's verdict
        assertThat(PoolOverload.causes(new IllegalStateException("the wait queue of the relay is odd"))).isFalse();
        assertThat(PoolOverload.causes(new VertxException("Connection refused"))).isFalse();
    }
}
