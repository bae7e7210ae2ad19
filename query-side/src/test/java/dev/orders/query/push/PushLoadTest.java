package dev.orders.query.push;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Isolated;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Randomized and load tests; {@code -Dorders.test.scale=N} (the {@code long} profile sets 10) makes them
 * N times larger: 300 race trials by default, 1,000 per unit of scale above 1 (10,000 in the long profile).
 * The steady-flow slow-client test runs the full size (1,000 connections, 100 never reading,
 * 100 changes a second for a minute) from scale 10 on, and a small version otherwise; the burst test
 * has one size.
 * <p>
 * The tests that grow with the scale have a generous timeout of their own: the class's two minutes hold
 * the default size only.
 */
@Isolated("measures the JVM's heap under a steady flow with time bounds: another class beside it would add its own heap and take half the cores")
class PushLoadTest extends PushTestBase {

    static final int SCALE = Integer.getInteger("orders.test.scale", 1);
    private static final long MIB = 1024 * 1024;
    /** How much more heap (used after GC) the steady-flow test allows than with its clients just connected. */
    private static final long HEAP_GROWTH_BOUND = 256 * MIB;

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void a_client_connecting_while_its_order_changes_ends_at_the_final_version_and_never_goes_back() throws Exception {
        PushNode node = node(SETTINGS);
        int trials = SCALE == 1 ? 300 : 1_000 * SCALE;
        long seed = Long.getLong("orders.test.seed", System.nanoTime());
        Random seeds = new Random(seed);
        ExecutorService pool = Executors.newFixedThreadPool(24);
        AtomicInteger sse = new AtomicInteger();
        List<java.util.concurrent.Future<?>> done = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < trials; i++) {
            long trialSeed = seeds.nextLong();
            boolean overWebSocket = i % 3 == 2;
            done.add(pool.submit(() -> {
                trial(node, new Random(trialSeed), overWebSocket, trialSeed);
                if (!overWebSocket) {
                    sse.incrementAndGet();
                }
                return null;
            }));
        }
        try {
            for (java.util.concurrent.Future<?> trial : done) {
                trial.get();
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.printf("race: %d trials (%d over SSE) in %d ms, seed %d%n", trials, sse.get(),
                (System.nanoTime() - start) / 1_000_000, seed);
    }

    private void trial(PushNode node, Random random, boolean overWebSocket, long seed) throws Exception {
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        int finalVersion = 2 + random.nextInt(6);
        await(log.append(order, customer, 1));
        Future<Void> writer = Future.succeededFuture();
        for (int v = 2; v <= finalVersion; v++) {
            int version = v;
            int pause = random.nextInt(4);
            writer = writer.compose(ignored -> delay(pause)).compose(ignored -> log.append(order, customer, version)).mapEmpty();
        }
        Thread.sleep(random.nextInt(4));
        Supplier<List<Integer>> versions;
        Supplier<List<Long>> ids;
        Runnable close;
        if (overWebSocket) {
            WsClient client = wsClient(node, null);
            client.send(new JsonObject().put("type", "subscribe").put("orderId", order.toString()));
            versions = () -> client.orders().stream().map(m -> m.getJsonObject("order").getInteger("version")).toList();
            ids = () -> client.orders().stream().map(m -> Long.parseLong(m.getString("id"))).toList();
            close = () -> client.socket.close();
        } else {
            SseClient client = sse(node, "/api/orders/" + order + "/stream");
            versions = () -> client.orders().stream().map(SseClient.Event::version).toList();
            ids = () -> ids(client.orders());
            close = client::cut;
        }
        await(writer);
        try {
            eventually("version " + finalVersion + " (seed " + seed + ")", () -> {
                List<Integer> seen = versions.get();
                return !seen.isEmpty() && seen.get(seen.size() - 1) == finalVersion;
            });
            assertThat(versions.get()).as("versions seen, seed %d", seed).isSorted().doesNotHaveDuplicates();
            assertThat(ids.get()).as("ids seen, seed %d", seed).isSorted().doesNotHaveDuplicates();
        } finally {
            close.run();
        }
    }

    private Future<Void> delay(int millis) {
        if (millis == 0) {
            return Future.succeededFuture();
        }
        Promise<Void> promise = Promise.promise();
        vertx.setTimer(millis, id -> promise.complete());
        return promise.future();
    }

    @Test
    void stalled_clients_are_coalesced_then_dropped_while_healthy_ones_get_every_change() throws Exception {
        PushSettings settings = SETTINGS.withStallTimeout(Duration.ofMillis(500)).withMaxPendingOrders(100);
        // Small socket buffers, so that a client that does not read fills its write queue quickly.
        PushNode node = node(settings, new HttpServerOptions().setSendBufferSize(16 * 1024));
        UUID customer = UUID.randomUUID();
        int orders = 20;
        // A burst as fast as the log takes it, at one size: the full-size test is the steady flow below.
        int healthyCount = 20;
        int stalledCount = 5;
        int changes = 1_000;
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < orders; i++) {
            ids.add(UUID.randomUUID());
            await(log.append(ids.get(i), customer, 1));
        }
        String path = "/api/customers/" + customer + "/orders/stream";
        PushSettings unlimited = settings.withConnectionLimits(100_000, 100_000);
        assertThat(unlimited.maxConnectionsPerCustomer()).isGreaterThan(healthyCount + stalledCount);
        nodes.remove(node);
        await(node.close());
        node = node(unlimited, new HttpServerOptions().setSendBufferSize(16 * 1024));
        final PushNode server = node;

        List<SseClient> healthy = new ArrayList<>();
        for (int i = 0; i < healthyCount; i++) {
            healthy.add(sse(server, path));
        }
        HttpClient slowHttp = vertx.createHttpClient(new HttpClientOptions().setReceiveBufferSize(4 * 1024),
                new io.vertx.core.http.PoolOptions().setHttp1MaxSize(1000));
        List<SseClient> stalled = new ArrayList<>();
        for (int i = 0; i < stalledCount; i++) {
            SseClient client = await(SseClient.open(slowHttp, server.port(), path, operatorHeaders()));
            client.response().pause();
            stalled.add(client);
        }
        eventually("every healthy client has the state", () -> healthy.stream().allMatch(c -> c.orders().size() == orders));
        System.gc();
        long heapBefore = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();

        long start = System.nanoTime();
        List<Future<Long>> appended = new ArrayList<>();
        for (int i = 0; i < changes; i++) {
            appended.add(log.append(ids.get(i % orders), customer, 2 + i / orders));
        }
        List<Long> positions = new ArrayList<>();
        for (Future<Long> position : appended) {
            positions.add(await(position));
        }
        long writeMs = (System.nanoTime() - start) / 1_000_000;
        eventually("every healthy client has every change",
                () -> healthy.stream().allMatch(c -> c.orders().size() == orders + changes));
        eventually("the stalled clients are dropped", () -> server.hub.metrics().droppedCount() == stalledCount);
        System.gc();
        long heapAfter = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();

        for (SseClient client : healthy) {
            assertThat(ids(client.orders()).subList(orders, orders + changes)).containsExactlyElementsOf(positions);
        }
        PushMetrics metrics = server.hub.metrics();
        assertThat(metrics.openConnections()).isEqualTo(healthyCount);
        assertThat(metrics.droppedCount()).isEqualTo(stalledCount);
        assertThat(metrics.pushed()).isGreaterThanOrEqualTo((long) healthyCount * (orders + changes));
        System.out.printf("slow clients: %d changes in %d ms to %d healthy + %d stalled; pushed %d, coalesced %d,"
                        + " dropped %d; heap used %d KiB before, %d KiB after%n", changes, writeMs, healthyCount,
                stalledCount, metrics.pushed(), metrics.coalescedCount(), metrics.droppedCount(),
                heapBefore / 1024, heapAfter / 1024);        // closed at the end, so held to it: a client nobody refers to is closed by Vert.x's cleaner when the
        // collector finds it, with its connections, and this test collects on purpose
        await(slowHttp.close());
    }

