package dev.orders.bench;

import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.ToDoubleFunction;

/**
 * The benchmark harness: starts the system in this JVM on the embedded PostgreSQL and Kafka, measures
 * command throughput (accepted and settled, against pgbench on the same server), command-to-browser
 * latency (open loop, against a same-run baseline: quiet runs, then the search for the highest rate at
 * which every accepted order still settles, with the hops of each run), aggregate load times (10 vs
 * 10,000 events), fan-out (thousands of SSE connections on one query node, against one connection) and
 * a rebuild of the projections (against a plain scan of the events table), and writes {@code BENCHMARKS.md} and SVG charts. Every request carries an operator
 * token. Run on demand: {@code java -jar benchmarks/target/benchmarks.jar --quick}; see {@code --help}.
 */
public final class Benchmarks {

    /** HotSpot leaves methods over 8,000 bytes of bytecode interpreted unless told otherwise (see the relaunch). */
    private static final String HUGE_METHODS_COMPILED = "-XX:-DontCompileHugeMethods";
    /** Round trips of each part of the floor. */
    private static final int FLOOR_SAMPLES = 300;
    /** The rates the bare chain runs at besides the quiet one: the issue's 500/s and its 1,000/s. */
    private static final List<Integer> BARE_CHAIN_RATES = List.of(500, 1000);
    /**
     * A rate past what the bare chain completes on two cores: the orders it completes a second there are its
     * ceiling, the baseline of the 32-client target (an order needs the chain however fast its parts are). 10,000/s
     * was past it on the AMD EPYC hosts (8,700/s), not on an Intel Xeon host (about 23,000/s).
     */
    private static final int BARE_CHAIN_CEILING_RATE = 40_000;
    /** The warm-up's rounds after its minimum, each followed by a look at the JIT. */
    private static final int WARMUP_ROUND_SECONDS = 10;
    /** The JIT is taken as settled below this much compiling a second (a core gives 1,000). */
    private static final int JIT_SETTLED_MS_PER_SECOND = 30;
    /** The rate of the warm-up's orders watched on SSE streams: one every host sustains. */
    private static final int WARMUP_STREAM_RATE = 250;

    private Benchmarks() {
    }

