package dev.orders.bench;

import dev.orders.devservers.Infrastructure;
import dev.orders.devservers.PgServer;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Command throughput: closed-loop {@code POST /api/orders} against pgbench's one-row INSERT, same concurrency. */
final class Throughput {

    /**
     * One closed-loop run of the service: its intake ({@code 202}s inside the window per second) and its
     * settled rate (every order accepted, in the window or just after, divided by the time from the start
     * until nothing was in flight any more: every order decided and projected).
     */
    record ServiceRun(int clients, double opsPerSecond, long ok, long failed, double p50Millis, double p99Millis,
                      long drainMillis, double settledPerSecond) {
    }

    /** One pgbench run. */
    record PgbenchRun(int clients, double tps, double latencyAverageMillis) {
    }

    /**
     * One closed-loop run of {@code GET /health/live} (answered by the router alone: no storage, no body to read)
     * through the same client and server as the orders: the most answers a second that any request on this
     * machine reaches at that concurrency, so a ceiling for a design that takes one HTTP request per order.
     */
    record HttpRun(int clients, double answersPerSecond, long failed) {
    }

    static final String SCRATCH_TABLE = "public.bench_insert";
    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");
    private static final Pattern LATENCY = Pattern.compile("latency average = ([0-9.]+) ms");

    private final SystemUnderTest system;
    private final Http http;

    Throughput(SystemUnderTest system, Http http) {
        this.system = system;
        this.http = http;
    }

    /** A scratch table shaped like a slim event row: a bigserial key, a unique uuid, jsonb and a time. */
    void createScratchTable(Path script) throws Exception {
        system.execute("drop table if exists " + SCRATCH_TABLE);
        system.execute("create table " + SCRATCH_TABLE + " (id bigserial primary key, event_id uuid not null unique,"
                + " data jsonb not null, created_at timestamptz not null default now())");
        Files.writeString(script, "INSERT INTO " + SCRATCH_TABLE + " (event_id, data) VALUES (gen_random_uuid(),"
                + " '{\"customerId\":\"5b0c6a3e-1111-4a5b-9c9d-000000000000\",\"total\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}');\n",
                StandardCharsets.UTF_8);
    }

    /**
     * {@code clients} loops, each sending the next order when the last is answered, for {@code seconds};
     * orders go to random customers of {@code customers}. Counts 202 answers completed inside the window.
     */
    ServiceRun runService(int clients, int seconds, List<UUID> customers) throws Exception {
        AtomicLong acceptedAll = new AtomicLong();
        Window window = closedLoops(clients, seconds, () -> {
            UUID customer = customers.get(ThreadLocalRandom.current().nextInt(customers.size()));
            return http.placeOrder(customer, "1.00").map(answer -> {
                boolean accepted = answer.status() == 202;
                if (accepted) {
                    acceptedAll.incrementAndGet();
                }
                return accepted;
            });
        });
        double elapsed = window.seconds();
        // on an API-only node nothing settles: nothing to wait for, and no settled rate
        long drain = system.settles() ? system.awaitQuiet(180_000) : 0;
        // awaitQuiet polls every 200 ms and then waits 300 ms more: the settled time is known to about 200 ms
        double settledAfter = elapsed + Math.max(0, drain - 300) / 1e3;
        return new ServiceRun(clients, window.ok.get() / elapsed, window.ok.get(), window.failed.get(),
                window.latency.getValueAtPercentile(50) / 1e6, window.latency.getValueAtPercentile(99) / 1e6, drain,
                system.settles() ? acceptedAll.get() / settledAfter : Double.NaN);
    }

    /** {@code clients} loops of {@code GET /health/live}, each sending the next when the last is answered. */
    HttpRun runHttpAlone(int clients, int seconds) throws Exception {
        Window window = closedLoops(clients, seconds,
                () -> http.send(HttpMethod.GET, "/health/live", null).map(answer -> answer.status() == 200));
        return new HttpRun(clients, window.ok.get() / window.seconds(), window.failed.get());
    }

