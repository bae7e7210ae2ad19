package dev.orders.command.handling;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("The states a command handler remembers")
class RecentStatesTest {

    private static final int MAX = 100;

    @Test
    @DisplayName("keep a busy customer while many more orders than the bound pass through")
    void a_stream_in_use_stays_remembered() {
        RecentStates recent = new RecentStates(MAX);
        UUID customer = UUID.randomUUID();
        recent.put(AggregateType.CUSTOMER, customer, 1, "created");
        for (int order = 0; order < 10 * MAX; order++) {
            recent.put(AggregateType.ORDER, UUID.randomUUID(), 1, "pending");
            // each order reserves credit on the customer: its state is read and written again
            long version = recent.get(AggregateType.CUSTOMER, customer).orElseThrow().version();
            recent.put(AggregateType.CUSTOMER, customer, version + 1, "reserved " + (order + 1));
        }
        assertThat(recent.get(AggregateType.CUSTOMER, customer).map(CommandHandler.Loaded::version))
                .contains(10L * MAX + 1);
    }

    @Test
    @DisplayName("forget the stream used longest ago once past the bound, and only that one")
    void the_least_recently_used_stream_goes_first() {
        RecentStates recent = new RecentStates(MAX);
        UUID[] streams = new UUID[MAX];
        for (int i = 0; i < MAX; i++) {
            streams[i] = UUID.randomUUID();
            recent.put(AggregateType.ORDER, streams[i], 1, "order " + i);
        }
        recent.get(AggregateType.ORDER, streams[0]); // used again: now the most recent

        recent.put(AggregateType.ORDER, UUID.randomUUID(), 1, "one more");

        assertThat(recent.get(AggregateType.ORDER, streams[0])).as("used lately").isPresent();
        assertThat(recent.get(AggregateType.ORDER, streams[1])).as("used longest ago").isEmpty();
        for (int i = 2; i < MAX; i++) {
            assertThat(recent.get(AggregateType.ORDER, streams[i])).as("stream %d", i).isPresent();
        }
    }

    @Test
    @DisplayName("never go back to an older version, and answer only for the stream's own type")
    void an_older_version_does_not_replace_a_newer_one() {
        RecentStates recent = new RecentStates(MAX);
        UUID stream = UUID.randomUUID();
        recent.put(AggregateType.ORDER, stream, 3, "approved");
        recent.put(AggregateType.ORDER, stream, 2, "pending");
        recent.put(AggregateType.ORDER, stream, 0, "nothing");

        assertThat(recent.get(AggregateType.ORDER, stream).map(CommandHandler.Loaded::version)).contains(3L);
        assertThat(recent.get(AggregateType.CUSTOMER, stream)).isEmpty();
    }
}
