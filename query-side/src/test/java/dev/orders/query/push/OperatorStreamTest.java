package dev.orders.query.push;

import dev.orders.infra.config.OrdersConfig;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operators' stream of every order change: its rate cap, coalescing, the count of what the cap
 * dropped, and its window-free start, against a sink the test reads.
 */
@DisplayName("An operator's stream of every order change")
class OperatorStreamTest {

    final Vertx vertx = Vertx.vertx();
    final Context context = vertx.getOrCreateContext();
    final PushMetrics metrics = new PushMetrics();
    final AtomicBoolean released = new AtomicBoolean();
    final SubscriptionTest.FakeSink sink = new SubscriptionTest.FakeSink();
    final List<Long> skipped = new CopyOnWriteArrayList<>();
    final UUID customer = UUID.randomUUID();
    final List<UUID> orders = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    OperatorStream stream(int perSecond, int maxPending) {
        return stream(OperatorStreamSettings.defaults().withRate(perSecond, maxPending));
    }

    OperatorStream stream(OperatorStreamSettings settings) {
        return new OperatorStream(context, vertx, settings, PushSettings.defaults(), metrics, () -> released.set(true));
    }

    @Test
    @DisplayName("takes its rate and its bound of waiting orders from the configuration")
    void takes_its_caps_from_the_configuration() throws Exception {
        OrdersConfig config = OrdersConfig.fromMap(Map.of("push.operator.events-per-second", "10",
                "push.operator.max-waiting", "15"));
        OperatorStream s = stream(OperatorStreamSettings.of(config));
        on(() -> {
            s.start(sink, skipped::add, false, List.of(), 0);
            s.offer(changes(1, 30));
            return null;
        });
        assertThat(skipped).as("the oldest dropped past the configured bound (the default keeps 2,000)")
                .containsExactly(15L);
        assertThat(on(sink::positions)).as("the configured rate: ten at once (the default writes 200)")
                .containsExactly(16L, 17L, 18L, 19L, 20L, 21L, 22L, 23L, 24L, 25L);
        await("the other five orders allowed to wait written", () -> on(() -> sink.positions().size()) == 15);
        assertThat(on(sink::positions).subList(10, 15)).containsExactly(26L, 27L, 28L, 29L, 30L);
    }

    @Test
    @DisplayName("writes at most its rate at once, lets the rest wait, and writes a waiting order's latest change only, in position order")
    void caps_the_rate_and_coalesces_what_waits() throws Exception {
        OperatorStream s = stream(10, 1_000);
        on(() -> {
            s.start(sink, skipped::add, false, List.of(), 0);
            s.offer(changes(1, 30));
            return null;
        });
        assertThat(on(sink::positions)).as("one second's worth at once").containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        on(() -> {
            s.offer(List.of(new ChangeRow(31, order(15), customer, 2, "{}", Instant.now())));
            return null;
        });
        await("every waiting order written", () -> on(() -> sink.positions().size()) == 30);
        List<Long> written = on(sink::positions);
        assertThat(written).as("ids strictly increasing").isSorted().doesNotHaveDuplicates();
        assertThat(written).contains(31L).doesNotContain(15L);
        assertThat(metrics.coalescedCount()).isEqualTo(1);
        assertThat(skipped).isEmpty();
    }

    @Test
    @DisplayName("past its bound of waiting orders drops the oldest and tells the client how many before the next order")
    void drops_the_oldest_waiting_past_the_bound_and_says_how_many() throws Exception {
        OperatorStream s = stream(1, 3);
        on(() -> {
            s.start(sink, skipped::add, false, List.of(), 0);
            s.offer(changes(1, 10));
            return null;
        });
        await("the newest three written", () -> on(() -> sink.positions().size()) == 3);
        assertThat(on(sink::positions)).containsExactly(8L, 9L, 10L);
        assertThat(skipped).as("told once, before the first order after the drop").containsExactly(7L);
    }

    @Test
    @DisplayName("changes that arrive while the first read runs are sent after it, only when newer than it")
    void buffers_while_starting_and_delivers_only_newer_changes() throws Exception {
        OperatorStream s = stream(100, 1_000);
        on(() -> {
            s.offer(List.of(change(4, 0), change(7, 1)));
            s.start(sink, skipped::add, false, List.of(change(5, 1), change(6, 0)), 6);
            s.offer(List.of(change(7, 1), change(8, 0)));
            return null;
        });
        assertThat(on(sink::positions)).containsExactly(5L, 6L, 7L, 8L);
    }

    @Test
    @DisplayName("once closed it writes nothing more and releases its connection once")
    void closed_writes_nothing_more() throws Exception {
        OperatorStream s = stream(100, 1_000);
        on(() -> {
            s.start(sink, skipped::add, false, List.of(), 0);
            s.offer(List.of(change(1, 0)));
            s.expire();
            s.offer(List.of(change(2, 0)));
            return null;
        });
        assertThat(sink.expired).isTrue();
        assertThat(released).isTrue();
        assertThat(on(sink::positions)).containsExactly(1L);
    }

    private List<ChangeRow> changes(int from, int to) {
        List<ChangeRow> changes = new ArrayList<>();
        for (int p = from; p <= to; p++) {
            changes.add(change(p, p));
        }
        return changes;
    }

    private ChangeRow change(long position, int orderIndex) {
        return new ChangeRow(position, order(orderIndex), customer, 1, "{\"p\":" + position + "}", Instant.now());
    }

    private UUID order(int index) {
        while (orders.size() <= index) {
            orders.add(UUID.randomUUID());
        }
        return orders.get(index);
    }

    private static void await(String what, java.util.concurrent.Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    private <T> T on(java.util.concurrent.Callable<T> action) throws Exception {
        return SubscriptionTest.on(context, action);
    }
}
