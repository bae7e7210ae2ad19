package dev.orders.command.messaging;

import dev.orders.command.messaging.TopicReader.Published;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.SqlClient;

import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;

import static dev.orders.command.messaging.RelayFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

/** The relay tests' writers (background load) and checks of what reached Kafka and the feed. */
final class RelayChecks {

    private RelayChecks() {
    }

    /** Writers, each with streams of its own, append {@code total} events in 1..3 per transaction. */
    static List<EventEnvelope> runWriters(RelayFixture f, int writers, int total, int maxCommitDelayMillis) {
        return runWriters(f, writers, total, maxCommitDelayMillis, () -> false);
    }

    /** Writers as {@link #runWriters(RelayFixture, int, int, int)} that append until {@code stop} says so. */
    static List<EventEnvelope> runWritersUntil(RelayFixture f, int writers, int maxCommitDelayMillis, BooleanSupplier stop) {
        return runWriters(f, writers, Integer.MAX_VALUE, maxCommitDelayMillis, stop);
    }

    private static List<EventEnvelope> runWriters(RelayFixture f, int writers, int total, int maxCommitDelayMillis,
                                                  BooleanSupplier stop) {
        List<Future<List<EventEnvelope>>> done = new ArrayList<>();
        int perWriter = total / writers;
        for (int w = 0; w < writers; w++) {
            int quota = w == writers - 1 ? total - perWriter * (writers - 1) : perWriter;
            Promise<List<EventEnvelope>> result = Promise.promise();
            f.vertx.runOnContext(ignored -> writeLoop(f, quota, new HashMap<>(), new ArrayList<>(), maxCommitDelayMillis, stop)
                    .onComplete(result));
            done.add(result.future());
        }
        List<EventEnvelope> all = new ArrayList<>();
        for (Future<List<EventEnvelope>> writer : done) {
            all.addAll(await(writer));
        }
        return all;
    }

    private static Future<List<EventEnvelope>> writeLoop(RelayFixture f, int left, Map<UUID, Long> streams,
                                                         List<EventEnvelope> written, int maxDelay,
                                                         BooleanSupplier stop) {
        if (left == 0 || stop.getAsBoolean()) {
            return Future.succeededFuture(written);
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        UUID stream = streams.size() < 4 || random.nextInt(4) == 0 ? UUID.randomUUID()
                : List.copyOf(streams.keySet()).get(random.nextInt(streams.size()));
        long version = streams.getOrDefault(stream, 0L);
        int count = Math.min(left, 1 + random.nextInt(3));
        return f.appendSlowly(stream, version, count, maxDelay).compose(events -> {
            streams.put(stream, version + count);
            written.addAll(events);
            return writeLoop(f, left - count, streams, written, maxDelay, stop);
        });
    }

    static void assertEveryEventOnceInStreamOrder(List<EventEnvelope> written, List<Published> published) {
        assertThat(published).hasSize(written.size());
        assertEveryEventAtLeastOnceInStreamOrder(written, published);
    }

    /**
     * Every written event is on the topic; a consumer that applies version last+1 and skips what it has
     * applied ends at each stream's last version with no gap; a repeated event carries its first position;
     * the positions are exactly 1..N.
     */
    static void assertEveryEventAtLeastOnceInStreamOrder(List<EventEnvelope> written,
                                                                 List<Published> published) {
        Set<UUID> writtenIds = new HashSet<>();
        Map<String, Long> lastVersion = new HashMap<>();
        for (EventEnvelope event : written) {
            writtenIds.add(event.eventId());
            lastVersion.merge(event.streamId().toString(), event.version(), Math::max);
        }
        Set<UUID> publishedIds = new HashSet<>();
        Map<UUID, Long> positionOf = new HashMap<>();
        Map<Long, UUID> eventAt = new HashMap<>();
        Map<String, Long> applied = new HashMap<>();
        List<String> gaps = new ArrayList<>();
        for (Published record : published) {
            publishedIds.add(record.eventId());
            Long earlier = positionOf.putIfAbsent(record.eventId(), record.position());
            assertThat(earlier == null || earlier == record.position())
                    .as("a repeat of %s keeps its position", record.eventId()).isTrue();
            UUID other = eventAt.putIfAbsent(record.position(), record.eventId());
            assertThat(other == null || other.equals(record.eventId()))
                    .as("position %d names one event only", record.position()).isTrue();
            long last = applied.getOrDefault(record.streamId(), 0L);
            if (record.version() == last + 1) {
                applied.put(record.streamId(), record.version());
            } else if (record.version() > last + 1) {
                gaps.add(record.streamId() + ": version " + record.version() + " after " + last);
            }
        }
        assertThat(publishedIds).as("every committed event, nothing else").isEqualTo(writtenIds);
        assertThat(gaps).as("per-stream order on the topic").isEmpty();
        assertThat(applied).isEqualTo(lastVersion);
        assertThat(new HashSet<>(positionOf.values())).as("gap-free positions").isEqualTo(range(1, written.size()));
    }

    /**
     * The versions a consumer takes from the records, per stream, in the order it takes them, by the projector's
     * rule ({@code Projection}): a version not above the last one taken is a repeat and skipped; any other is
     * taken, even past a gap (an earlier version arriving after it is then skipped, lost to the view).
     */
    static Map<String, List<Long>> consumerTakes(List<Published> published) {
        Map<String, List<Long>> taken = new HashMap<>();
        for (Published record : published) {
            List<Long> versions = taken.computeIfAbsent(record.streamId(), id -> new ArrayList<>());
            if (versions.isEmpty() || record.version() > versions.getLast()) {
                versions.add(record.version());
            }
        }
        return taken;
    }

    /** The event feed's events after {@code after}, at most {@code limit}, decoded from the bytes it answers. */
    static Future<List<EventEnvelope>> feedEvents(SqlClient client, long after, int limit) {
        return new EventFeed().readPublishedRows(client, after, limit).map(rows -> {
            List<EventEnvelope> events = new ArrayList<>();
            rows.forEach(row -> events.add(EventJson.decode(EventJson.encode(EventFeed.text(row)))));
            return events;
        });
    }

    static void assertFeedIsGapFree(RelayFixture f, int total) {
        long after = 0;
        while (after < total) {
            List<EventEnvelope> page = await(feedEvents(f.pool, after, 700));
            assertThat(page).isNotEmpty();
            for (EventEnvelope event : page) {
                assertThat(event.globalPosition()).isEqualTo(++after);
            }
        }
        assertThat(await(feedEvents(f.pool, total, 10))).isEmpty();
    }

    static List<Published> byPosition(List<Published> published) {
        return published.stream().sorted(java.util.Comparator.comparingLong(Published::position)).toList();
    }

    static Set<Long> positionsOf(Collection<Published> published, Set<UUID> ids) {
        Set<Long> positions = new HashSet<>();
        published.stream().filter(r -> ids.contains(r.eventId())).forEach(r -> positions.add(r.position()));
        return positions;
    }

    static Set<Long> range(long from, long to) {
        Set<Long> set = new HashSet<>();
        LongStream.rangeClosed(from, to).forEach(set::add);
        return set;
    }

    static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
