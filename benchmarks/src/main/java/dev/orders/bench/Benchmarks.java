package dev.orders.bench;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.ToDoubleFunction;

/**
 * The benchmark harness: starts the system in this JVM on the embedded PostgreSQL and Kafka, measures
 * command throughput (against pgbench), command-to-browser latency (open loop, against a same-run
 * baseline) and aggregate load times (10 vs 10,000 events), and writes {@code BENCHMARKS.md} and an
 * SVG chart. Run on demand: {@code java -jar benchmarks/target/benchmarks.jar --quick}; see {@code --help}.
 */
public final class Benchmarks {

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
        command.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
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
        if (options.only().contains("throughput")) {
            pgbenchVersion = Throughput.pgbenchVersion();
            if (pgbenchVersion == null) {
                System.err.println("benchmarks: pgbench not found; install it (Debian: apt-get install -y postgresql-client)"
                        + " or leave the throughput part out (--only latency,aggregate)");
                return 2;
            }
        }
        Machine machine = Machine.describe();
        String started = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        long t0 = System.nanoTime();
        progress("starting PostgreSQL, Kafka and the service (logs: %s)", System.getProperty("bench.log"));
        Report report = new Report(options, machine, started, pgbenchVersion);
        Throwable failure = null;
        try (SystemUnderTest system = SystemUnderTest.start(options.dataDir());
             Http http = new Http(system.host(), system.port())) {
            report.postgres = system.postgresVersion();
            report.kafka = system.kafkaVersion();
            report.loadBefore = Machine.loadAverage();
            progress("system up at %s in %.0f s; PostgreSQL %s; Kafka %s", system.app().url(), seconds(t0),
                    system.pg().host() + ":" + system.pg().port(), report.kafka);

            if (options.warmupSeconds() > 0) {
                progress("warm-up: %d s of orders at 8 clients (not measured)", options.warmupSeconds());
                List<UUID> warm = http.createCustomers(32, "warmup");
                new Throughput(system, http).runService(8, options.warmupSeconds(), warm);
                new EndToEnd(system, http).baseline(2);
            }
            if (options.only().contains("throughput")) {
                throughput(options, system, http, report);
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

    private static void throughput(Options options, SystemUnderTest system, Http http, Report report) throws Exception {
        Throughput throughput = new Throughput(system, http);
        Path script = Files.createTempFile("bench-insert-", ".sql");
        throughput.createScratchTable(script);
        report.pgbenchScript = Files.readString(script).strip();
        for (int clients : options.clients()) {
            List<UUID> customers = http.createCustomers(64, "tp-" + clients);
            for (int run = 1; run <= options.runs(); run++) {
                Throughput.ServiceRun service = throughput.runService(clients, options.throughputSeconds(), customers);
                Throughput.PgbenchRun pgbench = throughput.runPgbench(script, clients, options.throughputSeconds());
                report.service.add(service);
                report.pgbench.add(pgbench);
                progress("  throughput c=%-2d run %d/%d: POST /api/orders %7.0f/s (p50 %.1f ms, p99 %.1f ms, %d failed,"
                                + " settled %.1f s later) | pgbench %7.0f tps | ratio %.2f",
                        clients, run, options.runs(), service.opsPerSecond(), service.p50Millis(), service.p99Millis(),
                        service.failed(), service.drainMillis() / 1000.0, pgbench.tps(),
                        service.opsPerSecond() / pgbench.tps());
            }
        }
        Files.deleteIfExists(script);
        system.execute("drop table if exists " + Throughput.SCRATCH_TABLE);
    }

    private static void latency(Options options, SystemUnderTest system, Http http, Report report) throws Exception {
        EndToEnd endToEnd = new EndToEnd(system, http);
        boolean saturated = false;
        for (int rate : options.rates()) {
            int runs = saturated ? 1 : options.runs();
            boolean allAborted = true;
            for (int run = 1; run <= runs; run++) {
                EndToEnd.Run r = endToEnd.run(rate, options.latencySeconds(), options.latencyCustomers());
                report.latency.add(r);
                allAborted &= r.aborted() || r.missing() > 0;
                if (r.aborted()) {
                    progress("  command-to-browser %4d/s run %d/%d: OVERLOADED, stopped after %.1f s (over 2 s of orders"
                            + " not yet answered or not yet pushed); what was sent is still measured", rate, run, runs,
                            r.abortedAfterSeconds());
                }
                progress("  command-to-browser %4d/s run %d/%d: p50 %7.1f ms  p99 %7.1f ms  p99.9 %7.1f ms  max %7.1f ms"
                                + " | command p50 %.1f ms | baseline p50 %.2f ms | delivered %d/%d%s",
                        rate, run, runs, ms(r.endToEnd(), 50), ms(r.endToEnd(), 99), ms(r.endToEnd(), 99.9),
                        r.endToEnd().getMaxValue() / 1e6, ms(r.command(), 50), ms(r.baseline(), 50), r.delivered(),
                        r.scheduled(), r.failed() + r.missing() > 0
                                ? " (" + r.failed() + " failed, " + r.missing() + " not pushed in time)" : "");
            }
            if (allAborted && !saturated) {
                saturated = true;
                progress("  every run at %d/s overloaded the system: higher rates run once each", rate);
            }
        }
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

    private static void progress(String format, Object... args) {
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
        String loadBefore = "unknown";
        String loadAfter = "unknown";
        String pgbenchScript = "";
        String failure;
        long heapUsedMiB;
        double totalSeconds;
        final List<Throughput.ServiceRun> service = new ArrayList<>();
        final List<Throughput.PgbenchRun> pgbench = new ArrayList<>();
        final List<EndToEnd.Run> latency = new ArrayList<>();
        List<AggregateLoad.Result> aggregate = List.of();

        Report(Options options, Machine machine, String started, String pgbenchVersion) {
            this.options = options;
            this.machine = machine;
            this.started = started;
            this.pgbenchVersion = pgbenchVersion;
        }

        void write() throws Exception {
            Path chartPath = options.chart();
            Map<String, Histogram> series = new LinkedHashMap<>();
            for (int rate : options.rates()) {
                List<EndToEnd.Run> runs = latency.stream().filter(r -> r.rate() == rate).toList();
                if (runs.isEmpty()) {
                    continue;
                }
                Histogram merged = new Histogram(runs.get(0).endToEnd().getHighestTrackableValue(), 3);
                runs.forEach(r -> merged.add(r.endToEnd()));
                series.put(rate + " orders/s, to browser", merged);
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
                    .append(" minutes. Rerun it to replace this file; `--help` lists the options.\n\n");
            md.append("```sh\n")
                    .append("export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH   # any JDK 21+\n")
                    .append("mvn -B -q install -DskipTests\n")
                    .append(options.commandLine()).append("\n```\n\n");
            md.append("It starts the whole system in its own JVM (`OrdersApp.start`, the all-in-one: command side with relay and saga, "
                    + "query side with projector and push hub) on the embedded PostgreSQL and Kafka, drives it over HTTP from a "
                    + "load generator in the same JVM (its own Vert.x instance, one event loop), and runs `pgbench` as a child "
                    + "process. Every figure is the **median of " + options.runs() + " runs**, and each comes with a baseline "
                    + "measured in the same run and the ratio to it.\n\n");
            md.append("## Machine\n\n");
            md.append("| | |\n|---|---|\n");
            md.append("| cores | ").append(machine.cores()).append(" (").append(machine.cpu()).append(")").append(" |\n");
            md.append("| memory | ").append(String.format(Locale.ROOT, "%,d MiB", machine.memoryMiB())).append(" |\n");
            md.append("| OS | ").append(machine.os()).append(" |\n");
            md.append("| JDK | ").append(machine.jdk()).append(" |\n");
            md.append("| PostgreSQL | ").append(postgres).append(" (embedded, zonky binaries; `fsync=off` in development mode) |\n");
            md.append("| Kafka | ").append(kafka).append(" |\n");
            if (pgbenchVersion != null) {
                md.append("| pgbench | ").append(pgbenchVersion).append(" |\n");
            }
            md.append("| load average (1/5/15 min) | before: ").append(loadBefore).append("; after: ").append(loadAfter)
                    .append(" (other engineers' builds and tests share these cores) |\n");
            md.append("| heap used by the JVM at the end | ").append(heapUsedMiB).append(" MiB (service and load generator together) |\n\n");
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
            latencySection(md, chartPath);
            aggregateSection(md);
            notMeasured(md);
            return md.toString();
        }

        private void summary(StringBuilder md) {
            md.append("## Summary against the targets of issue 10\n\n");
            md.append("| figure | target | measured (median) | baseline, same run | ratio | verdict |\n|---|---|---|---|---|---|\n");
            if (!service.isEmpty()) {
                int top = options.clients().stream().mapToInt(Integer::intValue).max().orElse(32);
                double s = median(service.stream().filter(r -> r.clients() == top).toList(), Throughput.ServiceRun::opsPerSecond);
                double p = median(pgbench.stream().filter(r -> r.clients() == top).toList(), Throughput.PgbenchRun::tps);
                md.append(String.format(Locale.ROOT, "| command throughput, %d clients | >= 60%% of pgbench | %,.0f orders/s | pgbench %,.0f tps | %.0f%% | %s |%n",
                        top, s, p, 100 * s / p, s / p >= 0.6 ? "**met**" : "**missed**"));
            }
            List<EndToEnd.Run> at500 = latency.stream().filter(r -> r.rate() == 500).toList();
            if (!at500.isEmpty()) {
                double p50 = median(at500, r -> ms(r.endToEnd(), 50));
                double p99 = median(at500, r -> ms(r.endToEnd(), 99));
                double base = median(at500, r -> ms(r.baseline(), 50));
                long missing = at500.stream().mapToLong(r -> r.missing() + r.failed()).sum();
                boolean aborted = at500.stream().anyMatch(EndToEnd.Run::aborted);
                boolean met = p50 <= 15 && p99 <= 50 && missing == 0 && !aborted;
                md.append(String.format(Locale.ROOT, "| command to browser at 500/s | p50 <= 15 ms, p99 <= 50 ms | p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms | GET /health/live p50 %.2f ms | p50 = %.0fx baseline | %s |%n",
                        p50, p99, median(at500, r -> ms(r.endToEnd(), 99.9)), base, p50 / base,
                        met ? "**met**" : "**missed**" + (aborted ? " (overloaded: the system fell behind 500/s)" : "")
                                + (missing > 0 ? " (" + missing + " orders failed or not pushed)" : "")));
            }
            if (!aggregate.isEmpty()) {
                AggregateLoad.Result small = aggregate.get(0);
                AggregateLoad.Result big = aggregate.get(1);
                double ratio = big.medianMicros() / small.medianMicros();
                md.append(String.format(Locale.ROOT, "| aggregate load, 10 vs 10,000 events | within 2x | %.2f ms (10,000) | %.2f ms (10 events) | %.1fx | %s |%n",
                        big.medianMicros() / 1e3, small.medianMicros() / 1e3, ratio, ratio <= 2 ? "**met**" : "**missed**"));
            }
            md.append("| fan-out, 10,000 SSE connections | delivery p99 <= 250 ms, heap <= 512 MiB | not measured | | | **not measured** (see below) |\n");
            md.append("| rebuild, 1,000,000 events | >= 50,000 events/s | not measured | | | **not measured** (see below) |\n\n");
        }

        private void throughputSection(StringBuilder md) {
            if (service.isEmpty()) {
                return;
            }
            md.append("## 1. Command throughput: `POST /api/orders` vs pgbench\n\n");
            md.append(String.format(Locale.ROOT, "Closed loop: each of N clients sends the next order when the last one is answered, for %d s per run, "
                    + "to 64 customers with the largest credit limit the API takes (a fresh set per concurrency level); the relay, the saga, "
                    + "the projector and the push hub all run, so every order also costs its saga (ReserveCredit, ApproveOrder) and its "
                    + "projection. Counted: `202` answers inside the window. Between runs the harness waits until every order is decided "
                    + "and projected (\"settled after\"), so one run's tail does not load the next.%n%n", options.throughputSeconds()));
            md.append("pgbench, same PostgreSQL, same concurrency, run right after each service run: `pgbench -n -f insert.sql -c N -j N -T "
                    + options.throughputSeconds() + " orders` with\n\n```sql\n" + pgbenchScript + "\n```\n\n");
            md.append("| clients | POST /api/orders, median (runs) | pgbench tps, median (runs) | ratio | service p50 / p99 | failed | settled after (median) |\n|---|---|---|---|---|---|---|\n");
            for (int clients : options.clients()) {
                List<Throughput.ServiceRun> s = service.stream().filter(r -> r.clients() == clients).toList();
                List<Throughput.PgbenchRun> p = pgbench.stream().filter(r -> r.clients() == clients).toList();
                double sm = median(s, Throughput.ServiceRun::opsPerSecond);
                double pm = median(p, Throughput.PgbenchRun::tps);
                md.append(String.format(Locale.ROOT, "| %d | **%,.0f/s** (%s) | **%,.0f** (%s) | **%.2f** | %.1f / %.1f ms | %d | %.1f s |%n",
                        clients, sm, list(s, Throughput.ServiceRun::opsPerSecond), pm, list(p, Throughput.PgbenchRun::tps), sm / pm,
                        median(s, Throughput.ServiceRun::p50Millis), median(s, Throughput.ServiceRun::p99Millis),
                        s.stream().mapToLong(Throughput.ServiceRun::failed).sum(),
                        median(s, r -> r.drainMillis() / 1000.0)));
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
            if (latency.isEmpty()) {
                return;
            }
            md.append("## 2. Command to browser: `POST /api/orders` to APPROVED/REJECTED on SSE\n\n");
            md.append(String.format(Locale.ROOT, "Open loop: at a fixed rate, order i is due at start + i/rate, fixed in advance; its latency runs from that "
                    + "**due time** (not from when it was actually sent) to the moment its APPROVED or REJECTED state arrives on "
                    + "`GET /api/customers/{id}/orders/stream`, so a stall of the generator, the client pool or the service counts in full "
                    + "(no coordinated omission). Recorded in an HdrHistogram (3 significant digits). %d s per run, %d fresh customers per run, "
                    + "one SSE stream each, orders spread round-robin over them. Baseline, same run: `GET /health/live` at 100/s, "
                    + "open loop, through the same server, router and client. \"POST answered\" is the time to the `202`, also from the due time.%n%n",
                    options.latencySeconds(), options.latencyCustomers()));
            md.append("| rate | p50 | p99 | p99.9 | max | POST answered p50 / p99 | baseline p50 | p50 / baseline | delivered | runs' p50 | runs' p99 |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (int rate : options.rates()) {
                List<EndToEnd.Run> runs = latency.stream().filter(r -> r.rate() == rate).toList();
                if (runs.isEmpty()) {
                    continue;
                }
                double p50 = median(runs, r -> ms(r.endToEnd(), 50));
                double base = median(runs, r -> ms(r.baseline(), 50));
                long scheduled = runs.stream().mapToLong(EndToEnd.Run::scheduled).sum();
                long delivered = runs.stream().mapToLong(EndToEnd.Run::delivered).sum();
                long aborted = runs.stream().filter(EndToEnd.Run::aborted).count();
                long lost = runs.stream().mapToLong(r -> r.missing() + r.failed()).sum();
                md.append(String.format(Locale.ROOT, "| %d/s%s | **%.1f ms** | **%.1f ms** | %.1f ms | %.1f ms | %.1f / %.1f ms | %.2f ms | %.0fx | %d of %d | %s | %s |%n",
                        rate, (lost > 0 ? " (lower bounds: " + lost + " orders not pushed in time are not in the percentiles)" : "")
                                + (aborted == 0 ? "" : String.format(Locale.ROOT, " (%d of %d runs overloaded, stopped after %s s)",
                                aborted, runs.size(), list(runs.stream().filter(EndToEnd.Run::aborted).toList(),
                                        EndToEnd.Run::abortedAfterSeconds))), p50, median(runs, r -> ms(r.endToEnd(), 99)), median(runs, r -> ms(r.endToEnd(), 99.9)),
                        median(runs, r -> r.endToEnd().getMaxValue() / 1e6),
                        median(runs, r -> ms(r.command(), 50)), median(runs, r -> ms(r.command(), 99)), base, p50 / base,
                        delivered, scheduled, list(runs, r -> ms(r.endToEnd(), 50)), list(runs, r -> ms(r.endToEnd(), 99))));
            }
            md.append("\nWhere the time goes (medians over the runs of each hop's median, from the timestamps stored by the "
                    + "command side and the projector; the rest of the end-to-end time is the command itself, the push and the client):\n\n");
            md.append("| rate |");
            for (String stage : EndToEnd.STAGES) {
                md.append(' ').append(stage).append(" |");
            }
            md.append("\n|---|").append("---|".repeat(EndToEnd.STAGES.length)).append('\n');
            for (int rate : options.rates()) {
                List<EndToEnd.Run> runs = latency.stream().filter(r -> r.rate() == rate).toList();
                if (runs.isEmpty()) {
                    continue;
                }
                md.append("| ").append(rate).append("/s |");
                for (int i = 0; i < EndToEnd.STAGES.length; i++) {
                    int stage = i;
                    md.append(String.format(Locale.ROOT, " %.1f ms |", median(runs, r -> r.stagesMillis()[stage])));
                }
                md.append('\n');
            }
            md.append("\n(All columns are medians over the runs; \"delivered\" sums them: an order is missing if its POST failed or its outcome "
                    + "was not pushed within 60 s of the last send. A run is stopped as **overloaded** when more than 2 s worth of "
                    + "orders are waiting for their `202`: the service cannot sustain that rate, latency would only grow with the "
                    + "run's length, and the figures of such a run describe a queue, not the service. When every run of a rate is "
                    + "overloaded, the higher rates run once each.)\n\n");
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
                    + "carries 5,000 settled orders in its state and snapshot). They are appended through the command side's `EventStore` "
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

        private void notMeasured(StringBuilder md) {
            md.append("## Not measured yet\n\n");
            md.append("- **Fan-out** (10,000 SSE connections on one node, delivery p99, heap, no dropped readers): not built in this "
                    + "harness yet. It needs clients spread over several loopback addresses (127.0.0.2, ...) and probably processes "
                    + "(about 28,000 ephemeral ports per address, 20,000 open files per process), and the push hub's per-node "
                    + "connection limit (`PushSettings.maxConnections`) raised for the run.\n");
            md.append("- **Rebuild** (projecting 1,000,000 stored events from scratch, vs a plain ordered scan of the events table): "
                    + "not built yet. It needs a way to reset and replay the projector; another engineer is adding a rebuild API to "
                    + "the query side (`RebuildRoutes`, not yet committed), which the harness can drive once it lands.\n");
            md.append("- **Metrics and traces** (`/metrics`, correlation ids through the pipeline) are the other half of issue 10 and "
                    + "are not part of this module.\n");
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