    public static void main(String[] args) throws Exception {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.println(Options.usage());
            return;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException bad) {
            System.err.println("benchmarks: " + bad.getMessage());
            System.exit(2);
            return;
        }
        if (System.getProperty("bench.log") == null) {
            // beside the jar when run from the repository root, else in ./target
            System.setProperty("bench.log", Files.isDirectory(Path.of("benchmarks", "target"))
                    ? "benchmarks/target/benchmarks.log" : "target/benchmarks.log");
        }
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "bench-logback.xml");
        }
        if (System.getProperty("bench.child") == null && System.getProperty("bench.in-place") == null) {
            System.exit(relaunchFromCopy(args));
        }
        int exit = new Benchmarks().run(options);
        System.exit(exit);
    }

    /**
     * Runs the benchmark in a child JVM from a private copy of its jars: a build in another shell (which
     * rewrites benchmarks/target while this runs for minutes) must not pull classes from under it.
     */
    private static int relaunchFromCopy(String[] args) throws Exception {
        Path jar = Path.of(Benchmarks.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (!Files.isRegularFile(jar)) {
            return new Benchmarks().run(Options.parse(args)); // run from classes (an IDE): nothing to copy
        }
        Path copy = Files.createTempDirectory("orders-bench-jars-");
        List<String> classpath = new ArrayList<>();
        Path jarCopy = copy.resolve(jar.getFileName());
        Files.copy(jar, jarCopy);
        classpath.add(jarCopy.toString());
        Path lib = jar.resolveSibling("lib");
        if (Files.isDirectory(lib)) {
            try (var files = Files.list(lib)) {
                for (Path file : files.sorted().toList()) {
                    Path target = copy.resolve(file.getFileName());
                    Files.copy(file, target);
                    classpath.add(target.toString());
                }
            }
        }
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        List<String> jvmOptions = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
        command.addAll(jvmOptions);
        if (jvmOptions.stream().noneMatch(option -> option.contains("DontCompileHugeMethods"))) {
            // as the deploy images run the services: the request check's schema validator is one method too
            // large for HotSpot to compile otherwise, and stays interpreted (docs/benchmarks-history.md)
            command.add(HUGE_METHODS_COMPILED);
        }
        command.add("-Dbench.child=true");
        command.add("-cp");
        command.add(String.join(java.io.File.pathSeparator, classpath));
        command.add(Benchmarks.class.getName());
        command.addAll(Arrays.asList(args));
        Process child = new ProcessBuilder(command).inheritIO().start();
        Runtime.getRuntime().addShutdownHook(new Thread(child::destroy));
        int exit = child.waitFor();
        try (var files = Files.walk(copy)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        return exit;
    }

    private int run(Options options) throws Exception {
        String pgbenchVersion = null;
        if (options.only().contains("throughput") || options.only().contains("ceiling")) {
            pgbenchVersion = Throughput.pgbenchVersion();
            if (pgbenchVersion == null) {
                System.err.println("benchmarks: pgbench not found; install it (Debian: apt-get install -y postgresql-client)"
                        + " or leave the throughput and ceiling parts out (--only latency,aggregate)");
                return 2;
            }
        }
        Machine machine = Machine.describe();
        String started = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        long t0 = System.nanoTime();
        progress("starting PostgreSQL, Kafka and the service (logs: %s)", System.getProperty("bench.log"));
        Report report = new Report(options, machine, started, pgbenchVersion);
        Throwable failure = null;
        try (SystemUnderTest system = SystemUnderTest.start(options.dataDir(), options.settings());
             Http http = new Http(system.host(), system.port(), system.operatorToken())) {
            report.postgres = system.postgresVersion();
            report.kafka = system.kafkaVersion();
            report.durability = system.durability();
            report.intakeAlone = !system.settles();
            report.loadBefore = Machine.loadAverage();
            progress("system up at %s in %.0f s; PostgreSQL %s; Kafka %s", system.app().url(), seconds(t0),
                    system.pg().host() + ":" + system.pg().port(), report.kafka);
            progress("PostgreSQL durability, read from the server (the service and pgbench use the same one): %s",
                    report.durability);

            if (options.warmupSeconds() > 0) {
                report.warmup = warmUp(options, system, http);
                if (system.settles()) {
                    new EndToEnd(system, http).baseline(2);
                }
            }
            if (options.only().contains("throughput")) {
                throughput(options, system, http, report);
            }
            if (options.only().contains("ceiling")) {
                ceiling(options, system, http, report);
            }
            if (options.only().contains("latency")) {
                latency(options, system, http, report);
            }
            if (options.only().contains("aggregate")) {
                progress("aggregate load: %d loads per size", options.loads());
                report.aggregate = new AggregateLoad(system).run(options.loads());
                for (AggregateLoad.Result r : report.aggregate) {
                    progress("  %-50s median %8.0f us  p90 %8.0f us  (events read per load: %d)", r.label(),
                            r.medianMicros(), r.p90Micros(), r.eventsReadPerLoad());
                }
            }
            if (options.only().contains("floor")) {
                progress("floor: %d round trips of each part, one at a time", FLOOR_SAMPLES);
                report.floor = new Floor(system).run(FLOOR_SAMPLES);
                for (Floor.Part part : report.floor.all()) {
                    progress("  %-40s p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms", part.name(), part.p50(), part.p90(), part.p99());
                }
                bareChain(options, system, http, report);
            }
            if (options.only().contains("fanout")) {
                progress("fan-out: %,d SSE connections, %d orders/s for %d s; baseline: 1 connection (ulimit -n %d)",
                        options.connections(), options.fanOutRate(), options.fanOutSeconds(), FanOut.openFileLimit());
                for (int run = 1; run <= options.runs(); run++) {
                    FanOut.Result one = new FanOut(system, http).run(options.connections(), options.fanOutRate(),
                            options.fanOutSeconds());
                    report.fanOutRuns.add(one);
                    progress("  fan-out run %d/%d: delivery p50 %.1f ms, p99 %.1f ms (1 connection: p99 %.1f ms); heap held %d MiB",
                            run, options.runs(), ms(one.fanOut().delivery(), 50), ms(one.fanOut().delivery(), 99),
                            ms(one.baseline().delivery(), 99), one.heapHeld() >> 20);
                }
                // the run whose p99 is the median one stands for all of them in the tables; every run is listed too
                List<FanOut.Result> byP99 = new ArrayList<>(report.fanOutRuns);
                byP99.sort(java.util.Comparator.comparingDouble(r -> ms(r.fanOut().delivery(), 99)));
                report.fanOut = byP99.get(byP99.size() / 2);
                FanOut.Result f = report.fanOut;
                progress("  fan-out %,d connections: delivery p50 %.1f ms, p99 %.1f ms (1 connection: p50 %.1f ms, p99 %.1f ms);"
                                + " held %,d, dropped %d, missing %d; heap after GC %d MiB held (%d MiB without), peak %d MiB",
                        f.connections(), ms(f.fanOut().delivery(), 50), ms(f.fanOut().delivery(), 99),
                        ms(f.baseline().delivery(), 50), ms(f.baseline().delivery(), 99), f.fanOut().heldAtEnd(),
                        f.fanOut().droppedByHub() + f.fanOut().closedByService(), f.fanOut().missing(),
                        f.heapHeld() >> 20, f.heapNoConnections() >> 20, f.heapPeak() >> 20);
            }
            if (options.only().contains("rebuild")) {
                progress("rebuild: %,d events written for it, %d run(s)", options.events(), options.rebuildRuns());
                report.rebuild = new Rebuild(system, http).run(options.events(), options.rebuildRuns());
            }
            report.conflicts = appendConflicts(http);
            report.loadAfter = Machine.loadAverage();
            report.heapUsedMiB = (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20;
            report.totalSeconds = seconds(t0);
            progress("stopping");
        } catch (Exception | Error e) {
            failure = e;
            report.failure = e.toString();
            report.totalSeconds = seconds(t0);
            e.printStackTrace();
        }
        report.write();
        if (failure != null) {
            progress("FAILED (%s); wrote what was measured to %s", failure, options.out());
            return 1;
        }
        progress("wrote %s and %s in %.0f s", options.out(), options.chart(), seconds(t0));
        return 0;
    }

    /** The service's append conflicts so far, per aggregate, from its own {@code /metrics}. */
    private static String appendConflicts(Http http) {
        try {
            String text = Http.await(http.send(io.vertx.core.http.HttpMethod.GET, "/metrics", null),
                    java.time.Duration.ofSeconds(10)).body().toString();
            StringBuilder found = new StringBuilder();
            for (String line : text.split("\n")) {
                if (line.startsWith("orders_append_conflicts_total")) {
                    found.append(found.isEmpty() ? "" : "; ").append(line.trim());
                }
            }
            return found.isEmpty() ? "0 (no conflict counted)" : "`" + found + "`";
        } catch (Exception e) {
            return "not read: " + e.getMessage();
        }
    }

    /**
     * Orders at 8 clients (not measured) for at least {@code --warmup-seconds}, then in rounds until the JIT spent
     * under {@value #JIT_SETTLED_MS_PER_SECOND} ms a second compiling in the last round, or
     * {@code --warmup-max-seconds} passed: on two cores the JIT takes minutes of load to compile the system, and a
     * run measured meanwhile measures the compiler too. Each round is {@value #WARMUP_ROUND_SECONDS} s of orders
     * at 8 clients and as long of orders at {@value #WARMUP_STREAM_RATE}/s watched on SSE streams, as the latency
     * part places them (the push to the streams is compiled only when streams are open); on an API-only node, where
     * nothing settles, the orders at 8 clients only.
     *
     * @return what the warm-up did, for the report
     */
    private static String warmUp(Options options, SystemUnderTest system, Http http) throws Exception {
        progress("warm-up: orders at 8 clients (not measured), %d s, then rounds%s until the JIT compiles"
                        + " under %d ms a second (at most %d s in all)", options.warmupSeconds(),
                system.settles() ? " with SSE streams" : "", JIT_SETTLED_MS_PER_SECOND, options.warmupMaxSeconds());
        List<UUID> warm = http.createCustomers(32, "warmup", system.settles());
        Throughput load = new Throughput(system, http);
        EndToEnd watched = new EndToEnd(system, http);
        long start = System.nanoTime();
        double jitBefore = CpuUse.jitSeconds();
        load.runService(8, options.warmupSeconds(), warm);
        // on an API-only node nothing settles: its rounds are orders at 8 clients only
        String watchedToo = system.settles() ? String.format(Locale.ROOT, ", and at %d/s watched on SSE streams",
                WARMUP_STREAM_RATE) : "";
        double rate = Double.NaN;
        while (true) {
            double elapsed = seconds(start);
            if (elapsed + WARMUP_ROUND_SECONDS > options.warmupMaxSeconds() || Double.isNaN(jitBefore)) {
                String done = Double.isNaN(rate)
                        ? String.format(Locale.ROOT, "%.0f s of orders at 8 clients; the JIT not checked", elapsed)
                        : String.format(Locale.ROOT, "%.0f s of orders (at 8 clients%s);"
                        + " the JIT still compiled %.0f ms a second at the end (the maximum warm-up, %d s, was reached)",
                        elapsed, watchedToo, rate, options.warmupMaxSeconds());
                progress("warm-up: %s", done);
                return done;
            }
            double jitFrom = CpuUse.jitSeconds();
            long roundStart = System.nanoTime();
            load.runService(8, WARMUP_ROUND_SECONDS, warm);
            if (system.settles()) {
                watched.run("warm-up", WARMUP_STREAM_RATE, WARMUP_ROUND_SECONDS, options.latencyCustomers());
            }
            rate = 1_000 * (CpuUse.jitSeconds() - jitFrom) / seconds(roundStart);
            progress("warm-up: %.0f s, the JIT compiled %.0f ms a second in the last round", seconds(start), rate);
            if (rate < JIT_SETTLED_MS_PER_SECOND) {
                String done = String.format(Locale.ROOT, "%.0f s of orders (at 8 clients%s), until the JIT compiled"
                                + " %.0f ms a second (%.0f s of compiling in all)",
                        seconds(start), watchedToo, rate, CpuUse.jitSeconds() - jitBefore);
                progress("warm-up: %s", done);
                return done;
            }
        }
    }

    /**
     * The chain's input and output alone ({@link BareChain}), open loop at the quiet rate, at {@link #BARE_CHAIN_RATES} and at
     * {@link #BARE_CHAIN_CEILING_RATE}, then at that rate again with the orders' own commits grouped, as many runs of each as
     * of everything else.
     */
    private static void bareChain(Options options, SystemUnderTest system, Http http, Report report) throws Exception {
        BareChain chain = new BareChain(system, http);
        List<int[]> plan = new ArrayList<>();
        plan.add(new int[] {options.quietRate(), options.quietSeconds()});
        for (int rate : BARE_CHAIN_RATES) {
            plan.add(new int[] {rate, options.latencySeconds()});
        }
        plan.add(new int[] {BARE_CHAIN_CEILING_RATE, options.latencySeconds()});
        plan.add(new int[] {BARE_CHAIN_CEILING_RATE, options.latencySeconds(), 1});
        for (int[] step : plan) {
            boolean grouped = step.length > 2;
            for (int run = 1; run <= options.runs(); run++) {
                String kind = step[0] == options.quietRate() ? "quiet" : step[0] == BARE_CHAIN_CEILING_RATE ? "ceiling" : "rate";
                BareChain.Run one = chain.run(kind, step[0], step[1], grouped);
                report.bareChain.add(one);
                progress("  bare chain %d/s%s run %d/%d: %d of %d done (%.0f/s%s), p50 %.1f ms, p99 %.1f ms; CPU per order %.2f ms, "
                                + "machine %.0f%% busy", step[0], grouped ? " (grouped)" : "", run, options.runs(), one.completed(), one.scheduled(),
                        one.completedPerSecond(), one.overloaded() ? ", overloaded" : "",
                        ms(one.latency(), 50), ms(one.latency(), 99), one.cpu().systemMs() + one.cpu().generatorMs(),
                        one.cpu().machineBusyPercent());
            }
        }
    }

    /**
     * PostgreSQL alone writing this design's rows at the throughput part's highest concurrency, each script after
     * section 1's one-row INSERT (its scratch table made again here: the ceiling may run without the throughput part).
     */
    private static void ceiling(Options options, SystemUnderTest system, Http http, Report report) throws Exception {
        int clients = options.clients().stream().mapToInt(Integer::intValue).max().orElse(32);
        progress("ceiling: PostgreSQL alone writing an order's rows, pgbench at %d clients, %d run(s) of %d x 2 x %d s",
                clients, options.runs(), WriteCeiling.THINNEST + 1, options.throughputSeconds());
        Path script = Files.createTempFile("bench-insert-", ".sql");
        try {
            new Throughput(system, http).createScratchTable(script);
            report.pgbenchScript = Files.readString(script).strip();
            report.ceilingClients = clients;
            report.ceiling.addAll(new WriteCeiling(system).run(options.runs(), clients, options.throughputSeconds(), script));
        } finally {
            Files.deleteIfExists(script);
        }
    }

    private static void throughput(Options options, SystemUnderTest system, Http http, Report report) throws Exception {
        Throughput throughput = new Throughput(system, http);
        Path script = Files.createTempFile("bench-insert-", ".sql");
        throughput.createScratchTable(script);
        report.pgbenchScript = Files.readString(script).strip();
        for (int clients : options.clients()) {
            for (int run = 1; run <= options.runs(); run++) {
                // fresh for every run
                List<UUID> customers = http.createCustomers(64, "tp-" + clients + "-" + run, system.settles());
                Throughput.ServiceRun service = throughput.runService(clients, options.throughputSeconds(), customers);
                Throughput.PgbenchRun pgbench = throughput.runPgbench(script, clients, options.throughputSeconds());
                Throughput.HttpRun alone = throughput.runHttpAlone(clients, options.throughputSeconds());
                report.service.add(service);
                report.pgbench.add(pgbench);
                report.httpAlone.add(alone);
                if (!system.settles()) {
                    progress("  throughput c=%-2d run %d/%d: POST /api/orders accepted %7.0f/s on the API-only node (p50 %.1f ms,"
                                    + " p99 %.1f ms, %d failed) | pgbench %7.0f tps | ratio accepted/pgbench %.2f | GET /health/live"
                                    + " alone %7.0f/s (%d failed)", clients, run, options.runs(), service.opsPerSecond(),
                            service.p50Millis(), service.p99Millis(), service.failed(), pgbench.tps(),
                            service.opsPerSecond() / pgbench.tps(), alone.answersPerSecond(), alone.failed());
                    continue;
                }
                progress("  throughput c=%-2d run %d/%d: POST /api/orders accepted %7.0f/s, settled %7.0f/s (p50 %.1f ms,"
                                + " p99 %.1f ms, %d failed, all settled %.1f s after the window) | pgbench %7.0f tps | ratio"
                                + " settled/pgbench %.2f | GET /health/live alone %7.0f/s (%d failed)",
                        clients, run, options.runs(), service.opsPerSecond(), service.settledPerSecond(), service.p50Millis(),
                        service.p99Millis(), service.failed(), service.drainMillis() / 1000.0, pgbench.tps(),
                        service.settledPerSecond() / pgbench.tps(), alone.answersPerSecond(), alone.failed());
            }
        }
        Files.deleteIfExists(script);
        system.execute("drop table if exists " + Throughput.SCRATCH_TABLE);
    }

    /**
     * The quiet system first (its own runs, fresh customers each), then the search for the highest sustained
     * rate: the steps in increasing order until one is not sustained in every one of its runs (when the
     * first step is not, halving it until a rate is), then midpoints between the highest sustained rate
     * and the lowest one that was not.
     */
    private static void latency(Options options, SystemUnderTest system, Http http, Report report) throws Exception {
        EndToEnd endToEnd = new EndToEnd(system, http);
        progress("quiet system: %d orders/s for %d s, %d run(s), fresh customers each", options.quietRate(),
                options.quietSeconds(), options.runs());
        for (int run = 1; run <= options.runs(); run++) {
            EndToEnd.Run quiet = endToEnd.run("quiet", options.quietRate(), options.quietSeconds(), options.latencyCustomers());
            report.quiet.add(quiet);
            printRun(quiet, run, options.runs());
        }
        progress("sustained-rate search: steps %s/s, %d s and %d run(s) per rate, then %d bisection(s)", options.rates(),
                options.latencySeconds(), options.searchRuns(), options.bisections());
        int sustained = 0;
        Integer notSustained = null;
        for (int rate : options.rates()) {
            if (searchRate(options, endToEnd, report, rate)) {
                sustained = rate;
            } else {
                notSustained = rate;
                break;
            }
        }
        // not even the lowest step: halve it until a rate is sustained (or the quiet rate is reached), so that the
        // search brackets the answer from both sides before it bisects
        for (int rate = options.rates().getFirst() / 2; sustained == 0 && notSustained != null && rate > options.quietRate();
             rate /= 2) {
            if (searchRate(options, endToEnd, report, rate)) {
                sustained = rate;
            } else {
                notSustained = rate;
            }
        }
        for (int b = 0; b < options.bisections() && notSustained != null; b++) {
            int mid = (sustained + notSustained) / 2;
            if (mid <= sustained || mid >= notSustained) {
                break;
            }
            if (searchRate(options, endToEnd, report, mid)) {
                sustained = mid;
            } else {
                notSustained = mid;
            }
        }
        report.sustainedRate = sustained;
        report.lowestNotSustained = notSustained;
        progress("highest sustained rate: %s", report.sustainedText());
    }

    /** The runs of one searched rate; true if every one sustained it (the runs stop at the first that did not). */
    private static boolean searchRate(Options options, EndToEnd endToEnd, Report report, int rate) throws Exception {
        for (int run = 1; run <= options.searchRuns(); run++) {
            EndToEnd.Run r = endToEnd.run("search", rate, options.latencySeconds(), options.latencyCustomers());
            report.latency.add(r);
            printRun(r, run, options.searchRuns());
            if (!r.sustained()) {
                return false;
            }
        }
        return true;
    }

    private static void printRun(EndToEnd.Run r, int run, int runs) {
        progress("  %s %4d/s run %d/%d: accepted %d of %d scheduled (%d failed), settled %d (%d approved, rejected %d:"
                        + " %d credit-check timeout, %d credit limit, %d other), %d not settled within %d s; settled %.1f/s"
                        + " over %.1f s (intake %.1f/s)",
                r.kind(), r.rate(), run, runs, r.accepted(), r.scheduled(), r.failed(), r.settled(), r.approved(),
                r.rejected(), r.rejectedTimeout(), r.rejectedLimit(), r.rejectedOther(), r.unsettled(), r.tailSeconds(),
                r.settledPerSecond(), r.settleSpanSeconds(), r.acceptedPerSecond());
        progress("    scheduled -> outcome on the stream: p50 %.1f ms  p99 %.1f ms  p99.9 %.1f ms  max %.1f ms | POST p50 %.1f ms"
                        + " | baseline p50 %.2f ms | %s",
                ms(r.endToEnd(), 50), ms(r.endToEnd(), 99), ms(r.endToEnd(), 99.9), r.endToEnd().getMaxValue() / 1e6,
                ms(r.command(), 50), ms(r.baseline(), 50),
                r.sustained() ? "SUSTAINED" : "NOT sustained (" + r.whyNotSustained() + ")");
        StringBuilder hops = new StringBuilder();
        for (int i = 0; i < EndToEnd.HOPS.length; i++) {
            EndToEnd.Hop hop = r.hops()[i];
            hops.append(String.format(Locale.ROOT, "%n[bench]      %-72s p50 %8.1f ms  p99 %8.1f ms", EndToEnd.HOPS[i],
                    hop.p50(), hop.p99()));
        }
        progress("    hops over %d approved orders (PostgreSQL clock offset %+.2f ms +- %.2f):%s", r.hops()[0].orders(),
                r.dbClockOffsetMillis(), r.dbClockUncertaintyMillis(), hops);
        progress("    CPU per settled order: service %.2f ms, load generator %.2f ms, Kafka broker %.2f ms, PostgreSQL %.2f ms,"
                        + " other work %.2f ms; JIT compiling %.0f ms/s; machine %.0f%% busy", r.cpu().serviceMs(),
                r.cpu().generatorMs(), r.cpu().brokerMs(), r.cpu().postgresMs(), r.cpu().otherMs(), r.cpu().jitMsPerSecond(),
                r.cpu().machineBusyPercent());
    }

    /** The runs' end-to-end latencies as one histogram. */
    static Histogram merged(List<EndToEnd.Run> runs) {
        Histogram merged = new Histogram(runs.getFirst().endToEnd().getHighestTrackableValue(), 3);
        runs.forEach(r -> merged.add(r.endToEnd()));
        return merged;
    }

    static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1e6;
    }

    static double median(List<Double> values) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    static <T> double median(List<T> items, ToDoubleFunction<T> value) {
        return median(items.stream().map(value::applyAsDouble).toList());
    }

    /** (max - min) / median, as a rough measure of run-to-run noise. */
    static <T> double spread(List<T> items, ToDoubleFunction<T> value) {
        List<Double> values = items.stream().map(value::applyAsDouble).toList();
        double med = median(values);
        double min = values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
        double max = values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        return med == 0 ? Double.NaN : (max - min) / med;
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    static void progress(String format, Object... args) {
        System.out.printf(Locale.ROOT, "[bench] " + format + "%n", args);
        System.out.flush();
    }

    /** What the report needs of the machine. */
    record Machine(int cores, long memoryMiB, String cpu, String os, String jdk) {
        static Machine describe() {
            String cpu = "unknown";
            long memory = -1;
            try {
                cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                        .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("unknown");
                memory = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                        .findFirst().map(l -> Long.parseLong(l.replaceAll("\\D", "")) / 1024).orElse(-1L);
            } catch (Exception ignored) {
                // not Linux
            }
            String os = System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch");
            String jdk = System.getProperty("java.vm.vendor") + " " + System.getProperty("java.vm.name") + " "
                    + System.getProperty("java.runtime.version");
            return new Machine(Runtime.getRuntime().availableProcessors(), memory, cpu, os, jdk);
        }

        static String loadAverage() {
            try {
                String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
                return parts[0] + " " + parts[1] + " " + parts[2];
            } catch (Exception e) {
                return "unknown";
            }
        }
    }

    /** Collects the results and writes BENCHMARKS.md and the chart. */
    static final class Report {
        final Options options;
        final Machine machine;
        final String started;
        final String pgbenchVersion;
        String postgres = "unknown";
        String kafka = "unknown";
        String durability = "unknown";
        final List<EndToEnd.Run> quiet = new ArrayList<>();
        int sustainedRate;
        Integer lowestNotSustained;
        String loadBefore = "unknown";
        String loadAfter = "unknown";
        String warmup = "none";
        String conflicts = "unknown";
        String pgbenchScript = "";
        /** An API-only node ({@code --set command.workers=false}): the command hop alone, nothing settles. */
        boolean intakeAlone;
        String failure;
        long heapUsedMiB;
        double totalSeconds;
        final List<Throughput.ServiceRun> service = new ArrayList<>();
        final List<Throughput.PgbenchRun> pgbench = new ArrayList<>();
        final List<Throughput.HttpRun> httpAlone = new ArrayList<>();
        final List<EndToEnd.Run> latency = new ArrayList<>();
        List<AggregateLoad.Result> aggregate = List.of();
        Floor.Parts floor;
        /** PostgreSQL alone writing this design's rows (section 1), stage by stage, every run, at this concurrency. */
        final List<WriteCeiling.Stage> ceiling = new ArrayList<>();
        int ceilingClients;
        final List<BareChain.Run> bareChain = new ArrayList<>();
        FanOut.Result fanOut;
        final List<FanOut.Result> fanOutRuns = new ArrayList<>();
        Rebuild.Result rebuild;

        Report(Options options, Machine machine, String started, String pgbenchVersion) {
            this.options = options;
            this.machine = machine;
            this.started = started;
            this.pgbenchVersion = pgbenchVersion;
        }

        /** The search's outcome in words. */
        String sustainedText() {
            if (latency.isEmpty()) {
                return "not measured";
            }
            if (lowestNotSustained == null) {
                return String.format(Locale.ROOT, "at least %d orders/s (every rate tried was sustained)", sustainedRate);
            }
            if (sustainedRate == 0) {
                return String.format(Locale.ROOT, "below %d orders/s (no rate tried was sustained)", lowestNotSustained);
            }
            return String.format(Locale.ROOT, "%d orders/s (%d/s was not sustained)", sustainedRate, lowestNotSustained);
        }

        /** The rates the search ran, in increasing order. */
        List<Integer> searchedRates() {
            return latency.stream().map(EndToEnd.Run::rate).distinct().sorted().toList();
        }

        void write() throws Exception {
            Path chartPath = options.chart();
            Map<String, Histogram> series = new LinkedHashMap<>();
            if (!quiet.isEmpty()) {
                series.put("quiet, " + options.quietRate() + " orders/s, to browser", merged(quiet));
            }
            for (int rate : searchedRates()) {
                List<EndToEnd.Run> runs = latency.stream().filter(r -> r.rate() == rate).toList();
                series.put(rate + " orders/s, to browser" + (runs.stream().allMatch(EndToEnd.Run::sustained) ? "" : " (not sustained)"),
                        merged(runs));
            }
            if (!latency.isEmpty()) {
                List<EndToEnd.Run> at500 = latency.stream().filter(r -> r.rate() == 500).toList();
                List<EndToEnd.Run> commandRuns = at500.isEmpty() ? latency : at500;
                Histogram command = new Histogram(commandRuns.get(0).command().getHighestTrackableValue(), 3);
                commandRuns.forEach(r -> command.add(r.command()));
                series.put((at500.isEmpty() ? "" : "500/s: ") + "POST answered", command);
                Histogram baseline = new Histogram(latency.get(0).baseline().getHighestTrackableValue(), 3);
                latency.forEach(r -> baseline.add(r.baseline()));
                series.put("baseline GET /health/live", baseline);
                if (chartPath.getParent() != null) {
                    Files.createDirectories(chartPath.getParent());
                }
                Files.writeString(chartPath, LatencyChart.svg(
                        "Command to browser (all runs merged), open loop, from the scheduled send", series),
                        StandardCharsets.UTF_8);
            }
            if (fanOut != null) {
                Map<String, Histogram> fan = new LinkedHashMap<>();
                fan.put(String.format(Locale.ROOT, "%,d connections", fanOut.connections()), fanOut.fanOut().delivery());
                fan.put("1 connection (baseline)", fanOut.baseline().delivery());
                Path fanChart = options.fanOutChart();
                if (fanChart.getParent() != null) {
                    Files.createDirectories(fanChart.getParent());
                }
                Files.writeString(fanChart, LatencyChart.svg(String.format(Locale.ROOT,
                        "Fan-out: change log to SSE client, %d orders/s", fanOut.fanOut().rate()), fan), StandardCharsets.UTF_8);
            }
            Files.writeString(options.out(), markdown(chartPath, keptAnalysis()), StandardCharsets.UTF_8);
        }

        static final String ANALYSIS_START = "<!-- analysis:start (kept across reruns; edit by hand) -->";
        static final String ANALYSIS_END = "<!-- analysis:end -->";

        /** The hand-written analysis of an earlier report, if any, so that a rerun keeps it (it names its own run). */
        private String keptAnalysis() {
            try {
                if (!Files.exists(options.out())) {
                    return null;
                }
                String old = Files.readString(options.out());
                int from = old.indexOf(ANALYSIS_START);
                int to = old.indexOf(ANALYSIS_END);
                return from >= 0 && to > from ? old.substring(from, to + ANALYSIS_END.length()) : null;
            } catch (Exception e) {
                return null;
            }
        }

        private String markdown(Path chartPath, String analysis) {
            StringBuilder md = new StringBuilder();
            md.append("# Benchmarks\n\n");
            md.append("Generated by the benchmark harness (module `benchmarks`, class `dev.orders.bench.Benchmarks`) on ")
                    .append(started).append(", in ").append(String.format(Locale.ROOT, "%.0f", totalSeconds / 60))
                    .append(" minutes, by the command below. Run with `--out BENCHMARKS.md` (the default), it replaces this"
                            + " file and keeps the hand-written analysis between its markers; `--help` lists the options.\n\n");
            md.append("```sh\n")
                    .append("export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH   # any JDK 21+\n")
                    .append("mvn -B -q install -DskipTests\n")
                    .append(options.commandLine()).append("\n```\n\n");
            md.append("It starts the whole system in its own JVM (`OrdersApp.start`, the all-in-one: command side with relay and saga, "
                    + "query side with projector and push hub) on the embedded PostgreSQL and Kafka, drives it over HTTP from a "
                    + "load generator in the same JVM (its own Vert.x instance, one event loop), holds the fan-out's SSE connections "
                    + "from a child JVM, and runs `pgbench` as a child process. Every request carries an operator's bearer token "
                    + "(development mode; operators act for any customer and are not rate limited). Every figure is the **"
                    + (options.runs() == 1 ? "result of one run (no median)" : "median of " + options.runs() + " runs") + "** unless a section says otherwise, and each comes with a baseline measured in the same "
                    + "run and the ratio to it.\n\n");
            md.append("## Machine\n\n");
            md.append("| | |\n|---|---|\n");
            md.append("| cores | ").append(machine.cores()).append(" (").append(machine.cpu()).append(")").append(" |\n");
            md.append("| memory | ").append(String.format(Locale.ROOT, "%,d MiB", machine.memoryMiB())).append(" |\n");
            md.append("| OS | ").append(machine.os()).append(" |\n");
            md.append("| JDK | ").append(machine.jdk()).append(" |\n");
            md.append("| PostgreSQL | ").append(postgres).append(" (embedded, zonky binaries, development mode) |\n");
            md.append("| PostgreSQL durability (read from the server; the service and pgbench write to this same server) | `")
                    .append(durability).append("` |\n");
            md.append("| Kafka | ").append(kafka).append(" |\n");
            if (pgbenchVersion != null) {
                md.append("| pgbench | ").append(pgbenchVersion).append(" |\n");
            }
            md.append("| load average (1/5/15 min) | before: ").append(loadBefore).append("; after: ").append(loadAfter)
                    .append(" (whatever else runs on the machine shares its cores with the run) |\n");
            md.append("| warm-up before the first measurement | ").append(warmup).append(" |\n");
            md.append("| heap used by the JVM at the end | ").append(heapUsedMiB).append(" MiB (service and load generator together) |\n");
            md.append("| append conflicts over the whole run (`orders_append_conflicts_total` of `/metrics`, every order of every part) | ")
                    .append(conflicts).append(" |\n\n");
            md.append("All of it, the service, PostgreSQL, Kafka, pgbench and the load generator, shares those ")
                    .append(machine.cores()).append(" cores.\n\n");

            if (failure != null) {
                md.append("> **This run failed before it finished** (").append(failure)
                        .append("); the figures below are the ones measured until then.\n\n");
            }
            summary(md);
            md.append(analysis != null ? analysis : ANALYSIS_START + "\n## Analysis\n\n(none yet: write it by hand between these"
                    + " markers; a rerun keeps it)\n" + ANALYSIS_END).append("\n\n");
            throughputSection(md);
            ceilingSection(md);
            latencySection(md, chartPath);
            aggregateSection(md);
            floorSection(md);
            fanOutSection(md);
            rebuildSection(md);
            notMeasured(md);
            return md.toString();
        }

        private void summary(StringBuilder md) {
            md.append("## Summary against the targets of issue 14 (issue 10 for fan-out and rebuild)\n\n");
            md.append("| figure | target | measured (median) | baseline, same run | ratio | verdict |\n|---|---|---|---|---|---|\n");
            if (!service.isEmpty()) {
                int top = options.clients().stream().mapToInt(Integer::intValue).max().orElse(32);
                List<Throughput.ServiceRun> topRuns = service.stream().filter(r -> r.clients() == top).toList();
                double accepted = median(topRuns, Throughput.ServiceRun::opsPerSecond);
                double s = median(topRuns, Throughput.ServiceRun::settledPerSecond);
                double p = median(pgbench.stream().filter(r -> r.clients() == top).toList(), Throughput.PgbenchRun::tps);
                if (intakeAlone) {
                    md.append(String.format(Locale.ROOT, "| the command hop alone, %d clients: `POST /api/orders` accepted by an"
                                    + " API-only node (`command.workers=false`: no relay, saga, projection or push) | (the intake"
                                    + " target's own hop; >= 60%% of pgbench is asked of the whole system) | %,.0f orders/s accepted"
                                    + " | pgbench %,.0f tps, same server and durability | %.0f%% | %s |%n",
                            top, accepted, p, 100 * accepted / p, accepted / p >= 0.6 ? "the hop alone reaches it"
                                    : "the hop alone falls short of it"));
                } else {
                    md.append(String.format(Locale.ROOT, "| command throughput, %d clients, settled | >= 60%% of pgbench | %,.0f orders/s settled"
                                    + " (accepted %,.0f/s) | pgbench %,.0f tps, same server and durability | %.0f%% | %s |%n",
                            top, s, accepted, p, 100 * s / p, s / p >= 0.6 ? "**met**" : "**missed**" + ceilingVerdict(s / p)));
                    ceilingRows(md, s / p);
                    List<Throughput.HttpRun> aloneRuns = httpAlone.stream().filter(r -> r.clients() == top).toList();
                    if (!aloneRuns.isEmpty()) {
                        double h = median(aloneRuns, Throughput.HttpRun::answersPerSecond);
                        md.append(String.format(Locale.ROOT, "| an HTTP request that does nothing, %d clients (`GET /health/live`, closed loop, same"
                                        + " client and server, section 1): answers a second | (a ceiling for one request per order, no target)"
                                        + " | %,.0f answers/s | pgbench %,.0f tps | %.0f%% | the system settles %.0f%% of it |%n",
                                top, h, p, 100 * h / p, 100 * s / h));
                    }
                    for (boolean grouped : List.of(false, true)) {
                        List<BareChain.Run> ceiling = ceilingRuns(grouped);
                        if (ceiling.isEmpty()) {
                            continue;
                        }
                        double c = median(ceiling, BareChain.Run::completedPerSecond);
                        boolean reached = ceilingReached(grouped);
                        md.append(String.format(Locale.ROOT, "| the bare chain's ceiling%s (open loop at %,d/s, section 4): orders it completes a second"
                                        + " | (a ceiling, no target) | %s%,.0f orders/s (%d run(s)%s) | pgbench %,.0f tps | %.0f%% | the system settles %.0f%% of it |%n",
                                grouped ? ", the orders' own commits grouped" : "", BARE_CHAIN_CEILING_RATE, reached ? "" : "at least ", c,
                                ceiling.size(), reached ? "" : "; not reached: a run kept up with the rate", p, 100 * c / p, 100 * s / c));
                    }
                }
            }
            if (!latency.isEmpty()) {
                md.append(String.format(Locale.ROOT, "| highest sustained rate (every accepted order settled within %d s of its scheduled send, p99 < %d ms) | (none set) | **%s** | | | |%n",
                        EndToEnd.SETTLE_WITHIN_MILLIS / 1000, EndToEnd.P99_UNDER_MILLIS, sustainedText()));
            }
            if (!quiet.isEmpty()) {
                double p50 = median(quiet, r -> ms(r.endToEnd(), 50));
                double p99 = median(quiet, r -> ms(r.endToEnd(), 99));
                double base = median(quiet, r -> ms(r.baseline(), 50));
                md.append(String.format(Locale.ROOT, "| quiet system, %d orders/s, scheduled send to outcome on the stream | p50 <= 10 ms, p99 <= 30 ms | p50 %.1f ms,"
                                + " p99 %.1f ms (%d run(s); %d of %d settled, %d rejected) | GET /health/live p50 %.2f ms | p50 = %.0fx baseline | %s |%n",
                        options.quietRate(), p50, p99, quiet.size(), quiet.stream().mapToLong(EndToEnd.Run::settled).sum(),
                        quiet.stream().mapToLong(EndToEnd.Run::scheduled).sum(), quiet.stream().mapToLong(EndToEnd.Run::rejected).sum(),
                        base, p50 / base, p50 <= 10 && p99 <= 30 ? "**met**" : "**missed**"));
                bareChainRow(md, options.quietRate(), p50);
            }
            List<EndToEnd.Run> at500 = latency.stream().filter(r -> r.rate() == 500).toList();
            if (!at500.isEmpty()) {
                double p50 = median(at500, r -> ms(r.endToEnd(), 50));
                double p99 = median(at500, r -> ms(r.endToEnd(), 99));
                double base = median(at500, r -> ms(r.baseline(), 50));
                boolean sustained = at500.stream().allMatch(EndToEnd.Run::sustained);
                boolean met = p50 <= 15 && p99 <= 50 && sustained;
                md.append(String.format(Locale.ROOT, "| command to browser at 500/s | p50 <= 15 ms, p99 <= 50 ms | p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms;"
                                + " settled %.0f/s | GET /health/live p50 %.2f ms | p50 = %.0fx baseline | %s |%n",
                        p50, p99, median(at500, r -> ms(r.endToEnd(), 99.9)), median(at500, EndToEnd.Run::settledPerSecond),
                        base, p50 / base, met ? "**met**" : "**missed**" + (sustained ? "" : " (500/s not sustained: "
                                + at500.getFirst().whyNotSustained() + ")")));
                bareChainRow(md, 500, p50);
            } else if (!latency.isEmpty()) {
                md.append(String.format(Locale.ROOT, "| command to browser at 500/s | p50 <= 15 ms, p99 <= 50 ms | not run: the search stopped below 500/s;"
                        + " highest sustained: %s | | | **missed** |%n", sustainedText()));
            }
            if (!aggregate.isEmpty()) {
                AggregateLoad.Result small = aggregate.get(0);
                AggregateLoad.Result big = aggregate.get(1);
                double ratio = big.medianMicros() / small.medianMicros();
                md.append(String.format(Locale.ROOT, "| aggregate load, 10 vs 10,000 events | within 2x | %.2f ms (10,000) | %.2f ms (10 events) | %.1fx | %s |%n",
                        big.medianMicros() / 1e3, small.medianMicros() / 1e3, ratio, ratio <= 2 ? "**met**" : "**missed**"));
            }
            if (fanOut != null) {
                FanOut.Phase f = fanOut.fanOut();
                FanOut.Phase b = fanOut.baseline();
                double p99 = ms(f.delivery(), 99);
                long heapMiB = Math.max(fanOut.heapHeld(), fanOut.heapEnd()) >> 20;
                long dropped = f.droppedByHub() + f.closedByService();
                boolean p99Met = p99 <= 250;
                boolean heapMet = heapMiB <= 512;
                boolean keptAll = dropped == 0 && f.missing() == 0 && f.held() == fanOut.connections();
                String verdict = (p99Met && heapMet && keptAll ? "**met**" : "**missed**")
                        + (p99Met ? "" : " (p99)") + (heapMet ? "" : " (heap)") + (keptAll ? "" : " (drops or missing deliveries)");
                if (fanOut.connections() < 10_000) {
                    verdict += String.format(Locale.ROOT, " at %,d connections only (%s); the target's 10,000 not measured",
                            fanOut.connections(), fanOut.capped() != null ? "capped" : "this run's size");
                }
                md.append(String.format(Locale.ROOT, "| fan-out, %,d SSE connections on one node | delivery p99 <= 250 ms, heap <= 512 MiB, no reader dropped"
                                + " | p99 %.1f ms (p50 %.1f ms); heap after GC %,d MiB with all held (peak sampled %,d MiB); %d dropped, %d deliveries missing"
                                + " | 1 connection: p99 %.1f ms (p50 %.1f ms) | p99 = %.1fx | %s |%n",
                        fanOut.connections(), p99, ms(f.delivery(), 50), heapMiB, fanOut.heapPeak() >> 20, dropped, f.missing(),
                        ms(b.delivery(), 99), ms(b.delivery(), 50), p99 / ms(b.delivery(), 99), verdict));
            } else {
                md.append("| fan-out, 10,000 SSE connections | delivery p99 <= 250 ms, heap <= 512 MiB | not measured | | | **not measured** |\n");
            }
            if (rebuild != null && !rebuild.runs().isEmpty()) {
                double rate = median(rebuild.runs(), Rebuild.Run::eventsPerSecond);
                double scan = median(rebuild.scanRates());
                String verdict = rate >= 50_000 ? "**met**" : "**missed**";
                if (rebuild.storedEvents() < 1_000_000) {
                    verdict += String.format(Locale.ROOT, " at %,d events only (this run's size); the target's 1,000,000 not measured",
                            rebuild.storedEvents());
                }
                md.append(String.format(Locale.ROOT, "| rebuild, %,d stored events | >= 50,000 events/s | %,.0f events/s | plain ordered scan %,.0f events/s"
                                + " | %.1f%% | %s |%n", rebuild.storedEvents(), rate, scan, 100 * rate / scan, verdict));
            } else {
                md.append("| rebuild, 1,000,000 events | >= 50,000 events/s | not measured | | | **not measured** |\n");
            }
            md.append("\n");
        }

        private void fanOutSection(StringBuilder md) {
            if (fanOut == null) {
                return;
            }
            FanOut.Phase f = fanOut.fanOut();
            md.append("## 4. Fan-out: SSE connections held on one query node while orders flow\n\n");
            md.append(String.format(Locale.ROOT, "The service in this JVM is the one query node. The client ends of the connections live in a child JVM "
                    + "(`FanOutClient`: one event loop, one HTTP client with a pool as large as the connections), since a process may hold "
                    + "%s open files here (`ulimit -n`, a hard limit) and the service's ends take one each. Each connection is "
                    + "`GET /api/customers/{id}/orders/stream` with the operator token, %d per customer (the push hub's per-customer "
                    + "limit), so %,d connections watch %,d customers. Orders are placed open loop at %d/s for %d s, round-robin over "
                    + "those customers, through the whole pipeline (command, relay, Kafka, saga, projector); each order changes twice "
                    + "(PENDING, then APPROVED), and each change goes to every connection of its customer.%n%n",
                    fanOut.openFileLimit() == Long.MAX_VALUE ? "unlimited" : String.format(Locale.ROOT, "%,d", fanOut.openFileLimit()),
                    dev.orders.query.push.PushSettings.defaults().maxConnectionsPerCustomer(), fanOut.connections(),
                    (fanOut.connections() + 19) / 20, f.rate(), f.seconds()));
            md.append("**Delivery latency**, per change and connection: from the change's `changed_at` in the order-change log (the "
                    + "projector's transaction, where the push hub takes over; its own push-latency meter starts there too) to the "
                    + "arrival of the SSE event at the client, both on this machine's wall clock, in an HdrHistogram. `changed_at` is "
                    + "`now()` in that transaction, its start, so the figure also holds the rest of the projector's transaction (and "
                    + "the commit); the baseline holds the same share. **Baseline**, same "
                    + "run: the same order rate with ONE connection open (on one of 5 customers the orders go to). \"Order placed to "
                    + "APPROVED\" runs from the order's scheduled send time to the arrival of its outcome at each watching connection "
                    + "(the whole pipeline, for context). A connection is **dropped** when the service ends its stream (the client sees "
                    + "the end; the hub counts a stalled client it drops); a delivery is **missing** when a connection did not get a "
                    + "change of its customer. **Heap**: this JVM (service and load generator) after a full GC, without connections, "
                    + "with all of them held, and after the flow; peak: the highest use sampled every 100 ms while the changes flowed "
                    + "(garbage included).\n\n");
            if (fanOut.capped() != null) {
                md.append(String.format(Locale.ROOT, "**Capped**: %,d connections were asked for, %,d opened: %s.%n%n",
                        fanOut.requested(), fanOut.connections(), fanOut.capped()));
            }
            md.append("| connections | held at the end | orders (failed) | changes | deliveries received of expected | p50 | p90 | p99 | p99.9 | max | order placed to APPROVED p50 / p99 | dropped | coalesced |\n"
                    + "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (FanOut.Phase p : List.of(fanOut.baseline(), f)) {
                md.append(String.format(Locale.ROOT, "| %s | %,d | %,d (%d) | %,d | %,d of %,d%s | **%.1f ms** | %.1f ms | **%.1f ms** | %.1f ms | %.1f ms | %.0f / %.0f ms | %d | %d |%n",
                        p.label(), p.heldAtEnd(), p.ordersPlaced(), p.ordersFailed(), p.changes(), p.delivered(), p.expected(),
                        p.duplicates() > 0 ? " (+" + p.duplicates() + " duplicates)" : "",
                        ms(p.delivery(), 50), ms(p.delivery(), 90), ms(p.delivery(), 99), ms(p.delivery(), 99.9),
                        p.delivery().getMaxValue() / 1e6, ms(p.fromCommand(), 50), ms(p.fromCommand(), 99),
                        p.droppedByHub() + p.closedByService(), p.coalesced()));
            }
            md.append(String.format(Locale.ROOT, "%nOpening the %,d connections took %.1f s (%d failed%s).%n%n", f.requested(), f.openSeconds(),
                    f.openFailed(), f.openFailed() > 0 ? ": " + f.openFailures() : ""));
            long perConnection = fanOut.connections() == 0 ? 0 : (fanOut.heapHeld() - fanOut.heapNoConnections()) / fanOut.connections();
            if (fanOutRuns.size() > 1) {
                md.append(String.format(Locale.ROOT, "Every run (the tables above and below show the run with the median p99, run %d):%n%n",
                        fanOutRuns.indexOf(fanOut) + 1));
                md.append("| run | delivery p50 | delivery p99 | 1 connection p99 | ratio p99 | heap held after GC | dropped | missing |\n"
                        + "|---|---|---|---|---|---|---|---|\n");
                for (int i = 0; i < fanOutRuns.size(); i++) {
                    FanOut.Result r = fanOutRuns.get(i);
                    md.append(String.format(Locale.ROOT, "| %d | %.1f ms | %.1f ms | %.1f ms | %.1fx | %,d MiB | %d | %d |%n", i + 1,
                            ms(r.fanOut().delivery(), 50), ms(r.fanOut().delivery(), 99), ms(r.baseline().delivery(), 99),
                            ms(r.fanOut().delivery(), 99) / Math.max(0.001, ms(r.baseline().delivery(), 99)), r.heapHeld() >> 20,
                            r.fanOut().droppedByHub() + r.fanOut().closedByService(), r.fanOut().missing()));
                }
                md.append(String.format(Locale.ROOT, "| **median** | **%.1f ms** | **%.1f ms** | **%.1f ms** | | **%,d MiB** | | |%n%n",
                        median(fanOutRuns, r -> ms(r.fanOut().delivery(), 50)), median(fanOutRuns, r -> ms(r.fanOut().delivery(), 99)),
                        median(fanOutRuns, r -> ms(r.baseline().delivery(), 99)), (long) median(fanOutRuns, r -> r.heapHeld() >> 20)));
            }
            md.append("| heap used | no connection, after GC | all held, after GC | after the flow, after GC | peak sampled during the flow | per connection | max heap (-Xmx) |\n|---|---|---|---|---|---|---|\n");
            md.append(String.format(Locale.ROOT, "| this JVM | %,d MiB | **%,d MiB** | **%,d MiB** | %,d MiB | %.1f KiB | %,d MiB |%n%n",
                    fanOut.heapNoConnections() >> 20, fanOut.heapHeld() >> 20, fanOut.heapEnd() >> 20, fanOut.heapPeak() >> 20,
                    perConnection / 1024.0, fanOut.heapMax() >> 20));
            Path relative = options.out().toAbsolutePath().getParent() == null ? options.fanOutChart()
                    : options.out().toAbsolutePath().getParent().relativize(options.fanOutChart().toAbsolutePath());
            md.append("![Fan-out delivery latency by percentile](").append(relative.toString().replace('\\', '/')).append(")\n\n");
        }

        private void rebuildSection(StringBuilder md) {
            if (rebuild == null || rebuild.runs().isEmpty()) {
                return;
            }
            md.append("## 5. Rebuild: projecting the stored events from scratch\n\n");
            md.append(String.format(Locale.ROOT, "`POST /api/admin/rebuild` (the query side's `Rebuilder`: reads the command side's event feed "
                    + "`GET /api/admin/events` in pages of 5,000, fetching the next while one is folded, folds each page into fresh tables in one transaction with the "
                    + "projector's logic, catches up with the live projector, then switches tables), timed from the request to the state "
                    + "`DONE` (its status polled every 100 ms). %,d stored events: %,d written for this benchmark in %.1f s with "
                    + "`COPY`, the rest by the other parts of this run. The written ones are valid histories (a customer and 20 orders: most approved, every tenth later cancelled, every twentieth "
                    + "rejected; 64 customers' histories interleaved) stored as published long ago, beyond Kafka's retention (numbered "
                    + "after the relay's checkpoint, the checkpoint moved past them, the query side's event log holding them as its live "
                    + "projector would have), so that the relay, saga and projector do not replay them through Kafka first.%n%n",
                    rebuild.storedEvents(), rebuild.written(), rebuild.writeSeconds()));
            md.append("**Baseline**, same run, right before each rebuild: a plain ordered scan of the events table "
                    + "(`" + Rebuild.SCAN + "`, one JDBC cursor fetching 10,000 rows at a time, every column read as text). "
                    + "**Where the time goes**: the event feed alone (the same pages over HTTP, bodies read, not decoded), and the "
                    + "rebuild's phases from its status.\n\n");
            md.append("| run | events read | time | **events/s** | reading and folding | catching up | switching | plain scan, events/s | ratio | event feed alone, events/s | slowest status answer |\n"
                    + "|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (int i = 0; i < rebuild.runs().size(); i++) {
                Rebuild.Run r = rebuild.runs().get(i);
                md.append(String.format(Locale.ROOT, "| %d | %,d | %.1f s | **%,.0f** | %.1f s | %.1f s | %.1f s | %,.0f | %.3f | %,.0f | %,.0f ms%s |%n",
                        i + 1, r.eventsRead(), r.seconds(), r.eventsPerSecond(), r.buildingSeconds(), r.catchingUpSeconds(),
                        r.switchingSeconds(), rebuild.scanRates().get(i), r.eventsPerSecond() / rebuild.scanRates().get(i),
                        rebuild.feedRates().get(i), r.slowestPollMillis(),
                        r.pollsUnanswered() > 0 ? " (" + r.pollsUnanswered() + " not answered within 10 s)" : ""));
            }
            double rate = median(rebuild.runs(), Rebuild.Run::eventsPerSecond);
            double scan = median(rebuild.scanRates());
            md.append(String.format(Locale.ROOT, "| **median** | | %.1f s | **%,.0f** | | | | **%,.0f** | **%.3f** | %,.0f | |%n%n",
                    median(rebuild.runs(), Rebuild.Run::seconds), rate, scan, rate / scan, median(rebuild.feedRates())));
            md.append("(\"Slowest status answer\": the longest `GET /api/admin/rebuild` round trip while the rebuild ran, a rough sign of "
                    + "how the service answers meanwhile.)\n\n");
            JsonObject first = rebuild.runs().getFirst().status();
            JsonObject last = rebuild.runs().getLast().status();
            if (first.containsKey("switch")) {
                md.append("The switch of the first run: `").append(first.getJsonObject("switch").encode()).append("`; of the last: `")
                        .append(last.getJsonObject("switch", new JsonObject()).encode()).append("`. The first one finds every "
                        + "generated order and customer differing from the live views, which never saw the generated events; the "
                        + "later ones rebuild what the first one switched in.\n\n");
            }
        }

        /** The bare chain's runs at its top rate, with the orders' own commits grouped or one each. */
        private List<BareChain.Run> ceilingRuns(boolean grouped) {
            return bareChain.stream().filter(r -> r.rate() == BARE_CHAIN_CEILING_RATE && r.grouped() == grouped).toList();
        }

        /** Whether every such run fell behind the top rate: what they completed is the chain's ceiling. */
        private boolean ceilingReached(boolean grouped) {
            return ceilingRuns(grouped).stream().allMatch(BareChain.Run::overloaded);
        }

        private void throughputSection(StringBuilder md) {
            if (service.isEmpty()) {
                return;
            }
            md.append("## 1. Command throughput: `POST /api/orders` vs pgbench\n\n");
            md.append(String.format(Locale.ROOT, "Closed loop: each of N clients sends the next order when the last one is answered, for %d s per run, "
                    + "to 64 customers with the largest credit limit the API takes (a fresh set for every run); the relay, the saga, "
                    + "the projector and the push hub all run, so every order also costs its saga (ReserveCredit, ApproveOrder) and its "
                    + "projection. **Accepted/s**: `202` answers inside the window per second (intake). **Settled/s**: every order accepted "
                    + "(in the window or just after it) divided by the time from the start until nothing was in flight any more (no "
                    + "unpublished event, no open saga deadline, no order PENDING in the read model; polled every 200 ms), so a queue "
                    + "that intake leaves behind counts against it. The ratio to pgbench is the settled rate's. Between runs the "
                    + "harness waits until every order is settled (\"settled after\"), so one run's tail does not load the next.%n%n",
                    options.throughputSeconds()));
            md.append("pgbench, the same PostgreSQL server in the same run (so the same durability: `" + durability + "`, read from "
                    + "the server), same concurrency, run right after each service run: `pgbench -n -f insert.sql -c N -j N -T "
                    + options.throughputSeconds() + " orders` with\n\n```sql\n" + pgbenchScript + "\n```\n\n");
            md.append("**HTTP alone**, same run, right after each pgbench run: the same clients in the same closed loop sending "
                    + "`GET /health/live` (answered by the router: no storage, no body) through the same client and server, while the "
                    + "system idles: the most answers a second a request reaches here at that concurrency, whatever it does.\n\n");
            if (intakeAlone) {
                md.append("**This run measures the command hop alone**: its system is an API-only node (`--set"
                        + " command.workers=false`), which appends each order and runs nothing after that (no relay, saga,"
                        + " projection or push), so no order settles: the first column and the ratio are the accepted rate's, and"
                        + " nothing is waited for after a run.\n\n");
            }
            md.append("| clients | " + (intakeAlone ? "**accepted/s** (API-only node), median (runs)" : "**settled/s**, median (runs)")
                    + " | accepted/s (intake), median | pgbench tps, median (runs) | ratio " + (intakeAlone ? "accepted" : "settled") + " / pgbench | service p50 / p99 | failed | settled after (median) | HTTP alone, answers/s, median (runs) | HTTP alone / pgbench |\n|---|---|---|---|---|---|---|---|---|---|\n");
            for (int clients : options.clients()) {
                List<Throughput.ServiceRun> s = service.stream().filter(r -> r.clients() == clients).toList();
                List<Throughput.PgbenchRun> p = pgbench.stream().filter(r -> r.clients() == clients).toList();
                double sm = median(s, intakeAlone ? Throughput.ServiceRun::opsPerSecond : Throughput.ServiceRun::settledPerSecond);
                double pm = median(p, Throughput.PgbenchRun::tps);
                List<Throughput.HttpRun> h = httpAlone.stream().filter(r -> r.clients() == clients).toList();
                double hm = median(h, Throughput.HttpRun::answersPerSecond);
                md.append(String.format(Locale.ROOT, "| %d | **%,.0f/s** (%s) | %,.0f/s | **%,.0f** (%s) | **%.2f** | %.1f / %.1f ms | %d | %.1f s | %,.0f/s (%s) | %.2f |%n",
                        clients, sm, list(s, intakeAlone ? Throughput.ServiceRun::opsPerSecond : Throughput.ServiceRun::settledPerSecond),
                        median(s, Throughput.ServiceRun::opsPerSecond),
                        pm, list(p, Throughput.PgbenchRun::tps), sm / pm,
                        median(s, Throughput.ServiceRun::p50Millis), median(s, Throughput.ServiceRun::p99Millis),
                        s.stream().mapToLong(Throughput.ServiceRun::failed).sum(),
                        median(s, r -> r.drainMillis() / 1000.0), hm, list(h, Throughput.HttpRun::answersPerSecond), hm / pm));
            }
            md.append("\n");
            double worstSpread = 0;
            for (int clients : options.clients()) {
                worstSpread = Math.max(worstSpread, spread(service.stream().filter(r -> r.clients() == clients).toList(),
                        Throughput.ServiceRun::opsPerSecond));
                worstSpread = Math.max(worstSpread, spread(pgbench.stream().filter(r -> r.clients() == clients).toList(),
                        Throughput.PgbenchRun::tps));
            }
            md.append(String.format(Locale.ROOT, "Run-to-run spread ((max - min) / median) was up to %.0f%%%s.%n%n", 100 * worstSpread,
                    worstSpread > 0.2 ? ": **noise is large** on this shared machine; trust the ratios more than the absolute numbers" : ""));
        }

        private void latencySection(StringBuilder md, Path chartPath) {
            if (latency.isEmpty() && quiet.isEmpty()) {
                return;
            }
            md.append("## 2. Command to browser: `POST /api/orders` to APPROVED/REJECTED on SSE, and the highest sustained rate\n\n");
            md.append(String.format(Locale.ROOT, "Open loop: at a fixed rate, order i is due at start + i/rate, fixed in advance; its latency runs from that "
                    + "**scheduled send** (not from when it was actually sent) to the moment its APPROVED or REJECTED state arrives on "
                    + "`GET /api/customers/{id}/orders/stream`, so a stall of the generator, the client pool or the service counts in full "
                    + "(no coordinated omission); HdrHistogram, 3 significant digits. Each run has %d **fresh customers** (created for it, "
                    + "checked to be new to the harness and to hold only their CustomerCreated; %,d customers in all, none used twice), one "
                    + "SSE stream each, orders of 1.00 EUR spread round-robin over them; each customer's credit limit is 1,000,000,000.00 EUR, "
                    + "so every order should be APPROVED and any REJECTED is counted with its reason. **Accepted**: answered `202` "
                    + "(every request has a deadline, %d s for an order: a stuck one counts as failed). **Settled**: its APPROVED or "
                    + "REJECTED view seen on the stream. **Settled/s**: settled orders divided by the time from the first scheduled send "
                    + "to the last settlement (intake/s, the `202`s per second, is shown beside it, never alone). **Not settled**: accepted "
                    + "but no outcome within the tail (up to 60 s after the last send, as stated per run). A run stops early as "
                    + "**overloaded** when more than 2 s worth of orders wait for their `202` or their outcome. Baseline, same run: "
                    + "`GET /health/live` at 100/s, open loop, through the same server, router and client.%n%n",
                    options.latencyCustomers(), EndToEnd.customersUsed(), Http.ORDER_TIMEOUT.toSeconds()));
            md.append(String.format(Locale.ROOT, "**Sustained** rate: no POST failed, every accepted order settled within %d s of its scheduled "
                    + "send, and the p99 stayed under %d ms, in every run of that rate. The search: the steps %s orders/s in turn "
                    + "(%d s and %d run(s) each) until one is not sustained (if the first one is not, it is halved until a rate is, "
                    + "down to the quiet rate), then %d bisection(s) between the highest sustained and the lowest not sustained rate. The quiet system: %d orders/s for %d s, %d run(s) of its own before the search.%n%n",
                    EndToEnd.SETTLE_WITHIN_MILLIS / 1000, EndToEnd.P99_UNDER_MILLIS, options.rates(), options.latencySeconds(),
                    options.searchRuns(), options.bisections(), options.quietRate(), options.quietSeconds(), options.runs()));
            md.append("PostgreSQL durability during these runs, read from the server: `").append(durability).append("`.\n\n");
            md.append("**Highest sustained rate: ").append(sustainedText()).append("**.\n\n");
            md.append("| run | rate | length | scheduled | accepted (202) | failed | settled | rejected: timeout / limit / other | not settled (tail) "
                    + "| **settled/s** (over) | intake/s | p50 | p99 | p99.9 | max | POST answered p50 / p99 | baseline p50 | sustained |\n"
                    + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            List<EndToEnd.Run> all = new ArrayList<>(quiet);
            all.addAll(latency);
            for (EndToEnd.Run r : all) {
                md.append(String.format(Locale.ROOT, "| %s | %d/s | %s | %,d | %,d | %d | %,d | %d / %d / %d | %d (%d s) | **%.1f** (%.1f s) | %.1f "
                                + "| **%.1f ms** | **%.1f ms** | %.1f ms | %.1f ms | %.1f / %.1f ms | %.2f ms | %s |%n",
                        r.kind(), r.rate(), r.aborted() ? String.format(Locale.ROOT, "%.1f of %d s", r.abortedAfterSeconds(), r.seconds())
                                : r.seconds() + " s",
                        r.scheduled(), r.accepted(), r.failed(), r.settled(), r.rejectedTimeout(), r.rejectedLimit(), r.rejectedOther(),
                        r.unsettled(), r.tailSeconds(), r.settledPerSecond(), r.settleSpanSeconds(), r.acceptedPerSecond(),
                        ms(r.endToEnd(), 50), ms(r.endToEnd(), 99), ms(r.endToEnd(), 99.9), r.endToEnd().getMaxValue() / 1e6,
                        ms(r.command(), 50), ms(r.command(), 99), ms(r.baseline(), 50),
                        r.sustained() ? "**yes**" : "no: " + r.whyNotSustained()));
            }
            md.append("\n(Percentiles are over the settled orders; orders not settled are counted, not in them. \"Over\": first scheduled "
                    + "send to last settlement.)\n\n");
            boolean repeated = quiet.size() > 1
                    || searchedRates().stream().anyMatch(rate -> latency.stream().filter(r -> r.rate() == rate).count() > 1);
            if (repeated) {
                md.append("Medians over the runs of the quiet system and of each searched rate (a searched rate's runs stop at the first that does not sustain it):\n\n");
                md.append("| rate | runs | settled/s | p50 | p99 | runs' p50 | runs' p99 | sustained in every run |\n|---|---|---|---|---|---|---|---|\n");
                Map<String, List<EndToEnd.Run>> byRate = new LinkedHashMap<>();
                if (!quiet.isEmpty()) {
                    byRate.put("quiet " + options.quietRate(), quiet);
                }
                for (int rate : searchedRates()) {
                    byRate.put(Integer.toString(rate), latency.stream().filter(r -> r.rate() == rate).toList());
                }
                for (Map.Entry<String, List<EndToEnd.Run>> rate : byRate.entrySet()) {
                    List<EndToEnd.Run> runs = rate.getValue();
                    md.append(String.format(Locale.ROOT, "| %s/s | %d | **%.1f** | **%.1f ms** | **%.1f ms** | %s | %s | %s |%n", rate.getKey(), runs.size(),
                            median(runs, EndToEnd.Run::settledPerSecond), median(runs, r -> ms(r.endToEnd(), 50)),
                            median(runs, r -> ms(r.endToEnd(), 99)), list(runs, r -> ms(r.endToEnd(), 50)),
                            list(runs, r -> ms(r.endToEnd(), 99)), runs.stream().allMatch(EndToEnd.Run::sustained) ? "yes" : "no"));
                }
                md.append("\n");
            }
            md.append("**Where the time goes**, hop by hop, over each run's APPROVED orders (p50 / p99 of each hop on its own; the "
                    + "percentiles of the hops do not add up to the total's). The client's times (scheduled send, POST handed to the "
                    + "client, SSE arrival) are this JVM's wall clock; `occurred_at` of the events is stamped by the command side in this "
                    + "JVM (the same clock) when it decides, before its transaction commits; `changed_at` of the order-change log is "
                    + "`now()` of the projector's transaction (its start), PostgreSQL's clock, corrected by the offset to this JVM's clock "
                    + "measured once per run (same machine: ");
            md.append(all.stream().map(r -> String.format(Locale.ROOT, "%+.2f ms", r.dbClockOffsetMillis())).distinct().limit(6)
                    .reduce((x, y) -> x + ", " + y).orElse("-")).append("). Where several runs share a rate, the medians over them. "
                    + "The CPU rows read each part's CPU time from `/proc` at the first send and at the last outcome and divide it by "
                    + "the orders the run settled: the service (this JVM's CPU less the load generator's), the broker's JVM, "
                    + "PostgreSQL's processes, the load generator (the one event-loop thread of this JVM that sends the orders and "
                    + "reads the streams, from the JVM's thread CPU time), and every other process on the machine (work the harness "
                    + "did not start and cannot stop); the machine's two cores give 2,000 ms of CPU a second, so a rate's "
                    + "ceiling is 2,000 ms divided by the CPU per order of all of them.\n\n");
            List<String> columns = new ArrayList<>();
            List<List<EndToEnd.Run>> groups = new ArrayList<>();
            if (!quiet.isEmpty()) {
                columns.add("quiet " + options.quietRate() + "/s");
                groups.add(quiet);
            }
            for (int rate : searchedRates()) {
                List<EndToEnd.Run> runs = latency.stream().filter(r -> r.rate() == rate).toList();
                columns.add(rate + "/s" + (runs.stream().allMatch(EndToEnd.Run::sustained) ? "" : " (not sustained)"));
                groups.add(runs);
            }
            md.append("| hop |");
            columns.forEach(c -> md.append(' ').append(c).append(" p50 / p99 |"));
            md.append("\n|---|").append("---|".repeat(columns.size())).append('\n');
            for (int i = 0; i < EndToEnd.HOPS.length; i++) {
                int hop = i;
                md.append("| ").append(EndToEnd.HOPS[i]).append(" |");
                for (List<EndToEnd.Run> runs : groups) {
                    md.append(String.format(Locale.ROOT, " %.1f / %.1f ms |", median(runs, r -> r.hops()[hop].p50()),
                            median(runs, r -> r.hops()[hop].p99())));
                }
                md.append('\n');
            }
            List<Map.Entry<String, ToDoubleFunction<EndToEnd.Run>>> cpuRows = List.of(
                    Map.entry("CPU per settled order: the service (this JVM less the load generator)", r -> r.cpu().serviceMs()),
                    Map.entry("CPU per settled order: Kafka broker", r -> r.cpu().brokerMs()),
                    Map.entry("CPU per settled order: PostgreSQL", r -> r.cpu().postgresMs()),
                    Map.entry("CPU per settled order: the three together (the system's own)", r -> r.cpu().systemMs()),
                    Map.entry("CPU per settled order: the load generator (its thread in this JVM)", r -> r.cpu().generatorMs()),
                    Map.entry("CPU per settled order: other work on the machine", r -> r.cpu().otherMs()));
            for (Map.Entry<String, ToDoubleFunction<EndToEnd.Run>> row : cpuRows) {
                md.append("| ").append(row.getKey()).append(" |");
                for (List<EndToEnd.Run> runs : groups) {
                    md.append(String.format(Locale.ROOT, " %.2f ms |", median(runs, r -> row.getValue().applyAsDouble(r))));
                }
                md.append('\n');
            }
            md.append("| machine busy, all cores, while the run lasted |");
            for (List<EndToEnd.Run> runs : groups) {
                md.append(String.format(Locale.ROOT, " %.0f%% |", median(runs, r -> r.cpu().machineBusyPercent())));
            }
            md.append('\n');
            md.append("| the service JVM's JIT compiling while the run lasted (ms a second; warm: a few) |");
            for (List<EndToEnd.Run> runs : groups) {
                md.append(String.format(Locale.ROOT, " %.0f ms/s |", median(runs, r -> r.cpu().jitMsPerSecond())));
            }
            md.append('\n');
            md.append("| approved orders measured |");
            for (List<EndToEnd.Run> runs : groups) {
                md.append(' ').append(runs.stream().mapToInt(r -> r.hops()[0].orders()).sum()).append(" |");
            }
            md.append("\n\n");
            Path relative = options.out().toAbsolutePath().getParent() == null ? chartPath
                    : options.out().toAbsolutePath().getParent().relativize(chartPath.toAbsolutePath());
            md.append("![Latency by percentile](").append(relative.toString().replace('\\', '/')).append(")\n\n");
        }

        private void aggregateSection(StringBuilder md) {
            if (aggregate.isEmpty()) {
                return;
            }
            md.append("## 3. Aggregate load: a Customer with 10 vs 10,000 events\n\n");
            md.append(String.format(Locale.ROOT, "`CommandHandler.load` of the running command side (`app.commandSide().handler()`): the latest "
                    + "snapshot, then the events after it, folded with `Customer.evolve`; `snapshot.every` = 100 (default). The histories: "
                    + "CustomerCreated, then credit reserved and released for one order after another (so the 10,000-event customer "
                    + "carried 5,000 settled orders in its state before issue 14; now its state holds only its open reservations). They are appended through the command side's `EventStore` "
                    + "in batches with the snapshot the handler would have taken, and published by the relay like any other events. "
                    + "%d loads per size, sizes interleaved, after 30 warm-up rounds; each timed from the caller's thread "
                    + "(a blocking wait on the future).%n%n", options.loads()));
            md.append("| customer | events read per load | median | p90 | p99 | ratio to 10 events |\n|---|---|---|---|---|---|\n");
            double base = aggregate.get(0).medianMicros();
            for (AggregateLoad.Result r : aggregate) {
                md.append(String.format(Locale.ROOT, "| %s | %d | **%.2f ms** | %.2f ms | %.2f ms | **%.1fx** |%n", r.label(),
                        r.eventsReadPerLoad(), r.medianMicros() / 1e3, r.p90Micros() / 1e3, r.p99Micros() / 1e3,
                        r.medianMicros() / base));
            }
            md.append("\n");
        }

        /** The median over the runs of one ceiling stage (0 the three appends alone, the last every row of the design). */
        private double ceilingMedian(int stage, ToDoubleFunction<WriteCeiling.Stage> value) {
            return median(ceiling.stream().filter(r -> r.stage() == stage).toList(), value);
        }

        /**
         * Why the intake target is missed, when the ceiling was measured: the system's share of pgbench against
         * PostgreSQL's own for the design's writes, and the one-row INSERTs of PostgreSQL's time each stage takes an
         * order against the 1/0.6 the target leaves.
         */
        private String ceilingVerdict(double systemShare) {
            if (ceiling.isEmpty()) {
                return "";
            }
            int last = WriteCeiling.STAGES.size() - 1;
            StringBuilder stages = new StringBuilder();
            double before = 0;
            for (int stage = 0; stage <= last; stage++) {
                double upTo = ceilingMedian(stage, WriteCeiling.Stage::inserts);
                stages.append(String.format(Locale.ROOT, "%s%s %.1f", stage == 0 ? "" : ", ",
                        stage == 0 ? "its three appends alone take" : WriteCeiling.STAGES.get(stage).substring(2).split(":")[0],
                        upTo - before));
                before = upTo;
            }
            double thinnest = ceilingMedian(WriteCeiling.THINNEST, WriteCeiling.Stage::share);
            return String.format(Locale.ROOT, ": PostgreSQL alone writes this design's rows of an order at %.0f%% of pgbench and the"
                            + " system settles %.0f%% of that; the 60%% asked leaves an order %.2f one-row INSERTs of PostgreSQL's"
                            + " time, and %s; the three appends with the thinnest read model take %.2f (%.0f%% of pgbench)%s"
                            + " (section 1's ceiling)", 100 * ceilingMedian(last, WriteCeiling.Stage::share),
                    100 * systemShare / ceilingMedian(last, WriteCeiling.Stage::share), 1 / 0.6, stages,
                    ceilingMedian(WriteCeiling.THINNEST, WriteCeiling.Stage::inserts), 100 * thinnest, thinnest < 0.6
                            ? ", so no design with this event store and a read model in this PostgreSQL reaches 60% here" : "");
        }

        /**
         * The ceiling's three summary rows (the three appends alone; with the thinnest read model; every row of the
         * design), each against the system's settled share.
         */
        private void ceilingRows(StringBuilder md, double systemShare) {
            if (ceiling.isEmpty()) {
                return;
            }
            for (int stage : List.of(0, WriteCeiling.THINNEST, WriteCeiling.STAGES.size() - 1)) {
                double share = ceilingMedian(stage, WriteCeiling.Stage::share);
                md.append(String.format(Locale.ROOT, "| PostgreSQL alone writing %s, %d clients (pgbench, section 1's ceiling): orders a"
                                + " second | (a ceiling, no target) | %,.0f orders/s (%d run(s)) | pgbench %,.0f tps, right before each | %.0f%% |"
                                + " the system settles %.0f%% of this share |%n",
                        stage == 0 ? "an order's three appends (nothing else)" : stage == WriteCeiling.THINNEST
                                ? "an order's three appends and the thinnest read model (one row an order, its status)"
                                : "every row this design writes for an order", ceilingClients,
                        ceilingMedian(stage, WriteCeiling.Stage::ordersPerSecond), ceiling.stream().filter(r -> r.stage() == stage).count(),
                        ceilingMedian(stage, WriteCeiling.Stage::baselineTps), 100 * share, 100 * systemShare / share));
            }
        }

        /** One row of the ceiling's table: a measurement's medians and runs, and what it adds ({@code own}). */
        private void ceilingRow(StringBuilder md, String name, int stage, String own) {
            List<WriteCeiling.Stage> runs = ceiling.stream().filter(r -> r.stage() == stage).toList();
            md.append(String.format(Locale.ROOT, "| %s | %,.0f (%s) | **%.0f%%** (%s) | %,.0f | **%.2f** | %s |%n", name,
                    ceilingMedian(stage, WriteCeiling.Stage::ordersPerSecond), list(runs, WriteCeiling.Stage::ordersPerSecond),
                    100 * ceilingMedian(stage, WriteCeiling.Stage::share),
                    String.join(", ", runs.stream().map(r -> String.format(Locale.ROOT, "%.0f%%", 100 * r.share())).toList()),
                    ceilingMedian(stage, WriteCeiling.Stage::baselineTps), ceilingMedian(stage, WriteCeiling.Stage::inserts), own));
        }

        /** PostgreSQL alone writing this design's rows, stage by stage, each against the baseline right before it. */
        private void ceilingSection(StringBuilder md) {
            if (ceiling.isEmpty()) {
                return;
            }
            md.append(service.isEmpty() ? "## 1. PostgreSQL's ceiling for this design's writes\n\n"
                    : "### PostgreSQL's ceiling for this design's writes\n\n");
            md.append(String.format(Locale.ROOT, "What the server alone does with the whole machine, writing the rows the system "
                    + "writes for an order, while the system idles: pgbench (`-M prepared`, %d clients, %d s a run) on a scratch "
                    + "database of the same server, migrated by the sides' own migrations (the same tables and indexes), in rounds "
                    + "of %d orders in the transactions the system writes them in, each order's customer one of 64 of its pgbench "
                    + "client's own. The chain's stages are added one at a time (`benchmarks/src/main/resources/ceiling/`): "
                    + "`three-appends.sql` (an order's OrderCreated, CreditReserved and OrderApproved in the group commit and the "
                    + "saga's two batches, and nothing else: what any design that stores an order as these three events in this "
                    + "store writes), then `saga-deadlines.sql` (armed and answered), `relay-read.sql` (the relay's read of what it "
                    + "publishes, as stored text) and `projection.sql` (the projector's transaction: the event log's copy of the "
                    + "events, the order and customer views, the change log and its latest rows, the checkpoint); and beside them "
                    + "the three appends with `thinnest-read-model.sql` (one row an order with its status, no other index, "
                    + "written and decided in one transaction a round: fewer writes than any read model that shows PENDING "
                    + "first). No HTTP, Kafka, "
                    + "JSON parsing or decision: PostgreSQL's share alone. Each script runs right after section 1's one-row "
                    + "INSERT%s at the same concurrency and length, on the system's database: each its own moment's baseline. "
                    + "**One-row INSERTs an order**: that baseline's rows a second over the script's orders a second, so "
                    + "PostgreSQL's time an order in units of the baseline's row; the 60%% target leaves an order %.2f of them, "
                    + "for everything the system writes.%n%n", ceilingClients, options.throughputSeconds(),
                    WriteCeiling.ORDERS_PER_ROUND, service.isEmpty() ? " (`" + pgbenchScript + "`)" : "", 1 / 0.6));
            md.append("| stages | orders/s, median (runs) | share of pgbench, median (runs) | pgbench tps right before, median "
                    + "| one-row INSERTs an order | the stage's own (difference of medians) |\n|---|---|---|---|---|---|\n");
            double before = 0;
            for (int stage = 0; stage < WriteCeiling.STAGES.size(); stage++) {
                ceilingRow(md, WriteCeiling.STAGES.get(stage), stage, String.format(Locale.ROOT, "%.2f",
                        ceilingMedian(stage, WriteCeiling.Stage::inserts) - before));
                before = ceilingMedian(stage, WriteCeiling.Stage::inserts);
            }
            ceilingRow(md, "beside them: an order's three appends and the thinnest read model (`thinnest-read-model.sql`: one "
                            + "row an order, key, customer and status, written and decided in one transaction a round; what no "
                            + "design with this event store and a read model leaves out)", WriteCeiling.THINNEST,
                    String.format(Locale.ROOT, "%.2f (over the three appends alone)", ceilingMedian(WriteCeiling.THINNEST,
                            WriteCeiling.Stage::inserts) - ceilingMedian(0, WriteCeiling.Stage::inserts)));
            md.append("\n");
        }

        /** The parts a quiet order cannot do without, each alone, and what they add up to along an order's chain. */
        private void floorSection(StringBuilder md) {
            if (floor == null) {
                return;
            }
            md.append("## 4. The floor: what one quiet order cannot do without\n\n");
            md.append("Each part alone, one round trip at a time (5 ms apart, after a tenth as many for warm-up), on the same "
                    + "embedded PostgreSQL and Kafka broker as the system, while the system idles; timed from this JVM's "
                    + "calling thread (a blocking wait on the answer, which adds a thread hand-off like the service's own). ")
                    .append(FLOOR_SAMPLES).append(" round trips each.\n\n");
            md.append("| part | what | p50 | p90 | p99 |\n|---|---|---|---|---|\n");
            for (Floor.Part part : floor.all()) {
                md.append(String.format(Locale.ROOT, "| %s | %s | **%.2f ms** | %.2f ms | %.2f ms |%n", part.name(), part.what(),
                        part.p50(), part.p90(), part.p99()));
            }
            double chain = floor.chainP50();
            md.append(String.format(Locale.ROOT, "%nAlong a quiet order's chain (the order's commit; then three times: the relay's "
                    + "read and Kafka; the saga's commit twice, the projector's once; Kafka acknowledged twice, consumed once): "
                    + "4 commits + 3 reads + 2 acknowledged sends + 1 consumed send = **%.1f ms** of p50s, before any of the "
                    + "system's own work, hand-offs or the push to the browser.", chain));
            if (!quiet.isEmpty()) {
                md.append(String.format(Locale.ROOT, " The quiet runs of this report measured p50 %.1f ms end to end (median).",
                        median(quiet, r -> ms(r.endToEnd(), 50))));
            }
            md.append("\n\n");
            bareChainSection(md);
        }

        /** A summary row under the system's figure at {@code rate}: the bare chain's at the same rate, and the ratio. */
        private void bareChainRow(StringBuilder md, int rate, double systemP50) {
            List<BareChain.Run> runs = bareChain.stream().filter(r -> r.rate() == rate).toList();
            if (runs.isEmpty()) {
                return;
            }
            double p50 = median(runs, r -> ms(r.latency(), 50));
            md.append(String.format(Locale.ROOT, "| the same rate through the bare chain (the chain's I/O alone, section 4) | (a floor, no target) "
                            + "| p50 %.1f ms, p99 %.1f ms (%d run(s)) | | the system's p50 = %.1fx the bare chain's | |%n",
                    p50, median(runs, r -> ms(r.latency(), 99)), runs.size(), systemP50 / p50));
        }

        /** The chain's input and output alone at the system's rates, beside the system's own figures at those rates. */
        private void bareChainSection(StringBuilder md) {
            if (bareChain.isEmpty()) {
                return;
            }
            md.append("### The chain's input and output alone, at a rate (the bare chain)\n\n");
            md.append("Open loop at a fixed rate, timed from each order's scheduled time, on the same PostgreSQL server and Kafka "
                    + "broker and through the same clients as the system (the command side's pool, a Kafka producer with the "
                    + "relay's settings, Kafka consumers polling on threads of their own), while the system idles beside it. "
                    + "An order is only what no design of this chain can leave out: its commit of one row; then three times a "
                    + "Kafka hop (one partition a topic) and a stage's commit, each stage committing what one poll brought in "
                    + "one multi-row INSERT and sending each record on straight after that commit, from memory (no relay "
                    + "read, no outbox). No HTTP, aggregate, decision, JSON parsing or push to a browser. Done when the third "
                    + "stage's commit has answered. CPU per order: this JVM (the chain's threads, the idle system beside "
                    + "them), the broker and PostgreSQL (`/proc`, as in section 2). Beside each rate, the system's own "
                    + "figures at that rate in this report (section 2). **Completed/s**: orders done divided by the time from the "
                    + "first scheduled send to the last one done. The last rate, " + String.format(Locale.ROOT, "%,d", BARE_CHAIN_CEILING_RATE)
                    + "/s, is meant to be past what the chain does on this machine: a run stops once more than 2 s of orders are "
                    + "behind, and what such runs complete a second is the chain's **ceiling** (their latencies measure the queue)"
                    + (ceilingReached(false) ? ""
                    : "; **in this report at least one of its runs kept up with it, so the ceiling lies higher** and its figure is a "
                    + "lower bound") + ". That rate is run once more with the orders' own commits **grouped**, as a service that "
                    + "group-commits its intake would: an order that arrives while four groups are being committed waits, and "
                    + "all that waited go in the next group, one multi-row INSERT and one commit for all of them"
                    + (ceilingReached(true) ? "" : " (at least one of these runs kept up with the rate too)") + ".\n\n");
            md.append("| rate | runs | orders done | completed/s | p50 | p99 | runs' p50 | runs' p99 | CPU per order (JVM / broker / PostgreSQL) "
                    + "| machine busy | the system at this rate: p50 / p99 | the system's CPU per order | system p50 / bare chain p50 |\n");
            md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            Map<String, List<BareChain.Run>> rows = new LinkedHashMap<>();
            bareChain.stream().sorted(Comparator.comparingInt(BareChain.Run::rate).thenComparing(BareChain.Run::grouped))
                    .forEach(run -> rows.computeIfAbsent(run.rate() + "/s" + (run.grouped() ? ", grouped" : ""),
                            key -> new ArrayList<>()).add(run));
            for (Map.Entry<String, List<BareChain.Run>> entry : rows.entrySet()) {
                List<BareChain.Run> runs = entry.getValue();
                int rate = runs.getFirst().rate();
                double p50 = median(runs, r -> ms(r.latency(), 50));
                double p99 = median(runs, r -> ms(r.latency(), 99));
                List<EndToEnd.Run> system = rate == options.quietRate() && !quiet.isEmpty() ? quiet
                        : latency.stream().filter(r -> r.rate() == rate).toList();
                String systemLatency = "not measured in this report";
                String systemCpu = "";
                String ratio = "";
                if (!system.isEmpty()) {
                    double systemP50 = median(system, r -> ms(r.endToEnd(), 50));
                    systemLatency = String.format(Locale.ROOT, "%.1f / %.1f ms", systemP50, median(system, r -> ms(r.endToEnd(), 99)));
                    systemCpu = String.format(Locale.ROOT, "%.2f ms", median(system, r -> r.cpu().systemMs()));
                    ratio = String.format(Locale.ROOT, "**%.1fx**", systemP50 / p50);
                }
                md.append(String.format(Locale.ROOT, "| %s | %d | %s | %,.0f | **%.1f ms** | **%.1f ms** | %s | %s | %.2f ms (%.2f / %.2f / %.2f) "
                                + "| %.0f%% | %s | %s | %s |%n", entry.getKey(), runs.size(),
                        runs.stream().map(r -> r.completed() + " of " + r.scheduled()
                                + (r.overloaded() ? String.format(Locale.ROOT, " (overloaded, stopped after %.1f s)",
                                r.abortedAfterSeconds()) : "")).collect(java.util.stream.Collectors.joining(", ")),
                        median(runs, BareChain.Run::completedPerSecond), p50, p99, runs.stream().map(r -> String.format(Locale.ROOT, "%.1f", ms(r.latency(), 50)))
                                .collect(java.util.stream.Collectors.joining(", ")),
                        runs.stream().map(r -> String.format(Locale.ROOT, "%.1f", ms(r.latency(), 99)))
                                .collect(java.util.stream.Collectors.joining(", ")),
                        median(runs, r -> r.cpu().systemMs() + r.cpu().generatorMs()),
                        median(runs, r -> r.cpu().serviceMs() + r.cpu().generatorMs()), median(runs, r -> r.cpu().brokerMs()),
                        median(runs, r -> r.cpu().postgresMs()), median(runs, r -> r.cpu().machineBusyPercent()),
                        systemLatency, systemCpu, ratio));
            }
            md.append("\n");
        }

        private void notMeasured(StringBuilder md) {
            md.append("## Not measured\n\n");
            md.append("- **Fan-out past 20,000 connections** (the stretch goal, 40,000): one process may hold 20,000 open files here "
                    + "(`ulimit -n`, a hard limit), so one query node cannot hold 40,000 sockets on this machine; the push hub's "
                    + "per-node limit (`PushSettings.maxConnections`, 20,000) is not configurable through `OrdersConfig` either; and "
                    + "one client address has about 28,000 ephemeral ports towards one server port, so the clients would also need "
                    + "several loopback addresses (127.0.0.2, ...).\n");
            if (!options.only().contains("ceiling")) {
                md.append("- **PostgreSQL's ceiling for this design's writes** was not part of this run (`--only`).\n");
            }
            if (!options.only().contains("fanout")) {
                md.append("- **Fan-out** was not part of this run (`--only`).\n");
            }
            if (!options.only().contains("rebuild")) {
                md.append("- **Rebuild** was not part of this run (`--only`).\n");
            }
            md.append("- **Metrics** (`/metrics`) are checked by the tests (`MetricsTest` in all-in-one: each meter moves when its "
                    + "event happens), not measured here.\n");
        }

        private static <T> String list(List<T> items, ToDoubleFunction<T> value) {
            return String.join(", ", items.stream().map(i -> String.format(Locale.ROOT, value.applyAsDouble(i) >= 100 ? "%,.0f" : "%.1f",
                    value.applyAsDouble(i))).toList());
        }
    }

    static Duration ofSeconds(long s) {
        return Duration.ofSeconds(s);
    }
}
