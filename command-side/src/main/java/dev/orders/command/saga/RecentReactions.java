package dev.orders.command.saga;

import dev.orders.events.EventEnvelope;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * What the saga of this process has reacted to lately, to react to an event its process has just committed
 * before Kafka brings it, and only once:
 * <ul>
 *   <li>per stream, the last version whose event it reacted to (however it came): a committed event is taken only
 *       when it is the very next version of its stream (or the stream's first), so a stream's events are reacted
 *       to in their order whichever way each came; any other is left to Kafka;</li>
 *   <li>the ids of the committed events it took: when their Kafka copy comes, it is skipped (once; a later copy
 *       is a redelivery like any other, recognised by the event store).</li>
 * </ul>
 * Both are bounded (the streams and ids used most lately); what is forgotten is left to Kafka. An event whose
 * reaction failed is not recorded, so the versions after it are left to Kafka too. Used on the saga's context only.
 */
final class RecentReactions {

    private static final long UNKNOWN = 0;

    private final Map<UUID, Long> last;
    private final Map<UUID, Boolean> takenHere;

    RecentReactions(int capacity) {
        this.last = bounded(capacity);
        this.takenHere = bounded(capacity);
    }

    private static <V> Map<UUID, V> bounded(int capacity) {
        return new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<UUID, V> eldest) {
                return size() > capacity;
            }
        };
    }

    /**
     * Whether a committed event may be reacted to now, given the versions {@code pending} (taken and not finished
     * yet, per stream): only the next version after the last one known.
     */
    boolean mayTake(EventEnvelope event, Map<UUID, Long> pending) {
        Long before = pending.get(event.streamId());
        long previous = before != null ? before : last.getOrDefault(event.streamId(), UNKNOWN);
        return event.version() == previous + 1;
    }

    /** A committed event was reacted to (its reaction committed, or the domain refused it). */
    void takenHere(EventEnvelope event) {
        reacted(event);
        takenHere.put(event.eventId(), Boolean.TRUE);
    }

    /** Whether any event taken when it was committed still waits for its Kafka copy. */
    boolean anyTaken() {
        return !takenHere.isEmpty();
    }

    /** Whether the event of this id was taken when it was committed (its Kafka copy needs nothing); true once. */
    boolean copyOfTaken(UUID eventId) {
        return takenHere.remove(eventId) != null;
    }

    /** An event from Kafka was reacted to (its reaction committed, or the domain refused it, or it was parked). */
    void reacted(EventEnvelope event) {
        last.merge(event.streamId(), event.version(), Math::max);
    }
}
