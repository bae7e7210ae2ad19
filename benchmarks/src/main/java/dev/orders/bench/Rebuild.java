package dev.orders.bench;

import dev.orders.events.CustomerEvent.CreditLimitExceeded;
import dev.orders.events.CustomerEvent.CreditReleased;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventJson;
import dev.orders.events.EventTypes;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent.OrderApproved;
import dev.orders.events.OrderEvent.OrderCancelled;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.events.OrderEvent.OrderRejected;
import dev.orders.events.RejectionReason;
import dev.orders.events.StreamType;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Rebuilding the query side's projections from scratch: {@code POST /api/admin/rebuild} (the query side's
 * {@code Rebuilder}, reading the command side's event feed page by page and folding it into fresh tables,
 * then switching), timed from the request to the state {@code DONE}, against a plain ordered scan of the
 * events table (a JDBC cursor over the columns the feed reads, same PostgreSQL, same run).
 *
 * <p>The stored events are written straight into the command side's event store with {@code COPY}: valid
 * histories in the stored form of {@link EventJson}, each customer with orders that are approved, some later
 * cancelled, some rejected, 64 customers' histories interleaved. They are stored as published long ago
 * (beyond Kafka's retention, the case the event feed exists for): numbered after the relay's checkpoint in
 * publication order, the checkpoint moved past them (with the relay's anchors), and the query side's event log holding them
 * as its live projector would have; the relay is then made to re-read its checkpoint (its lease session is
 * ended; it takes the lease again at once). So the relay, the saga and the projector do not replay a million
 * events through Kafka, which would take this benchmark's budget without changing what is measured.
 */
final class Rebuild {

    /** One rebuild, as seen from its status polled every {@value #POLL_MS} ms. */
    record Run(double seconds, long eventsRead, double buildingSeconds, double catchingUpSeconds,
               double switchingSeconds, long serverEventsPerSecond, double slowestPollMillis, int pollsUnanswered,
               String state, JsonObject status) {
        double eventsPerSecond() {
            return eventsRead / seconds;
        }
    }

    /** The whole measurement. */
    record Result(long storedEvents, long written, double writeSeconds, List<Run> runs, List<Double> scanRates,
                  List<Double> feedRates) {
    }

    private static final long POLL_MS = 100;
    private static final int INTERLEAVED = 64;
    private static final int ORDERS_PER_CUSTOMER = 20;
    /** The relay's advisory lock key ("relay" in ASCII) as pg_locks shows a bigint key: high and low halves. */
    private static final long RELAY_LEASE_KEY = 0x72656c6179L;
    private static final String COPY = "COPY command.events (event_id, stream_type, stream_id, version, event_type,"
            + " schema_version, data, metadata, occurred_at) FROM STDIN";
    /** The events this transaction wrote, numbered after the relay's checkpoint (the {@code %d}) in publication order. */
    private static final String WRITTEN_HERE = "(SELECT e.*, %d + row_number() OVER (ORDER BY e.id) AS position"
            + " FROM command.events e WHERE e.tx = pg_current_xact_id())";
    /** Every event in publication order, (tx, id): the order of their global positions. */
    static final String SCAN = "SELECT event_id, stream_type, stream_id, version, tx::text AS tx, event_type,"
            + " schema_version, data::text AS data, metadata::text AS metadata, occurred_at FROM command.events"
            + " ORDER BY tx, id";
    /** The feed's page size, as the query side's rebuild asks for it. */
    private static final int FEED_PAGE = 1_000;

    private final SystemUnderTest system;
    private final Http http;

    Rebuild(SystemUnderTest system, Http http) {
        this.system = system;
        this.http = http;
    }

    Result run(long events, int runs) throws Exception {
        System.out.printf("    waiting until nothing is in flight (%d ms)%n", system.awaitQuiet(300_000));
        long existing = system.scalar("select count(*) from command.events");
        long toWrite = events;
        long t0 = System.nanoTime();
        System.out.printf("    writing %,d events (the store holds %,d from the other parts)%n", toWrite, existing);
        write(toWrite);
        double writeSeconds = (System.nanoTime() - t0) / 1e9;
        long stored = system.scalar("select count(*) from command.events")
                - system.scalar("select count(*) from command.unpublished_events");
        System.out.printf("    wrote %,d events in %.1f s; %,d stored and published%n", toWrite, writeSeconds, stored);

        List<Double> scans = new ArrayList<>();
        List<Double> feeds = new ArrayList<>();
        List<Run> rebuilds = new ArrayList<>();
        for (int run = 1; run <= runs; run++) {
            double scan = scan();
            scans.add(scan);
            double feed = feedAlone();
            feeds.add(feed);
            Run rebuild = rebuild();
            rebuilds.add(rebuild);
            System.out.printf(Locale.ROOT, "  rebuild run %d/%d: %,d events in %.1f s = %,.0f events/s (%s; reading"
                            + " and folding %.1f s, catching up %.1f s, switching %.1f s; status answered within %.0f ms) |"
                            + " plain scan %,.0f events/s | event feed alone %,.0f events/s | ratio %.3f%n", run, runs,
                    rebuild.eventsRead(), rebuild.seconds(), rebuild.eventsPerSecond(), rebuild.state(),
                    rebuild.buildingSeconds(), rebuild.catchingUpSeconds(), rebuild.switchingSeconds(),
                    rebuild.slowestPollMillis(), scan, feed, rebuild.eventsPerSecond() / scan);
            if (!"DONE".equals(rebuild.state())) {
                throw new IllegalStateException("the rebuild ended " + rebuild.state() + ": " + rebuild.status().encode());
            }
        }
        return new Result(stored, toWrite, writeSeconds, rebuilds, scans, feeds);
    }

    // ---- the stored events ------------------------------------------------------------------------------

    /** A stored event, in the columns the event store keeps. */
    private record Stored(UUID eventId, StreamType streamType, UUID streamId, int version, DomainEvent event,
                          String metadata) {
    }

    private void write(long count) throws Exception {
        if (count == 0) {
            return;
        }
        try (Connection conn = system.newAdminConnection()) {
            conn.setAutoCommit(false);
            long checkpoint;
            try (Statement st = conn.createStatement();
                 ResultSet row = st.executeQuery("select last_position from command.relay_checkpoint where id = 1 for update")) {
                row.next();
                checkpoint = row.getLong(1);
            }
            try (Statement st = conn.createStatement();
                 ResultSet row = st.executeQuery("select count(*) from command.unpublished_events")) {
                row.next();
                if (row.getLong(1) != 0) {
                    throw new IllegalStateException(row.getLong(1) + " events wait for the relay");
                }
            }
            CopyIn copy = conn.unwrap(PGConnection.class).getCopyAPI().copyIn(COPY);
            try {
                ByteArrayOutputStream buffer = new ByteArrayOutputStream(1 << 20);
                Instant occurred = Instant.now().minus(Duration.ofDays(1));
                long written = 0;
                while (written < count) {
                    List<Stored> group = interleavedGroup();
                    for (Stored e : group) {
                        if (written == count) {
                            break;
                        }
                        written++;
                        occurred = occurred.plusNanos(10_000);
                        row(buffer, e, occurred);
                    }
                    if (buffer.size() > (1 << 20) - 4096 || written == count) {
                        byte[] bytes = buffer.toByteArray();
                        copy.writeToCopy(bytes, 0, bytes.length);
                        buffer.reset();
                    }
                }
                copy.endCopy();
            } finally {
                if (copy.isActive()) {
                    copy.cancelCopy();
                }
            }
            long last = checkpoint + count;
            String writtenHere = WRITTEN_HERE.formatted(checkpoint);
            try (Statement st = conn.createStatement()) {
                // published, as the relay records it: the checkpoint at the last event written, an anchor every 100
                st.executeUpdate("update command.relay_checkpoint c set last_position = " + last + ", updated_at = now(),"
                        + " last_tx = w.tx, last_id = w.id from " + writtenHere + " w where c.id = 1 and w.position = "
                        + last);
                st.executeUpdate("insert into command.relay_anchors (position, tx, id) select position, tx, id from "
                        + writtenHere + " w where w.position % 100 = 0");
                // what the live projector would hold, had it seen these events when they were published
                st.executeUpdate("insert into query.event_log (global_position, event_id, stream_type, stream_id,"
                        + " version, type, schema_version, occurred_at, data, metadata)"
                        + " select position, event_id, stream_type, stream_id, version, event_type, schema_version,"
                        + " occurred_at, data, metadata from " + writtenHere + " w");
            }
            conn.commit();
            conn.setAutoCommit(true);
            try (Statement st = conn.createStatement()) {
                // the relay keeps its checkpoint in memory: end its lease session so that it reads it again
                st.execute("select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted"
                        + " and classid = " + (RELAY_LEASE_KEY >>> 32) + " and objid = " + (RELAY_LEASE_KEY & 0xffffffffL)
                        + " and objsubid = 1");
                st.execute("analyze command.events");
                st.execute("analyze query.event_log");
            }
        }
        // the relay takes its lease again within a second or two; nothing is unpublished meanwhile
        Thread.sleep(3_000);
    }

    /** {@value #INTERLEAVED} customers' histories, merged round-robin: each stream stays in order. */
    private static List<Stored> interleavedGroup() {
        List<List<Stored>> histories = new ArrayList<>();
        int longest = 0;
        for (int i = 0; i < INTERLEAVED; i++) {
            List<Stored> history = customerHistory();
            histories.add(history);
            longest = Math.max(longest, history.size());
        }
        List<Stored> merged = new ArrayList<>(INTERLEAVED * longest);
        for (int i = 0; i < longest; i++) {
            for (List<Stored> history : histories) {
                if (i < history.size()) {
                    merged.add(history.get(i));
                }
            }
        }
        return merged;
    }

    /**
     * A customer and {@value #ORDERS_PER_CUSTOMER} orders, as the saga would have settled them: most
     * approved (credit reserved), every tenth later cancelled (credit released), every twentieth rejected.
     */
    private static List<Stored> customerHistory() {
        UUID customer = UUID.randomUUID();
        Money limit = new Money(new BigDecimal("1000000.00"), "EUR");
        Money total = new Money(new BigDecimal("10.00"), "EUR");
        List<Stored> events = new ArrayList<>();
        int customerVersion = 0;
        String meta = metadata(UUID.randomUUID());
        events.add(stored(StreamType.CUSTOMER, customer, ++customerVersion,
                new CustomerCreated(customer, "rebuild-" + customer.toString().substring(0, 8), limit), meta));
        for (int j = 0; j < ORDERS_PER_CUSTOMER; j++) {
            UUID order = UUID.randomUUID();
            meta = metadata(UUID.randomUUID());
            events.add(stored(StreamType.ORDER, order, 1, new OrderCreated(order, customer, total), meta));
            if (j % 20 == 4) {
                events.add(stored(StreamType.CUSTOMER, customer, ++customerVersion,
                        new CreditLimitExceeded(customer, order, total), meta));
                events.add(stored(StreamType.ORDER, order, 2,
                        new OrderRejected(order, customer, RejectionReason.CREDIT_LIMIT_EXCEEDED), meta));
                continue;
            }
            events.add(stored(StreamType.CUSTOMER, customer, ++customerVersion, new CreditReserved(customer, order, total), meta));
            events.add(stored(StreamType.ORDER, order, 2, new OrderApproved(order, customer), meta));
            if (j % 10 == 9) {
                events.add(stored(StreamType.ORDER, order, 3, new OrderCancelled(order, customer), meta));
                events.add(stored(StreamType.CUSTOMER, customer, ++customerVersion,
                        new CreditReleased(customer, order, total), meta));
            }
        }
        return events;
    }

    private static Stored stored(StreamType type, UUID stream, int version, DomainEvent event, String metadata) {
        return new Stored(UUID.randomUUID(), type, stream, version, event, metadata);
    }

    private static String metadata(UUID correlation) {
        return "{\"correlationId\":\"" + correlation + "\",\"commandId\":\"" + UUID.randomUUID() + "\"}";
    }

    /** One row of COPY's text format: tab-separated, backslashes doubled (the JSON has no tabs or newlines). */
    private static void row(ByteArrayOutputStream out, Stored e, Instant occurred) {
        String line = e.eventId() + "\t" + e.streamType().wireName() + "\t" + e.streamId() + "\t" + e.version() + "\t"
                + EventTypes.typeOf(e.event()) + "\t" + EventTypes.currentSchemaVersion(e.event()) + "\t"
                + EventJson.dataText(e.event()).replace("\\", "\\\\") + "\t" + e.metadata() + "\t" + occurred + "\n";
        out.writeBytes(line.getBytes(StandardCharsets.UTF_8));
    }

    // ---- the baselines ----------------------------------------------------------------------------------

    /** A plain ordered scan of the events table through a JDBC cursor, every column read: events per second. */
    private double scan() throws Exception {
        try (Connection conn = system.newAdminConnection()) {
            conn.setAutoCommit(false);
            long start = System.nanoTime();
            long rows = 0;
            long chars = 0;
            try (Statement st = conn.createStatement()) {
                st.setFetchSize(10_000);
                try (ResultSet rs = st.executeQuery(SCAN)) {
                    while (rs.next()) {
                        rows++;
                        for (int column = 1; column <= 10; column++) {
                            String value = rs.getString(column);
                            chars += value == null ? 0 : value.length();
                        }
                    }
                }
            }
            conn.commit();
            double seconds = (System.nanoTime() - start) / 1e9;
            if (chars == 0) {
                throw new IllegalStateException("the scan read nothing");
            }
            return rows / seconds;
        }
    }

    /**
     * Where the rebuild's time goes, part one: the event feed alone, paged as the rebuild pages it
     * ({@value #FEED_PAGE} events a request, one request at a time), bodies read but not decoded.
     */
    private double feedAlone() throws Exception {
        long start = System.nanoTime();
        long after = 0;
        long events = 0;
        while (true) {
            Http.Answer page = Http.await(http.send(HttpMethod.GET, "/api/admin/events?after=" + after + "&limit="
                    + FEED_PAGE, null), Duration.ofSeconds(60));
            if (page.status() != 200) {
                throw new IllegalStateException("GET /api/admin/events answered " + page.status() + ": " + page.body());
            }
            String body = page.body().toString();
            int at = body.lastIndexOf("\"lastPosition\":");
            long last = Long.parseLong(body.substring(at + 15, body.lastIndexOf('}')).strip());
            long count = last - after; // positions are gap-free
            events += count;
            after = last;
            if (count < FEED_PAGE) {
                break;
            }
        }
        return events / ((System.nanoTime() - start) / 1e9);
    }

    // ---- the rebuild --------------------------------------------------------------------------------------

    /**
     * The rebuild's status, through the JDK's HTTP client. Not the load generator's Vert.x client: that one,
     * now and then, never completed the answer to a poll sent near the end of a rebuild although the
     * service had answered it (seen in the sockets' counters); polled this way, that never happened.
     */
    private JsonObject status(HttpClient client, String token) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create("http://" + system.host() + ":" + system.port() + "/api/admin/rebuild"))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).GET().build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("GET /api/admin/rebuild answered " + response.statusCode() + ": " + response.body());
        }
        return new JsonObject(response.body());
    }

    private Run rebuild() throws Exception {
        long start = System.nanoTime();
        Http.Answer started = Http.await(http.send(HttpMethod.POST, "/api/admin/rebuild", null), Duration.ofSeconds(30));
        if (started.status() != 202) {
            throw new IllegalStateException("POST /api/admin/rebuild answered " + started.status() + ": " + started.body());
        }
        long deadline = start + TimeUnit.MINUTES.toNanos(60);
        String state = "BUILDING";
        long[] leftAt = new long[4]; // BUILDING, CATCHING_UP, SWITCHING ended; finished
        JsonObject status = started.json();
        long slowestPoll = 0;
        int unanswered = 0;
        String token = system.operatorToken();
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        while (System.nanoTime() < deadline) {
            Thread.sleep(POLL_MS);
            long asked = System.nanoTime();
            try {
                status = status(client, token);
            } catch (IOException e) {
                unanswered++;
                System.out.printf("    GET /api/admin/rebuild not answered within 10 s (%s); asking again%n", e);
                continue;
            } finally {
                slowestPoll = Math.max(slowestPoll, System.nanoTime() - asked);
            }
            String now = status.getString("state");
            long at = System.nanoTime();
            if (!now.equals(state)) {
                switch (state) {
                    case "BUILDING" -> leftAt[0] = at;
                    case "CATCHING_UP" -> leftAt[1] = at;
                    case "SWITCHING" -> leftAt[2] = at;
                    default -> { }
                }
                state = now;
            }
            if (state.equals("DONE") || state.equals("FAILED")) {
                leftAt[3] = at;
                break;
            }
        }
        client.close();
        long end = leftAt[3] == 0 ? System.nanoTime() : leftAt[3];
        // a state shorter than a poll may be skipped: it then counts in the next one
        long building = leftAt[0] == 0 ? end : leftAt[0];
        long catching = leftAt[1] == 0 ? building : Math.max(leftAt[1], building);
        long switching = leftAt[2] == 0 ? catching : Math.max(leftAt[2], catching);
        return new Run((end - start) / 1e9, status.getLong("eventsRead", 0L), (building - start) / 1e9,
                (catching - building) / 1e9, (switching - catching) / 1e9, status.getLong("eventsPerSecond", 0L),
                slowestPoll / 1e6, unanswered, state, status);
    }
}
