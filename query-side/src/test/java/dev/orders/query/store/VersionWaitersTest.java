package dev.orders.query.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("Requests waiting for an order's version")
class VersionWaitersTest {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        await(vertx.close());
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    @DisplayName("are one registry per Vert.x instance, so a projector and the query routes meet in it")
    void one_registry_per_vertx() {
        assertThat(VersionWaiters.of(vertx)).isSameAs(VersionWaiters.of(vertx));
    }

    @Test
    @DisplayName("wake when the order reaches the version, not before, and not for another order")
    void wake_at_the_version() throws Exception {
        VersionWaiters waiters = VersionWaiters.of(vertx);
        UUID order = UUID.randomUUID();
        VersionWaiters.Registration wait = waiters.register(order, 2, 10_000);
        waiters.reached(order, 1);
        waiters.reached(UUID.randomUUID(), 5);
        Thread.sleep(100);
        assertThat(wait.reached().isComplete()).isFalse();

        waiters.reached(order, 2);
        waiters.reached(order, 3);
        assertThat(await(wait.reached())).isTrue();
    }

    @Test
    @DisplayName("give up at their bound")
    void give_up_at_the_bound() throws Exception {
        VersionWaiters.Registration wait = VersionWaiters.of(vertx).register(UUID.randomUUID(), 1, 50);
        assertThat(await(wait.reached())).isFalse();
    }
}
