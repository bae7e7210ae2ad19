package dev.orders.command.handling;

import dev.orders.command.store.AppendSignal;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent.OrderCreated;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * When the relay of the process hears that events were committed ({@link AppendSignal}): at once without a receiver
 * of the hand-off; with one (the saga), once it is done with every hand-off of the events' chain (their correlation
 * id), so that an order's creation, reservation and approval reach the relay together. No database or broker: the
 * signal is counted where the relay listens, and the receiver holds each hand-off until the test lets it go.
 */
@DisplayName("Handing committed events over, and signalling the relay")
class CommitHandOffTest {

    /** Long enough that the safety net never fires within a case, unless the case sets it. */
    private static final long NO_LIMIT_MS = 60_000;

    private Vertx vertx;
    private Context receiverContext;
    private final AtomicInteger signals = new AtomicInteger();
    private final BlockingQueue<Runnable> held = new LinkedBlockingQueue<>();
    private final BiConsumer<List<EventEnvelope>, Runnable> receiver = (events, done) -> held.add(done);

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        receiverContext = vertx.getOrCreateContext();
        AppendSignal signal = AppendSignal.of(vertx);
        vertx.eventBus().consumer(AppendSignal.ADDRESS, message -> {
            signals.incrementAndGet();
            signal.heard(); // as the relay does before it reads: the next commit signals again
        });
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    @DisplayName("without a receiver, signals at once")
    void without_a_receiver() throws Exception {
        CommitHandOff handOff = new CommitHandOff(vertx, AppendSignal.of(vertx), NO_LIMIT_MS);
        handOff.hand(List.of(event("order-1")));
        awaitSignals(1);
    }

    @Test
    @DisplayName("signals once the receiver is done with the whole chain, its reactions' hand-offs included")
    void a_chain_is_signalled_when_it_ends() throws Exception {
        CommitHandOff handOff = new CommitHandOff(vertx, AppendSignal.of(vertx), NO_LIMIT_MS);
        handOff.attach(receiverContext, receiver);

        handOff.hand(List.of(event("order-1"))); // the order's creation
        Runnable created = next();
        handOff.hand(List.of(event("order-1"))); // the saga's reaction committed, before it is done with the creation
        created.run();
        Runnable reserved = next();
        assertNoSignal();

        reserved.run();
        awaitSignals(1);
    }

    @Test
    @DisplayName("ends each chain on its own: one held does not hold another's signal")
    void chains_end_independently() throws Exception {
        CommitHandOff handOff = new CommitHandOff(vertx, AppendSignal.of(vertx), NO_LIMIT_MS);
        handOff.attach(receiverContext, receiver);

        handOff.hand(List.of(event("order-1")));
        Runnable first = next();
        handOff.hand(List.of(event("order-2")));
        Runnable second = next();
        second.run();
        awaitSignals(1);

        first.run();
        awaitSignals(2);
    }

    @Test
    @DisplayName("takes a hand-off of several chains as ended once each of them is; events without a correlation id are chains of their own")
    void several_chains_in_one_hand_off() throws Exception {
        CommitHandOff handOff = new CommitHandOff(vertx, AppendSignal.of(vertx), NO_LIMIT_MS);
        handOff.attach(receiverContext, receiver);

        handOff.hand(List.of(event("order-1")));
        Runnable alone = next();
        handOff.hand(List.of(event("order-1"), event(null), event(null))); // one batch of the saga
        Runnable batch = next();
        batch.run(); // the two without a correlation id end; order-1 is still held by the first hand-off
        awaitSignals(1);

        alone.run();
        awaitSignals(2);
    }

    @Test
    @DisplayName("runs the receiver's done once, however often the receiver calls it")
    void done_counts_once() throws Exception {
        CommitHandOff handOff = new CommitHandOff(vertx, AppendSignal.of(vertx), NO_LIMIT_MS);
        handOff.attach(receiverContext, receiver);

        handOff.hand(List.of(event("order-1")));
        Runnable first = next();
        handOff.hand(List.of(event("order-1")));
        Runnable second = next();
        first.run();
        first.run(); // must not end the chain that the second hand-off still holds
        assertNoSignal();

        second.run();
        awaitSignals(1);
    }

    @Test
    @DisplayName("signals every limit while a chain is held that never ends")
    void the_safety_net() throws Exception {
        CommitHandOff handOff = new CommitHandOff(vertx, AppendSignal.of(vertx), 20);
        handOff.attach(receiverContext, receiver);

        handOff.hand(List.of(event("order-1")));
        next(); // never run
        awaitSignals(3);
    }

    @Test
    @DisplayName("lets every chain go when the receiver detaches, and signals at once after")
    void detaching() throws Exception {
        CommitHandOff handOff = new CommitHandOff(vertx, AppendSignal.of(vertx), NO_LIMIT_MS);
        handOff.attach(receiverContext, receiver);

        handOff.hand(List.of(event("order-1")));
        Runnable never = next();
        handOff.detach(receiver);
        awaitSignals(1);

        handOff.hand(List.of(event("order-2")));
        awaitSignals(2);
        never.run(); // late: nothing held any more, at most one more signal
        assertThat(held).as("no receiver, nothing handed").isEmpty();
    }

    private Runnable next() throws InterruptedException {
        Runnable done = held.poll(10, TimeUnit.SECONDS);
        assertThat(done).as("the receiver got the events").isNotNull();
        return done;
    }

    private void awaitSignals(int expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (signals.get() < expected && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(signals.get()).as("signals to the relay").isGreaterThanOrEqualTo(expected);
    }

    /** No signal arrives while the receiver holds the chain (a signal would take microseconds). */
    private void assertNoSignal() throws InterruptedException {
        Thread.sleep(200);
        assertThat(signals.get()).as("signals to the relay while the chain is held").isZero();
    }

    private static EventEnvelope event(String correlationId) {
        return new EventEnvelope(UUID.randomUUID(), 1, 0, Instant.now(), 1,
                new EventMetadata(correlationId, null, null, null),
                new OrderCreated(UUID.randomUUID(), UUID.randomUUID(), new Money(new BigDecimal("1"), "EUR")));
    }
}
