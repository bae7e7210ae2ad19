package dev.orders.command.handling;

import dev.orders.command.handling.CommandHandler.Loaded;

import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The states of the aggregates this process loaded or wrote lately, each with its version. Events never
 * change, so a state remembered at version {@code v} plus the stream's events after {@code v} is the
 * current state: a command on a busy aggregate (a customer receiving reservation after reservation)
 * reads only what is new, instead of its snapshot and up to a snapshot interval of events each time.
 * Bounded: past {@code max} streams the memory starts afresh. Safe from any thread.
 */
final class RecentStates {

    private record Entry(AggregateType<?, ?, ?> type, long version, Object state) {
    }

    private final Map<UUID, Entry> entries = new ConcurrentHashMap<>();
    private final int max;

    RecentStates(int max) {
        this.max = max;
    }

    /** The remembered state of a stream of this type, if any. */
    @SuppressWarnings("unchecked")
    <S> Optional<Loaded<S>> get(AggregateType<?, S, ?> type, UUID streamId) {
        Entry entry = entries.get(streamId);
        return entry == null || entry.type() != type ? Optional.empty()
                : Optional.of(new Loaded<>(streamId, entry.version(), (S) entry.state(), 0));
    }

    /** Remembers a state, unless a later version of the stream is remembered already. */
    void put(AggregateType<?, ?, ?> type, UUID streamId, long version, Object state) {
        if (version <= 0) {
            return;
        }
        if (entries.size() >= max && !entries.containsKey(streamId)) {
            entries.clear();
        }
        entries.merge(streamId, new Entry(type, version, state),
                (known, fresh) -> known.type() == fresh.type() && known.version() >= fresh.version() ? known : fresh);
    }
}