    /**
     * The slow-client test: SSE connections watching their customer's orders, a tenth of which
     * never read, while changes flow at a steady 100 a second. At scale 10 and more: 1,000 connections for
     * a minute, 100 on each of 10 customers (each change goes to 100 connections, each connection gets 10
     * changes a second); otherwise 50 connections on one customer for 8 seconds (each gets all 100 a second). The clients that never read must be dropped, every
     * other one must get every change in order (not one coalesced away), and the heap used after GC must
     * not grow by more than {@link #HEAP_GROWTH_BOUND} over its figure with the clients just connected,
     * neither during the flow nor after it. Clients check their stream as it arrives, in constant memory,
     * so that the heap measured is the server's (and the connections').
     */
    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void under_a_steady_flow_the_stalled_clients_are_dropped_the_healthy_ones_get_every_change_and_heap_stays_bounded()
            throws Exception {
        boolean full = SCALE >= 10;
        int connections = full ? 1_000 : 50;
        int stalledCount = connections / 10;
        int healthyCount = connections - stalledCount;
        int perSecond = 100;
        int seconds = full ? 60 : 8;
        int changes = perSecond * seconds;
        int orders = 50;
        // Small server socket buffers (and small receive buffers on the clients that never read), so that a
        // stalled client fills its write queue within seconds; the healthy clients keep the kernel's default.
        PushSettings settings = SETTINGS.withStallTimeout(Duration.ofSeconds(2))
                .withConnectionLimits(100_000, 100_000);
        PushNode server = node(settings, new HttpServerOptions().setSendBufferSize(16 * 1024));
        // The writer (the projector's part) and the clients (the browsers) on Vert.x instances of their own,
        // so that neither waits in the server's event loops.
        Vertx writerVertx = Vertx.vertx();
        Vertx clientVertx = Vertx.vertx();
        try {
            steadyFlow(server, writerVertx, clientVertx, full, connections, stalledCount, healthyCount, perSecond,
                    seconds, changes);
        } finally {
            await(clientVertx.close());
            await(writerVertx.close());
        }
    }

