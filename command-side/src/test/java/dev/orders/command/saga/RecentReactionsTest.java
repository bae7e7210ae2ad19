package dev.orders.command.saga;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent.OrderCreated;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("What the saga has reacted to lately")
class RecentReactionsTest {

    private static final Map<UUID, Long> NONE_PENDING = Map.of();

    @Test
    @DisplayName("takes a committed event only as the next version of its stream, or the first of a new one")
    void takes_only_the_next_version() {
        RecentReactions reactions = new RecentReactions(100);
        UUID stream = UUID.randomUUID();
        assertThat(reactions.mayTake(event(stream, 1), NONE_PENDING)).as("a new stream's first event").isTrue();
        assertThat(reactions.mayTake(event(stream, 2), NONE_PENDING)).as("a version of a stream not seen").isFalse();

        reactions.reacted(event(stream, 1));
        assertThat(reactions.mayTake(event(stream, 2), NONE_PENDING)).as("the next version").isTrue();
        assertThat(reactions.mayTake(event(stream, 1), NONE_PENDING)).as("a version reacted to").isFalse();
        assertThat(reactions.mayTake(event(stream, 3), NONE_PENDING)).as("one past a version not seen").isFalse();
    }

    @Test
    @DisplayName("counts the versions taken earlier in the same batch")
    void counts_pending_versions() {
        RecentReactions reactions = new RecentReactions(100);
        UUID stream = UUID.randomUUID();
        Map<UUID, Long> pending = new HashMap<>(Map.of(stream, 1L));
        assertThat(reactions.mayTake(event(stream, 2), pending)).isTrue();
        assertThat(reactions.mayTake(event(stream, 3), pending)).isFalse();
    }

    @Test
    @DisplayName("skips the Kafka copy of an event taken when it was committed, once, and no other event")
    void skips_the_copy_of_what_it_took_once() {
        RecentReactions reactions = new RecentReactions(100);
        UUID stream = UUID.randomUUID();
        EventEnvelope taken = event(stream, 1);
        EventEnvelope fromKafka = event(stream, 2);
        reactions.takenHere(taken);
        reactions.reacted(fromKafka);

        assertThat(reactions.copyOfTaken(fromKafka.eventId())).as("an event reacted to from Kafka").isFalse();
        assertThat(reactions.copyOfTaken(event(stream, 1).eventId())).as("another event at the same version").isFalse();
        assertThat(reactions.copyOfTaken(taken.eventId())).as("the copy of the event taken").isTrue();
        assertThat(reactions.copyOfTaken(taken.eventId())).as("a second copy: a redelivery like any other").isFalse();
        assertThat(reactions.mayTake(event(stream, 3), NONE_PENDING)).isTrue();
    }

    @Test
    @DisplayName("forgets the streams used longest ago beyond its bound, and then leaves their events to Kafka")
    void forgets_beyond_its_bound() {
        RecentReactions reactions = new RecentReactions(2);
        UUID first = UUID.randomUUID();
        reactions.reacted(event(first, 1));
        reactions.reacted(event(UUID.randomUUID(), 1));
        reactions.reacted(event(UUID.randomUUID(), 1));

        assertThat(reactions.mayTake(event(first, 2), NONE_PENDING)).isFalse();
    }

    private static EventEnvelope event(UUID stream, long version) {
        return new EventEnvelope(UUID.randomUUID(), version, 0, Instant.now(), 1, EventMetadata.NONE,
                new OrderCreated(stream, UUID.randomUUID(), new Money(new BigDecimal("1"), "EUR")));
    }
}
