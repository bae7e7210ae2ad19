package dev.orders.query.push;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** The subscription's window-free start and its backpressure, against a sink whose queue the test fills. */
class SubscriptionTest {

    final Vertx vertx = Vertx.vertx();
    final Context context = vertx.getOrCreateContext();
    final PushMetrics metrics = new PushMetrics();
    final AtomicBoolean released = new AtomicBoolean();
    final FakeSink sink = new FakeSink();
    final UUID customer = UUID.randomUUID();
    final UUID a = UUID.randomUUID();
    final UUID b = UUID.randomUUID();

    @AfterEach
    void tearDown() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    Subscription subscription(PushSettings settings) throws Exception {
        return on(() -> attached(settings, sink, () -> released.set(true)));
    }

    /** A subscription of the customer's orders writing to {@code to}; call on the context. */
    Subscription attached(PushSettings settings, FakeSink to, Runnable onClosed) {
        Subscription s = new Subscription(new Watch.Customer(customer), null, context, vertx, settings, metrics, onClosed);
        s.attach(to);
        return s;
    }

    @Test
    void changes_buffered_while_the_state_is_read_are_sent_after_it_only_when_newer() throws Exception {
        Subscription s = subscription(PushSettings.defaults());
        on(() -> {
            s.offer(List.of(change(4, a), change(7, b)));
            s.send(List.of(change(5, b), change(6, a)));
            s.goLive(6, -1);
            s.offer(List.of(change(7, b), change(8, a)));
            return null;
        });
        assertThat(sink.positions()).containsExactly(5L, 6L, 7L, 8L);
    }

    @Test
    void a_start_that_ends_past_the_clients_last_id_gives_it_that_id_before_any_later_change() throws Exception {
        Subscription s = subscription(PushSettings.defaults());
        on(() -> {
            s.send(List.of(change(5, b)));
            s.goLive(9, -1);
            s.offer(List.of(change(10, a)));
            return null;
        });
        assertThat(sink.frames).containsExactly("order 5", "id 9", "order 10");

        FakeSink resumed = new FakeSink();
        on(() -> {
            attached(PushSettings.defaults(), resumed, () -> { })
                    .goLive(9, 9); // it resumed at 9 and nothing followed: it holds 9 already
            Subscription endsAtState = attached(PushSettings.defaults(), resumed, () -> { });
            endsAtState.send(List.of(change(11, a)));
            endsAtState.goLive(11, 4); // its last change is the position: no id twice
            return null;
        });
        assertThat(resumed.frames).containsExactly("order 11");
    }

    @Test
    void a_start_whose_changes_wait_for_a_full_write_queue_gives_no_id_ahead_of_them() throws Exception {
        Subscription s = subscription(PushSettings.defaults());
        on(() -> {
            sink.full = true;
            s.send(List.of(change(5, b)));
            s.goLive(9, -1);
            sink.full = false;
            sink.drain.handle(null);
            return null;
        });
        assertThat(sink.frames).containsExactly("order 5");
    }

    @Test
    void a_full_write_queue_coalesces_to_the_latest_change_per_order_and_flushes_oldest_first_on_drain() throws Exception {
        Subscription s = subscription(PushSettings.defaults());
        on(() -> {
            s.goLive(0, -1);
            s.offer(List.of(change(1, a)));
            sink.full = true;
            s.offer(List.of(change(2, a), change(3, b), change(4, a), change(5, b), change(6, a)));
            sink.full = false;
            sink.drain.handle(null);
            return null;
        });
        assertThat(sink.positions()).containsExactly(1L, 5L, 6L);
        assertThat(metrics.coalescedCount()).isEqualTo(3);
        assertThat(s.isClosed()).isFalse();
    }

    @Test
    void a_client_stalled_past_the_timeout_or_the_pending_bound_is_dropped() throws Exception {
        Subscription stalled = subscription(PushSettings.defaults().withStallTimeout(Duration.ofMillis(100)));
        on(() -> {
            stalled.goLive(0, -1);
            sink.full = true;
            stalled.offer(List.of(change(1, a)));
            return null;
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!stalled.isClosed() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(stalled.isClosed()).isTrue();
        assertThat(sink.closed).isTrue();
        assertThat(released).isTrue();

        FakeSink second = new FakeSink();
        Subscription overflowing = on(() -> {
            Subscription s = new Subscription(new Watch.Customer(customer), null, context, vertx,
                    PushSettings.defaults().withMaxPendingOrders(3), metrics, () -> { });
            s.attach(second);
            s.goLive(0, -1);
            second.full = true;
            for (int i = 1; i <= 4; i++) {
                s.offer(List.of(change(i, UUID.randomUUID())));
            }
            return s;
        });
        assertThat(overflowing.isClosed()).isTrue();
        assertThat(metrics.droppedCount()).isEqualTo(2);
    }

    @Test
    void an_expired_subscription_tells_its_client_releases_everything_and_writes_nothing_more() throws Exception {
        Subscription s = subscription(PushSettings.defaults());
        on(() -> {
            s.goLive(0, -1);
            s.offer(List.of(change(1, a)));
            s.expire();
            s.offer(List.of(change(2, a)));
            s.expire();
            return null;
        });
        assertThat(sink.expired).isTrue();
        assertThat(s.isClosed()).isTrue();
        assertThat(released).isTrue();
        assertThat(sink.positions()).containsExactly(1L);
    }

    ChangeRow change(long position, UUID order) {
        return new ChangeRow(position, order, customer, (int) position, "{\"p\":" + position + "}", Instant.now());
    }

    <T> T on(java.util.concurrent.Callable<T> action) throws Exception {
        return on(context, action);
    }

    /** Runs the action on the context and answers its result. */
    static <T> T on(Context context, java.util.concurrent.Callable<T> action) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        context.runOnContext(ignored -> {
            try {
                result.complete(action.call());
            } catch (Exception e) {
                result.completeExceptionally(e);
            }
        });
        return result.get(10, TimeUnit.SECONDS);
    }

    static final class FakeSink implements PushSink {
        final List<ChangeRow> written = new ArrayList<>();
        /** Everything written, in order: {@code order <position>} and the ids given alone, {@code id <id>}. */
        final List<String> frames = new ArrayList<>();
        volatile boolean full;
        volatile boolean closed;
        volatile boolean expired;
        Handler<Void> drain;

        List<Long> positions() {
            return written.stream().map(ChangeRow::position).toList();
        }

        @Override
        public void order(ChangeRow change) {
            written.add(change);
            frames.add("order " + change.position());
        }

        @Override
        public void position(long id) {
            frames.add("id " + id);
        }

        @Override
        public void reset() {
        }

        @Override
        public void heartbeat() {
        }

        @Override
        public boolean writeQueueFull() {
            return full;
        }

        @Override
        public void drainHandler(Handler<Void> handler) {
            drain = handler;
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public void expired() {
            expired = true;
        }

        @Override
        public void moveOn() {
            closed = true;
        }
    }
}
