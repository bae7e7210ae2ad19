package dev.orders.app.faults;

import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A browser's EventSource, as a test sees it: watches one customer's orders over SSE and, whenever the
 * stream ends or breaks, connects again with {@code Last-Event-ID}, as EventSource does. It writes down
 * every order version it was sent, in arrival order, for the audit. Given several query nodes, it starts on
 * one and, when a connection to it fails, connects to the next, as a browser behind a balancer would.
 */
final class SseWatcher {

    private final List<String> nodes;
    private final SteadyLoad.Customer customer;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    /** Per order, every version this client was sent, in the order it arrived. */
    final Map<UUID, List<Integer>> versions = new ConcurrentHashMap<>();
    final Queue<String> problems = new ConcurrentLinkedQueue<>();
    final AtomicInteger connects = new AtomicInteger();
    /** How many {@code event: reset} this client was sent. */
    final AtomicInteger resets = new AtomicInteger();
    /**
     * Per order, how many of its versions had arrived when the stream last started afresh: a reset, or a
     * connection without {@code Last-Event-ID} (after a reset cleared it), whose state may repeat versions.
     */
    final Map<UUID, Integer> seenBeforeRestart = new ConcurrentHashMap<>();
    private volatile boolean resetsExpected;
    /**
     * Each connection attempt, in order (the newest {@value #JOURNAL_SIZE}): when, to which node, the id it resumed
     * with, the answer, and for an answered one how many orders it brought, their first and last ids and how it
     * ended; the audit names it for a client whose orders it finds wanting.
     */
    private final Queue<String> journal = new ConcurrentLinkedQueue<>();
    private static final int JOURNAL_SIZE = 40;
    /** The node of each connection that was answered 200, in order. */
    final Queue<String> connectedTo = new ConcurrentLinkedQueue<>();
    private volatile int node;
    private volatile long lastEventId = -1;
    /** The highest id sent on any connection: ids never go back, not even across a reset. */
    private volatile long highestEventId = -1;
    private volatile boolean running;
    private volatile InputStream open;
    private Thread thread;

    SseWatcher(String url, SteadyLoad.Customer customer) {
        this(List.of(url), 0, customer);
    }

    /**
     * @param nodes the query nodes' base URLs
     * @param first the index of the node it connects to first
     */
    SseWatcher(List<String> nodes, int first, SteadyLoad.Customer customer) {
        this.nodes = List.copyOf(nodes);
        this.node = first;
        this.customer = customer;
    }

    UUID customerId() {
        return customer.id();
    }

    /**
     * A reset is what this client should get (its ids were lost with the change log): the audit then
     * expects each order's versions exactly once in order up to the stream's last fresh start (see
     * {@link #seenBeforeRestart}), and from the state it sent on, exactly once in order again; otherwise a
     * reset is a problem.
     */
    void expectResets() {
        resetsExpected = true;
    }

    boolean resetsExpected() {
        return resetsExpected;
    }

    void start() {
        running = true;
        thread = Thread.ofVirtual().name("sse-" + customer.id()).start(this::run);
    }

    void stop() throws Exception {
        running = false;
        InputStream stream = open;
        if (stream != null) {
            stream.close();
        }
        thread.interrupt();
        thread.join(10_000);
    }

    /** Whether this client holds an id to resume with (it was sent one since its last reset: its stream's start gives one). */
    boolean holdsEventId() {
        return lastEventId >= 0;
    }

    private void markRestart() {
        versions.forEach((order, seen) -> seenBeforeRestart.put(order, seen.size()));
    }

    /** The last version seen of an order, 0 if none. */
    int lastVersion(UUID order) {
        List<Integer> seen = versions.get(order);
        return seen == null || seen.isEmpty() ? 0 : seen.get(seen.size() - 1);
    }