    /**
     * What the loops of one run saw inside its window: the answers that were what the request wants ({@code ok}, their
     * latency recorded), the others and the failures ({@code failed}).
     */
    private static final class Window {
        final Histogram latency = new SynchronizedHistogram(TimeUnit.SECONDS.toNanos(60), 3);
        final AtomicLong ok = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final long start = System.nanoTime();
        final long end;

        Window(int seconds) {
            end = start + TimeUnit.SECONDS.toNanos(seconds);
        }

        double seconds() {
            return (end - start) / 1e9;
        }
    }

    /**
     * {@code clients} loops on the load generator's event loop, each calling {@code request} again once the last call's
     * answer came, until the window of {@code seconds} ends; an answer counts when it came inside the window.
     */
    private Window closedLoops(int clients, int seconds, Supplier<Future<Boolean>> request) throws Exception {
        Window window = new Window(seconds);
        List<CompletableFuture<Void>> loops = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            loops.add(done);
            http.context().runOnContext(ignored -> loop(window, request, done));
        }
        for (CompletableFuture<Void> loop : loops) {
            loop.get(seconds + 120L, TimeUnit.SECONDS);
        }
        return window;
    }

    private void loop(Window window, Supplier<Future<Boolean>> request, CompletableFuture<Void> done) {
        long sent = System.nanoTime();
        if (sent >= window.end) {
            done.complete(null);
            return;
        }
        request.get().onComplete(answer -> {
            long now = System.nanoTime();
            if (now <= window.end) {
                if (answer.succeeded() && answer.result()) {
                    window.ok.incrementAndGet();
                    window.latency.recordValue(Math.min(now - sent, window.latency.getHighestTrackableValue()));
                } else {
                    window.failed.incrementAndGet();
                }
            }
            loop(window, request, done);
        });
    }

    /** pgbench -n -f script -c N -j N -T seconds against the system's database, as the server's superuser. */
    PgbenchRun runPgbench(Path script, int clients, int seconds) throws IOException, InterruptedException {
        return runPgbench(system.pg(), Infrastructure.DATABASE, script, clients, seconds, List.of(), Map.of());
    }

    /**
     * pgbench -n {@code flags} -f script -c N -j N -T seconds against {@code database} of {@code server}, as its
     * superuser, with {@code environment} (e.g. {@code PGOPTIONS}) added to pgbench's.
     */
    static PgbenchRun runPgbench(PgServer server, String database, Path script, int clients, int seconds,
                                 List<String> flags, Map<String, String> environment) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(pgbench(), "-h", server.host(), "-p", Integer.toString(server.port()),
                "-U", server.superUser(), "-n"));
        command.addAll(flags);
        command.addAll(List.of("-f", script.toString(), "-c", Integer.toString(clients),
                "-j", Integer.toString(clients), "-T", Integer.toString(seconds), database));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        if (!server.superPassword().isEmpty()) {
            builder.environment().put("PGPASSWORD", server.superPassword());
        }
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(seconds + 60L, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException("pgbench failed: " + String.join(" ", command) + "\n" + output);
        }
        Matcher tps = TPS.matcher(output);
        Matcher latency = LATENCY.matcher(output);
        if (!tps.find()) {
            throw new IllegalStateException("no tps in pgbench's output:\n" + output);
        }
        return new PgbenchRun(clients, Double.parseDouble(tps.group(1)),
                latency.find() ? Double.parseDouble(latency.group(1)) : Double.NaN);
    }

    static String pgbench() {
        for (String candidate : List.of("/usr/bin/pgbench", "/usr/local/bin/pgbench")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        return "pgbench";
    }

    static String pgbenchVersion() {
        try {
            Process process = new ProcessBuilder(pgbench(), "--version").redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            process.waitFor(10, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    static Duration seconds(int s) {
        return Duration.ofSeconds(s);
    }
}