    private void steadyFlow(PushNode server, Vertx writerVertx, Vertx clientVertx, boolean full, int connections,
                            int stalledCount, int healthyCount, int perSecond, int seconds, int changes) throws Exception {
        int orders = 50; // per customer
        int customers = (connections + 99) / 100;
        ChangeLog writer = new ChangeLog(PgBuilder.pool().connectingTo(db).using(writerVertx).build());
        List<UUID> customerIds = new ArrayList<>();
        List<List<UUID>> ids = new ArrayList<>();
        List<List<Long>> expected = new ArrayList<>();
        for (int c = 0; c < customers; c++) {
            UUID customer = UUID.randomUUID();
            customerIds.add(customer);
            List<UUID> orderIds = new ArrayList<>();
            List<ChangeLog.Change> states = new ArrayList<>();
            for (int i = 0; i < orders; i++) {
                orderIds.add(UUID.randomUUID());
                states.add(new ChangeLog.Change(orderIds.get(i), customer, 1));
            }
            ids.add(orderIds);
            expected.add(new ArrayList<>(await(writer.appendAll(states))));
        }
        long heapEmpty = usedHeapAfterGc();

        HttpClient healthyHttp = clientVertx.createHttpClient(new HttpClientOptions(),
                new io.vertx.core.http.PoolOptions().setHttp1MaxSize(connections));
        HttpClient stalledHttp = clientVertx.createHttpClient(new HttpClientOptions().setReceiveBufferSize(4 * 1024),
                new io.vertx.core.http.PoolOptions().setHttp1MaxSize(connections));
        List<Tally> healthy = new ArrayList<>();
        List<SseClient> stalled = new ArrayList<>();
        long connectStart = System.nanoTime();
        for (int batch = 0; batch < connections; batch += 100) {
            List<Future<SseClient>> opening = new ArrayList<>();
            List<Future<SseClient>> stalling = new ArrayList<>();
            for (int i = batch; i < Math.min(connections, batch + 100); i++) {
                int customer = i % customers;
                String path = "/api/customers/" + customerIds.get(customer) + "/orders/stream";
                if (i / customers % 10 == 9) {
                    // Never reads: paused as soon as the response head arrives.
                    stalling.add(SseClient.open(stalledHttp, server.port(), path, operatorHeaders(),
                            event -> { }).onSuccess(client -> client.response().pause()));
                } else {
                    Tally tally = new Tally(customer, customerIds.get(customer).toString());
                    healthy.add(tally);
                    opening.add(SseClient.open(healthyHttp, server.port(), path, operatorHeaders(), tally));
                }
            }
            for (Future<SseClient> client : opening) {
                assertThat(await(client).status()).isEqualTo(200);
            }
            for (Future<SseClient> client : stalling) {
                stalled.add(await(client));
                assertThat(stalled.getLast().status()).isEqualTo(200);
            }
        }
        eventually("every healthy client has the state", () -> healthy.stream().allMatch(t -> t.count() == orders));
        long connectMs = (System.nanoTime() - connectStart) / 1_000_000;
        assertThat(healthy).hasSize(healthyCount);
        assertThat(stalled).hasSize(stalledCount);
        assertThat(server.hub.metrics().openConnections()).isEqualTo(connections);
        long heapConnected = usedHeapAfterGc();

        // The changes at a steady rate: every 20 ms, the ones due by then, in one transaction (and one more
        // catches up if the last one took longer), so the rate does not hang on a round trip per change.
        List<Long> flowed = new ArrayList<>();
        Promise<Void> written = Promise.promise();
        AtomicInteger submitted = new AtomicInteger();
        AtomicBoolean inFlight = new AtomicBoolean();
        long start = System.nanoTime();
        writerVertx.setPeriodic(20, timer -> {
            int due = (int) Math.min(changes, (System.nanoTime() - start) * perSecond / 1_000_000_000L);
            if (submitted.get() >= due || !inFlight.compareAndSet(false, true)) {
                return;
            }
            List<ChangeLog.Change> batch = new ArrayList<>();
            for (int i = submitted.get(); i < due; i++) {
                // Change i: customer i % customers, its orders in turn, each a version further per round.
                int customer = i % customers;
                int round = i / customers;
                batch.add(new ChangeLog.Change(ids.get(customer).get(round % orders), customerIds.get(customer),
                        2 + round / orders));
            }
            submitted.set(due);
            writer.appendAll(batch).onComplete(done -> {
                if (done.failed()) {
                    writerVertx.cancelTimer(timer);
                    written.tryFail(done.cause());
                    return;
                }
                synchronized (flowed) {
                    flowed.addAll(done.result());
                }
                inFlight.set(false);
                if (due == changes) {
                    writerVertx.cancelTimer(timer);
                    written.tryComplete();
                }
            });
        });
        PushMetrics metrics = server.hub.metrics();
        AtomicLong droppedAt = new AtomicLong(-1);
        writerVertx.setPeriodic(20, timer -> {
            if (metrics.droppedCount() >= stalledCount) {
                droppedAt.compareAndSet(-1, (System.nanoTime() - start) / 1_000_000);
                writerVertx.cancelTimer(timer);
            }
        });
        long sampleEvery = TimeUnit.SECONDS.toNanos(full ? 10 : 2);
        long nextSample = System.nanoTime() + sampleEvery;
        long heapPeak = heapConnected;
        List<Long> samples = new ArrayList<>();
        while (!written.future().isComplete()) {
            Thread.sleep(50);
            if (System.nanoTime() >= nextSample) {
                long used = usedHeapAfterGc();
                samples.add(used / MIB);
                heapPeak = Math.max(heapPeak, used);
                nextSample = System.nanoTime() + sampleEvery;
            }
        }
        await(written.future());
        long writeMs = (System.nanoTime() - start) / 1_000_000;
        synchronized (flowed) {
            for (int i = 0; i < flowed.size(); i++) {
                expected.get(i % customers).add(flowed.get(i));
            }
        }
        int perClient = orders + changes / customers;
        try {
            eventually("every healthy client has every change",
                    () -> healthy.stream().allMatch(t -> t.count() >= perClient));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + ": events per healthy client " + healthy.stream()
                    .collect(java.util.stream.Collectors.groupingBy(Tally::count, java.util.TreeMap::new,
                            java.util.stream.Collectors.counting())) + " (" + perClient + " expected); dropped "
                    + metrics.droppedCount() + ", coalesced " + metrics.coalescedCount() + ", open "
                    + metrics.openConnections() + "; first problem: " + healthy.stream().map(Tally::problem)
                    .filter(java.util.Objects::nonNull).findFirst().orElse("none"), e);
        }
        eventually("the stalled clients are dropped", () -> droppedAt.get() >= 0);
        long droppedAfterMs = droppedAt.get();
        long deliveredMs = (System.nanoTime() - start) / 1_000_000;
        Thread.sleep(200); // nothing more may arrive
        long heapAfter = usedHeapAfterGc();
        heapPeak = Math.max(heapPeak, heapAfter);

