package dev.orders.query.push;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Randomized and load tests; {@code -Dorders.test.scale=N} (the {@code long} profile sets 10) makes them
 * N times larger: 300 race trials by default, 1,000 per unit of scale above 1.
 */
class PushLoadTest extends PushTestBase {

    static final int SCALE = Integer.getInteger("orders.test.scale", 1);

    @Test
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
            WsClient client = PushTestBase.WsClient.connect(ws, node.port(), null);
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
        int healthyCount = 20 * SCALE;
        int stalledCount = 5 * SCALE;
        int changes = 1_000 * SCALE;
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
            SseClient client = await(SseClient.open(slowHttp, server.port(), path, MultiMap.caseInsensitiveMultiMap()));
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
                heapBefore / 1024, heapAfter / 1024);
    }
}