    private void run() {
        while (running) {
            String url = nodes.get(node);
            try {
                HttpRequest.Builder request = HttpRequest.newBuilder(
                                URI.create(url + "api/customers/" + customer.id() + "/orders/stream"))
                        .header("Authorization", "Bearer " + customer.token()).header("Accept", "text/event-stream");
                if (lastEventId >= 0) {
                    request.header("Last-Event-ID", Long.toString(lastEventId));
                }
                Connection connection = new Connection(url, lastEventId);
                HttpResponse<InputStream> response;
                try {
                    response = http.send(request.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
                } catch (Exception refused) {
                    noteRefused(refused);
                    throw refused;
                }
                open = response.body();
                if (response.statusCode() == 200) {
                    connects.incrementAndGet();
                    if (lastEventId < 0) {
                        markRestart();
                    }
                    connectedTo.add(url);
                    current = connection;
                    try {
                        read(response.body(), connection);
                        note(connection.ended("200, the stream ended"));
                    } catch (Exception broken) {
                        note(connection.ended("200, the stream broke: " + broken));
                        throw broken;
                    } finally {
                        current = null;
                    }
                } else {
                    note(connection.ended("answered " + response.statusCode()));
                    response.body().close();
                    node = (node + 1) % nodes.size();
                }
            } catch (Exception broken) {
                // the service is away or the connection broke: connect again, as EventSource does, to the
                // next node if there are several (a balancer sends a new connection to one that is up)
                node = (node + 1) % nodes.size();
            }
            pause();
        }
    }

    /** This client's connections, oldest first (see {@link #journal}). */
    List<String> journal() {
        List<String> entries = new ArrayList<>(journal);
        if (refusedInARow > 0) {
            entries.add(refusedInARow + " connects not answered, the first at " + firstRefused);
        }
        Connection open = current;
        if (open != null) {
            entries.add(open.ended("200, still open"));
        }
        return entries;
    }

    /** Connects refused in a row (the service is down), told as one entry once the next connect is answered. */
    private volatile Connection current;
    private volatile int refusedInARow;
    private volatile String firstRefused;

    private void noteRefused(Exception refused) {
        if (refusedInARow++ == 0) {
            firstRefused = Instant.now() + " " + refused;
        }
    }

    private void note(String entry) {
        if (refusedInARow > 0) {
            journal.add(refusedInARow + " connects not answered, the first at " + firstRefused);
            refusedInARow = 0;
        }
        journal.add(entry);
        while (journal.size() > JOURNAL_SIZE) {
            journal.poll();
        }
    }

    /** One connection attempt as the journal tells it. */
    private static final class Connection {

        private final long started = System.currentTimeMillis();
        private final String url;
        private final long resumedFrom;
        private volatile int orders;
        private volatile long firstId = -1;
        private volatile long lastId = -1;

        Connection(String url, long resumedFrom) {
            this.url = url;
            this.resumedFrom = resumedFrom;
        }

        void sent(String id, boolean order) {
            if (order) {
                orders++;
            }
            if (id != null && !id.isEmpty()) {
                long at = Long.parseLong(id);
                firstId = firstId < 0 ? at : firstId;
                lastId = at;
            }
        }

        String ended(String how) {
            return "%s %s Last-Event-ID %s: %s; %d orders, ids %d..%d, %d ms".formatted(
                    Instant.ofEpochMilli(started), url, resumedFrom < 0 ? "none" : resumedFrom, how, orders,
                    firstId, lastId, System.currentTimeMillis() - started);
        }
    }

    private void read(InputStream body, Connection connection) throws Exception {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String id = null;
            String event = null;
            StringBuilder data = new StringBuilder();
            for (String line; (line = lines.readLine()) != null; ) {
                if (line.isEmpty()) {
                    connection.sent(id, "order".equals(event));
                    dispatch(id, event, data.toString());
                    id = null;
                    event = null;
                    data.setLength(0);
                } else if (line.startsWith("id:")) {
                    id = line.substring(3).strip();
                } else if (line.startsWith("event:")) {
                    event = line.substring(6).strip();
                } else if (line.startsWith("data:")) {
                    data.append(line.substring(5).strip());
                }
            }
        }
    }

    private void dispatch(String id, String event, String data) {
        if (event == null && data.isEmpty()) {
            takeId(id); // a heartbeat, or an id alone: EventSource takes the id as its last and dispatches nothing
            return;
        }
        if ("reset".equals(event)) {
            markRestart();
            resets.incrementAndGet();
            if (!resetsExpected) {
                problems.add("event: reset (id " + id + ") " + data);
            }
            if ("".equals(id)) {
                lastEventId = -1; // the empty id clears the last id, as EventSource does
            }
            return;
        }
        if ("order".equals(event)) {
            JsonObject order = new JsonObject(data);
            versions.computeIfAbsent(UUID.fromString(order.getString("orderId")), k -> new java.util.concurrent.CopyOnWriteArrayList<>())
                    .add(order.getInteger("version"));
        } else {
            problems.add("event: " + event + " (id " + id + ") " + data);
        }
        takeId(id);
    }

    private void takeId(String id) {
        if (id != null && !id.isEmpty()) {
            long next = Long.parseLong(id);
            if (next <= highestEventId) {
                problems.add("id " + next + " after " + highestEventId);
            }
            lastEventId = next;
            highestEventId = next;
        }
    }

    private void pause() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }
}