        long pushed = metrics.pushed();
        System.out.printf("steady flow: %d connections (%d never read) on %d customers, connected with their state in %d ms;"
                        + " %d changes at %d/s written in %d ms, all delivered after %d ms; stalled clients all dropped"
                        + " after %d ms; pushed %d (mean latency %d ms), coalesced %d, dropped %d%n",
                connections, stalledCount, customers, connectMs, changes, perSecond, writeMs, deliveredMs, droppedAfterMs,
                pushed, (long) metrics.latency().mean(java.util.concurrent.TimeUnit.MILLISECONDS), metrics.coalescedCount(),
                metrics.droppedCount());
        System.out.printf("steady flow: heap used after GC %d MiB before connecting, %d MiB connected, samples during"
                        + " the flow %s MiB, %d MiB after; growth %+d MiB (peak %+d MiB), bound %d MiB%n",
                heapEmpty / MIB, heapConnected / MIB, samples, heapAfter / MIB, (heapAfter - heapConnected) / MIB,
                (heapPeak - heapConnected) / MIB, HEAP_GROWTH_BOUND / MIB);
        for (int i = 0; i < healthy.size(); i++) {
            Tally tally = healthy.get(i);
            assertThat(tally.problem()).as("healthy client %d", i).isNull();
            assertThat(tally.count()).as("events of healthy client %d", i).isEqualTo(perClient);
            assertThat(tally.hash()).as("the ids of healthy client %d are exactly its customer's positions, in order", i)
                    .isEqualTo(Tally.hashOf(expected.get(tally.customerIndex)));
        }
        assertThat(metrics.droppedCount()).isEqualTo(stalledCount);
        assertThat(metrics.openConnections()).isEqualTo(healthyCount);
        assertThat(heapPeak - heapConnected).as("heap growth (used after GC) during and after the flow")
                .isLessThan(HEAP_GROWTH_BOUND);
        assertThat(writeMs).as("the changes flowed at %d a second", perSecond)
                .isLessThan(seconds * 1_000L * 11 / 10 + 1_000);        // held to the end (see the first test): this test collects to measure the heap
        await(healthyHttp.close());
        await(stalledHttp.close());
    }

    /** Heap used after garbage collection: the least of a few readings, each just after a System.gc(). */
    static long usedHeapAfterGc() throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    /**
     * A healthy client's check of its stream, as the events arrive and in constant memory: the order
     * events' ids strictly increase and each carries the watched customer's order; their count and a hash
     * of their sequence are compared with the log's positions at the end.
     */
    static final class Tally implements Consumer<SseClient.Event> {

        final int customerIndex;
        private final String customer;
        private long count;
        private long lastId;
        private long hash = 1;
        private String problem;

        Tally(int customerIndex, String customer) {
            this.customerIndex = customerIndex;
            this.customer = customer;
        }

        @Override
        public synchronized void accept(SseClient.Event event) {
            if (!"order".equals(event.event())) {
                problem(event.event() + " event: " + event.data());
                return;
            }
            long id = Long.parseLong(event.id());
            if (id <= lastId) {
                problem("id " + id + " after " + lastId);
            }
            if (!event.data().contains(customer)) {
                problem("event " + id + " is not an order of " + customer + ": " + event.data());
            }
            lastId = id;
            count++;
            hash = hash * 31 + id;
        }

        private void problem(String text) {
            if (problem == null) {
                problem = text;
            }
        }

        synchronized long count() {
            return count;
        }

        synchronized long hash() {
            return hash;
        }

        synchronized String problem() {
            return problem;
        }

        static long hashOf(List<Long> ids) {
            long hash = 1;
            for (long id : ids) {
                hash = hash * 31 + id;
            }
            return hash;
        }
    }
}
