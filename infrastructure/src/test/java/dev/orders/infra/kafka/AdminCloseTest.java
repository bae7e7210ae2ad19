package dev.orders.infra.kafka;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.admin.KafkaAdminClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Closing an admin client whose call cannot reach its broker (as when a broker died): the close fails that call
 * after {@link EventTopics#ADMIN_CLOSE} instead of waiting for the call's own timeout, so a stopping service is not
 * held by a dead broker. No broker is needed: the client is pointed at a port nothing listens on.
 */
@DisplayName("Closing an admin client")
class AdminCloseTest {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    @DisplayName("with a call to an unreachable broker under way ends it and returns well before the call's own timeout")
    void does_not_wait_for_a_dead_broker() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        KafkaAdminClient admin = await(EventTopics.admin(vertx, "127.0.0.1:" + port), 30);
        Future<Set<String>> pending = admin.listTopics();
        Thread.sleep(500);
        assertThat(pending.isComplete()).as("the call still tries to reach the broker").isFalse();

        // the call's own timeout (default.api.timeout.ms) is 15 s; the close is bounded by ADMIN_CLOSE (2 s)
        await(EventTopics.close(admin), 10);
        // its failure reaches the caller's context right after the close
        assertThatThrownBy(() -> await(pending, 5)).as("the call under way was ended by the close")
                .isInstanceOf(ExecutionException.class);
    }

    private static <T> T await(Future<T> future, int seconds) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
    }
}
