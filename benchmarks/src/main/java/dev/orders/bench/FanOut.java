package dev.orders.bench;

import dev.orders.query.push.PushMetrics;
import dev.orders.query.push.PushSettings;
import org.HdrHistogram.Histogram;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fan-out: one query node (the service in this JVM) holding many SSE connections while orders flow.
 *
 * <p>The client ends of the connections live in a child JVM ({@link FanOutClient}): a process may hold
 * about 20,000 open files here, and the service's ends take one each. Each connection watches a
 * customer's orders ({@code GET /api/customers/{id}/orders/stream}, operator token), at most
 * {@link PushSettings#maxConnectionsPerCustomer()} per customer (the push hub's limit), so N connections
 * watch N / 20 customers. Orders are placed open loop at a fixed rate, round-robin over those customers,
 * through the real pipeline (command, relay, Kafka, saga, projector); each order changes twice (PENDING,
 * then APPROVED), and each change goes to every connection of its customer.
 *
 * <p>Delivery latency, per change and connection: from the change's {@code changed_at} in the change
 * log (the projector's transaction, where the push hub takes over; the hub's own push-latency meter
 * starts there too) to its arrival at the client, both on this machine's wall clock. Baseline, same run:
 * the same change flow with ONE connection open. Also recorded: connections held, clients dropped by the
 * service (the client sees its stream end; the hub counts it), deliveries missing, and the heap of this
 * JVM (service and load generator) after a full GC with no connection, with all of them held, and at the
 * end, plus the highest heap use sampled while changes flowed.
 */
final class FanOut {

    /** What one phase (1 connection, or all of them) measured. */
    record Phase(String label, int requested, int held, int openFailed, String openFailures, double openSeconds,
                 int rate, int seconds, long ordersPlaced, long ordersFailed, long changes, long expected,
                 long delivered, long duplicates, long closedByService, long droppedByHub, long coalesced,
                 long heldAtEnd, Histogram delivery, Histogram fromCommand) {
        long missing() {
            return expected - delivered;
        }
    }

    /** The whole fan-out measurement. */
    record Result(int requested, int connections, String capped, long openFileLimit, Phase baseline, Phase fanOut,
                  long heapNoConnections, long heapHeld, long heapEnd, long heapPeak, long heapMax) {
    }

    static final int BASELINE_CUSTOMERS = 5;
    private static final long HIGHEST = TimeUnit.SECONDS.toNanos(120);
    /** Files this JVM keeps besides the streams' sockets: jars, PostgreSQL and Kafka clients, logs. */
    private static final int FILE_MARGIN = 512;

    private final SystemUnderTest system;
    private final Http http;

    FanOut(SystemUnderTest system, Http http) {
        this.system = system;
        this.http = http;
    }

    Result run(int requested, int rate, int seconds) throws Exception {
        PushSettings push = PushSettings.defaults();
        long fileLimit = openFileLimit();
        long filesNow = openFiles();
        int connections = requested;
        List<String> caps = new ArrayList<>();
        if (fileLimit > 0 && requested + filesNow + FILE_MARGIN > fileLimit) {
            connections = (int) Math.max(1, fileLimit - filesNow - FILE_MARGIN);
            caps.add("ulimit -n is " + fileLimit + " (a hard limit here, not raisable from inside the process) and this"
                    + " process already holds " + filesNow + " files");
        }
        if (connections > push.maxConnections()) {
            connections = push.maxConnections();
            caps.add("the push hub serves at most " + push.maxConnections() + " connections per node"
                    + " (PushSettings.maxConnections, not configurable through OrdersConfig)");
        }
        String capped = caps.isEmpty() ? null : String.join("; ", caps);
        if (capped != null) {
            System.out.printf("    capped at %,d connections: %s%n", connections, capped);
        }
        int perCustomer = push.maxConnectionsPerCustomer();
        int customerCount = (connections + perCustomer - 1) / perCustomer;
        System.out.printf("    creating %d + %d customers%n", BASELINE_CUSTOMERS, customerCount);
        List<UUID> baseCustomers = http.createCustomers(BASELINE_CUSTOMERS, "fan-base");
        List<UUID> customers = http.createCustomers(customerCount, "fan");

        try (Client client = Client.start(system, connections + 1)) {
            // 1. baseline: one connection, on the first baseline customer
            Map<Integer, UUID> baseWatch = Map.of(0, baseCustomers.get(0));
            String[] opened = client.open(List.of(baseCustomers.get(0)));
            Phase baseline = measure("1 connection", client, opened, 1, baseWatch, baseCustomers, rate, seconds, null);
            client.command("close");

            // 2. all connections: indexes 1..N, perCustomer on each customer
            long heapNone = heapAfterGc();
            Map<Integer, UUID> watch = new HashMap<>();
            List<UUID> plan = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                UUID customer = customers.get(i / perCustomer);
                plan.add(customer);
                watch.put(1 + i, customer);
            }
            System.out.printf("    opening %,d SSE connections%n", connections);
            opened = client.open(plan);
            System.out.printf("    opened %s in %.1f s (failed: %s, %s); the hub holds %,d%n", opened[1],
                    Long.parseLong(opened[3]) / 1000.0, opened[2], opened[4], hub().openConnections());
            Thread.sleep(1_000);
            long heapHeld = heapAfterGc();
            HeapSampler sampler = new HeapSampler();
            Phase fanOut;
            try {
                fanOut = measure(String.format("%,d connections", connections), client, opened, connections, watch,
                        customers, rate, seconds, sampler);
            } finally {
                sampler.stop();
            }
            long heapEnd = heapAfterGc();
            client.command("close");
            return new Result(requested, connections, capped, fileLimit, baseline, fanOut, heapNone, heapHeld, heapEnd,
                    sampler.peak(), Runtime.getRuntime().maxMemory());
        }
    }

    private PushMetrics hub() {
        return system.app().querySide().push().metrics();
    }

    private Phase measure(String label, Client client, String[] opened, int requested, Map<Integer, UUID> watch,
                          List<UUID> targets, int rate, int seconds, HeapSampler sampler) throws Exception {
        long droppedBefore = hub().droppedCount();
        long coalescedBefore = hub().coalescedCount();
        client.command("record");
        if (sampler != null) {
            sampler.start();
        }
        Map<UUID, Long> dueMicros = new ConcurrentHashMap<>();
        AtomicLong answered = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long total = (long) rate * seconds;
        long startNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        long startMicros = nowMicros() + 50_000;
        for (long i = 0; i < total; i++) {
            long due = startNanos + i * 1_000_000_000L / rate;
            long dueWall = startMicros + (due - startNanos) / 1_000;
            UUID customer = targets.get((int) (i % targets.size()));
            EndToEnd.parkUntil(due);
            http.context().runOnContext(v -> http.placeOrder(customer, "1.00").onComplete(answer -> {
                if (answer.succeeded() && answer.result().status() == 202) {
                    dueMicros.put(UUID.fromString(answer.result().json().getString("orderId")), dueWall);
                } else {
                    failed.incrementAndGet();
                }
                answered.incrementAndGet();
            }));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (answered.get() < total && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        system.awaitQuiet(180_000);
        Thread.sleep(2_000); // the last changes' way from the log to the clients
        Path file = Files.createTempFile("fanout-", ".bin");
        String[] dumped = client.command("dump " + file);
        long[][] records = FanOutClient.Records.read(file);
        Files.deleteIfExists(file);
        long droppedByHub = hub().droppedCount() - droppedBefore;
        long coalesced = hub().coalescedCount() - coalescedBefore;

        // the changes of this phase's orders: position -> customer, status, changed_at
        record Change(UUID customer, UUID order, String status, long changedMicros) {
        }
        Map<Long, Change> changes = new HashMap<>();
        UUID[] orders = dueMicros.keySet().toArray(UUID[]::new);
        for (Object[] row : system.rows("select position, customer_id, order_id, view->>'status',"
                        + " (extract(epoch from changed_at) * 1000000)::bigint from query.order_changes"
                        + " where order_id = any(?)",
                r -> new Object[]{r.getLong(1), r.getObject(2), r.getObject(3), r.getString(4), r.getLong(5)},
                (Object) orders)) {
            changes.put((Long) row[0], new Change((UUID) row[1], (UUID) row[2], (String) row[3], (Long) row[4]));
        }
        Map<UUID, Integer> watchers = new HashMap<>();
        watch.values().forEach(customer -> watchers.merge(customer, 1, Integer::sum));
        long expected = 0;
        for (Change change : changes.values()) {
            expected += watchers.getOrDefault(change.customer(), 0);
        }
        Histogram delivery = new Histogram(HIGHEST, 3);
        Histogram fromCommand = new Histogram(HIGHEST, 3);
        Set<Long> seen = new HashSet<>();
        long duplicates = 0;
        for (long[] record : records) {
            Change change = changes.get(record[1]);
            if (change == null || !change.customer().equals(watch.get((int) record[0]))) {
                continue; // the state sent at connect, or a change of an earlier phase
            }
            if (!seen.add(record[1] * 1_000_000L + record[0])) {
                duplicates++;
                continue;
            }
            delivery.recordValue(Math.min(HIGHEST, Math.max(0, record[2] - change.changedMicros()) * 1_000));
            Long due = dueMicros.get(change.order());
            if (due != null && ("APPROVED".equals(change.status()) || "REJECTED".equals(change.status()))) {
                fromCommand.recordValue(Math.min(HIGHEST, Math.max(0, record[2] - due) * 1_000));
            }
        }
        Phase phase = new Phase(label, requested, Integer.parseInt(opened[1]), Integer.parseInt(opened[2]), opened[4],
                Long.parseLong(opened[3]) / 1000.0, rate, seconds, dueMicros.size(), failed.get(), changes.size(),
                expected, seen.size(), duplicates, Long.parseLong(dumped[2]), droppedByHub, coalesced,
                Long.parseLong(dumped[3]), delivery, fromCommand);
        System.out.printf(Locale.ROOT, "    %s: %d orders (%d failed), %d changes; delivered %d of %d (%d duplicates);"
                        + " delivery p50 %.1f ms p99 %.1f ms max %.1f ms; dropped by the hub %d, streams ended by the"
                        + " service %d, coalesced %d%n", label, phase.ordersPlaced(), phase.ordersFailed(), phase.changes(),
                phase.delivered(), phase.expected(), duplicates, Benchmarks.ms(delivery, 50), Benchmarks.ms(delivery, 99),
                delivery.getMaxValue() / 1e6, droppedByHub, phase.closedByService(), coalesced);
        return phase;
    }

    static long nowMicros() {
        Instant now = Instant.now();
        return TimeUnit.SECONDS.toMicros(now.getEpochSecond()) + now.getNano() / 1_000;
    }

    /** Heap used after a full collection: what is live. */
    static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 2; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** The soft limit on open files of this process ({@code ulimit -n}), or -1 when unknown. */
    static long openFileLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] parts = line.substring("Max open files".length()).trim().split("\\s+");
                    return parts[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(parts[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }

    static long openFiles() {
        try (var files = Files.list(Path.of("/proc/self/fd"))) {
            return files.count();
        } catch (IOException e) {
            return 0;
        }
    }

    /** The highest heap use seen, sampled every 100 ms. */
    private static final class HeapSampler {
        private final AtomicLong peak = new AtomicLong();
        private volatile boolean running;
        private Thread thread;

        void start() {
            running = true;
            thread = Thread.ofPlatform().daemon().name("heap-sampler").start(() -> {
                while (running) {
                    peak.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        void stop() throws InterruptedException {
            running = false;
            if (thread != null) {
                thread.join();
            }
        }

        long peak() {
            return peak.get();
        }
    }

    /** The child JVM of {@link FanOutClient}, driven line by line. */
    private static final class Client implements AutoCloseable {
        private final Process process;
        private final PrintStream in;
        private final BufferedReader out;

        private Client(Process process) {
            this.process = process;
            this.in = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        static Client start(SystemUnderTest system, int maxConnections) throws IOException {
            String log = System.getProperty("bench.log", "target/benchmarks.log").replaceAll("\\.log$", "") + "-fanout-client.log";
            List<String> command = List.of(ProcessHandle.current().info().command().orElse("java"),
                    "-Xmx1g", "-Dbench.log=" + log, "-Dlogback.configurationFile=bench-logback.xml",
                    "-cp", System.getProperty("java.class.path"), FanOutClient.class.getName(),
                    system.host(), Integer.toString(system.port()), Integer.toString(maxConnections));
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.appendTo(Path.of(log + ".stderr").toFile()));
            builder.environment().put(FanOutClient.TOKEN_ENV, system.operatorToken());
            Client client = new Client(builder.start());
            String ready = client.out.readLine();
            if (!"ready".equals(ready)) {
                client.close();
                throw new IllegalStateException("the fan-out client did not start (see " + log + ".stderr): " + ready);
            }
            return client;
        }

        /** Opens streams on these customers; answers {@code opened OK FAILED MILLIS REASONS} split on spaces. */
        String[] open(List<UUID> customers) throws IOException {
            Path plan = Files.createTempFile("fanout-plan-", ".txt");
            Files.write(plan, customers.stream().map(UUID::toString).toList());
            try {
                return command("open " + plan);
            } finally {
                Files.deleteIfExists(plan);
            }
        }

        String[] command(String line) throws IOException {
            in.println(line);
            String answer = out.readLine();
            if (answer == null) {
                throw new IllegalStateException("the fan-out client ended while answering '" + line + "'");
            }
            return answer.split(" ");
        }

        @Override
        public void close() {
            try {
                in.println("quit");
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
