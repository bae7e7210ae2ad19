package dev.orders.command.handling;

import dev.orders.command.handling.CommandHandler.Loaded;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The states of the aggregates this process loaded or wrote lately, each with its version. Events never
 * change, so a state remembered at version {@code v} plus the stream's events after {@code v} is the
 * current state: a command on a busy aggregate (a customer receiving reservation after reservation)
 * reads only what is new, instead of its snapshot and up to a snapshot interval of events each time.
 * Bounded: past {@code max} streams the one used longest ago is forgotten, so a busy aggregate stays
 * remembered however many other streams pass through (every order is a stream of its own). Safe from any
 * thread.
 */
final class RecentStates {

    private record Remembered(AggregateType<?, ?, ?> type, long version, Object state) {
    }

    /** In order of use, the least recently used first; guarded by {@code this}. */
    private final Map<UUID, Remembered> entries;

    RecentStates(int max) {
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<UUID, Remembered> eldest) {
                return size() > max;
            }
        };
    }

    /** The remembered state of a stream of this type, if any. */
    @SuppressWarnings("unchecked")
    synchronized <S> Optional<Loaded<S>> get(AggregateType<?, S, ?> type, UUID streamId) {
        Remembered entry = entries.get(streamId);
        return entry == null || entry.type() != type ? Optional.empty()
                : Optional.of(new Loaded<>(streamId, entry.version(), (S) entry.state(), 0));
    }

    /** Remembers a state, unless a later version of the stream is remembered already. */
    synchronized void put(AggregateType<?, ?, ?> type, UUID streamId, long version, Object state) {
        if (version <= 0) {
            return;
        }
        Remembered known = entries.get(streamId);
        if (known == null || known.type() != type || known.version() < version) {
            entries.put(streamId, new Remembered(type, version, state));
        }
    }
}
