package dev.orders.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The command line of {@link Benchmarks}: what to measure, how long and how often. */
record Options(boolean quick, int runs, int throughputSeconds, List<Integer> clients, int latencySeconds,
               List<Integer> rates, int searchRuns, int bisections, int quietRate, int quietSeconds,
               int latencyCustomers, int loads, int connections, int fanOutRate,
               int fanOutSeconds, int events, int rebuildRuns, Set<String> only, Path out, Path chart, Path fanOutChart,
               Path dataDir, Map<String, String> settings, int warmupSeconds, int warmupMaxSeconds,
               String commandLine) {

    static final Set<String> PARTS = Set.of("throughput", "ceiling", "latency", "aggregate", "floor", "fanout", "rebuild");

    static String usage() {
        return """
                Orders benchmarks: starts the whole system in this JVM on the embedded PostgreSQL and Kafka,
                drives it, and writes BENCHMARKS.md plus SVG charts of latency percentiles.

                Usage (from the repository root, after `mvn -q install -DskipTests`):
                  java -jar benchmarks/target/benchmarks.jar [--quick] [options]

                Measurements (each figure the median of --runs runs, each with a same-run baseline):
                  throughput  POST /api/orders, closed loop at --clients concurrent clients, against pgbench
                              (a one-row INSERT into a scratch table of the same PostgreSQL, same -c/-j/-T)
                  ceiling     PostgreSQL alone writing this design's rows of an order (pgbench, prepared, at
                              the highest --clients, on a scratch database of the same server migrated by the
                              sides' own migrations): an order's three appends alone, the stages of the
                              chain added one at a time up to every row the system writes for it, and the
                              appends with the thinnest read model; each after the throughput part's
                              one-row INSERT (--runs runs of 10 pgbench runs of --throughput-seconds)
                  latency     open loop at fixed rates: from the SCHEDULED send time of POST /api/orders
                              to that order's APPROVED/REJECTED on an SSE stream
                              GET /api/customers/{id}/orders/stream (HdrHistogram; no coordinated omission).
                              Each run reports orders accepted (202), settled (outcome seen on the stream),
                              settled orders/s (first scheduled send to last settlement), not settled within
                              the tail, rejections by reason, and the hops from the stored timestamps.
                              First --runs quiet runs (--quiet-rate), then the search for the highest SUSTAINED
                              rate: --rates stepped up until one is not sustained (the first step
                              halved until one is, if it is not), then --bisections midpoints.
                              Sustained = no POST failed, every accepted order settled within 2 s
                              of its scheduled send, p99 under 1 s, in every run of that rate.
                              Every run has fresh customers (checked). Baseline: GET /health/live, same run
                  aggregate   CommandHandler.load of a Customer with 10 vs 10,000 events (snapshots on)
                  floor       what a quiet order cannot do without, each part alone on the same servers:
                              a PostgreSQL commit and read of one row, a Kafka send until acknowledged
                              (the relay's producer settings) and until consumed; their sum along an
                              order's chain
                  fanout      --connections SSE streams held on the one query node (clients in a child
                              JVM) while orders flow at --fanout-rate: delivery latency from the change
                              log to each client, drops, heap; baseline: the same flow with 1 connection
                  rebuild     POST /api/admin/rebuild over --events events written for it (plus what the
                              other parts stored), timed to DONE, against a plain ordered scan of the
                              events table (JDBC cursor), same run

                Options:
                  --quick                 short runs: 10 s per throughput run, 10 s and 1 run per searched
                                          rate, 20 s quiet runs, 300 loads, 1,000 fan-out connections
                                          for 15 s, a rebuild of 50,000 events
                  --runs N                runs per figure (default 3; the search's runs per rate too,
                                          except with --quick unless --runs is given)
                  --throughput-seconds S  length of each throughput run (default 30; 10 with --quick)
                  --clients 1,8,32        concurrencies of the throughput runs
                  --latency-seconds S     length of each searched rate's run (default 60; 10 with --quick)
                  --rates 250,500,...     the search's steps, orders/s (default 250,500,750,1000,1500,2000)
                  --bisections N          midpoints tried after the steps (default 2; 0 for none)
                  --quiet-rate N          the quiet system's rate, orders/s (default 5)
                  --quiet-seconds S       each quiet run's length (default 60; 20 with --quick)
                  --latency-customers N   customers (one SSE stream each) per open-loop run (default 16)
                  --loads N               aggregate loads per size (default 1000; 300 with --quick)
                  --connections N         fan-out: SSE connections (default 10000; 1000 with --quick)
                  --fanout-rate N         fan-out: orders per second while they are held (default 50)
                  --fanout-seconds S      fan-out: length of each phase (default 30; 15 with --quick)
                  --events N              rebuild: events written for it (default 1000000; 50000 with --quick)
                  --rebuild-runs N        rebuilds, each after its baselines (default: --runs)
                  --only a,b              only these parts: throughput, ceiling, latency, aggregate, floor,
                                          fanout, rebuild
                  --warmup-seconds S      warm-up before measuring: orders at 8 clients for at least S s
                                          (default 15; 8 with --quick; 0 for none), then rounds (10 s at
                                          8 clients, 10 s at 250/s watched on SSE streams) until the
                                          JIT compiles under 30 ms a second
                  --warmup-max-seconds S  the warm-up's longest (default 300)
                  --out FILE              the report (default BENCHMARKS.md)
                  --chart FILE            the SVG chart (default docs/bench-latency.svg)
                  --fanout-chart FILE     the fan-out's SVG chart (default docs/bench-fanout.svg)
                  --data-dir DIR          embedded servers' data (default: a fresh temporary folder)
                  --set KEY=VALUE         a setting of the system under test, as in its configuration
                                          (repeatable; say --set saga.commit-handoff=false); the report's
                                          command line names it; --set command.workers=false with
                                          --only throughput measures the command hop alone (an
                                          API-only node: nothing after the append runs or settles)
                  --help                  this text

                Needs pgbench (Debian: apt-get install -y postgresql-client). The system's own logs go to
                benchmarks/target/benchmarks.log (-Dbench.log=FILE to change).
                """;
    }

    static Options parse(String[] args) {
        boolean quick = Arrays.asList(args).contains("--quick");
        int runs = 3;
        int throughputSeconds = quick ? 10 : 30;
        List<Integer> clients = List.of(1, 8, 32);
        int latencySeconds = quick ? 10 : 60;
        List<Integer> rates = List.of(250, 500, 750, 1000, 1500, 2000);
        int bisections = 2;
        int quietRate = 5;
        int quietSeconds = quick ? 20 : 60;
        boolean runsGiven = false;
        int latencyCustomers = 16;
        int loads = quick ? 300 : 1000;
        int connections = quick ? 1_000 : 10_000;
        int fanOutRate = 50;
        int fanOutSeconds = quick ? 15 : 30;
        int events = quick ? 50_000 : 1_000_000;
        Integer rebuildRuns = null;
        Set<String> only = new LinkedHashSet<>(List.of("throughput", "ceiling", "latency", "aggregate", "floor", "fanout", "rebuild"));
        Path out = Path.of("BENCHMARKS.md");
        Path chart = Path.of("docs", "bench-latency.svg");
        Path fanOutChart = Path.of("docs", "bench-fanout.svg");
        Path dataDir = null;
        Map<String, String> settings = new LinkedHashMap<>();
        int warmup = quick ? 8 : 15;
        int warmupMax = 300;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            if (name.equals("--quick")) {
                continue;
            }
            String value;
            if (arg.contains("=")) {
                value = arg.substring(arg.indexOf('=') + 1);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException(arg + " needs a value");
            }
            switch (name) {
                case "--runs" -> {
                    runs = positive(name, value);
                    runsGiven = true;
                }
                case "--bisections" -> bisections = Integer.parseInt(value);
                case "--quiet-rate" -> quietRate = positive(name, value);
                case "--quiet-seconds" -> quietSeconds = positive(name, value);
                case "--throughput-seconds" -> throughputSeconds = positive(name, value);
                case "--clients" -> clients = ints(name, value);
                case "--latency-seconds" -> latencySeconds = positive(name, value);
                case "--rates" -> rates = ints(name, value);
                case "--latency-customers" -> latencyCustomers = positive(name, value);
                case "--loads" -> loads = positive(name, value);
                case "--connections" -> connections = positive(name, value);
                case "--fanout-rate" -> fanOutRate = positive(name, value);
                case "--fanout-seconds" -> fanOutSeconds = positive(name, value);
                case "--events" -> events = positive(name, value);
                case "--rebuild-runs" -> rebuildRuns = positive(name, value);
                case "--warmup-seconds" -> warmup = Integer.parseInt(value);
                case "--warmup-max-seconds" -> warmupMax = Integer.parseInt(value);
                case "--only" -> {
                    only = new LinkedHashSet<>();
                    for (String part : value.split(",")) {
                        if (!PARTS.contains(part.strip())) {
                            throw new IllegalArgumentException("--only: unknown part '" + part + "'; one of " + PARTS);
                        }
                        only.add(part.strip());
                    }
                }
                case "--out" -> out = Path.of(value);
                case "--chart" -> chart = Path.of(value);
                case "--fanout-chart" -> fanOutChart = Path.of(value);
                case "--data-dir" -> dataDir = Path.of(value);
                case "--set" -> {
                    int equals = value.indexOf('=');
                    if (equals < 1) {
                        throw new IllegalArgumentException("--set needs KEY=VALUE, was '" + value + "'");
                    }
                    settings.put(value.substring(0, equals), value.substring(equals + 1));
                }
                default -> throw new IllegalArgumentException("unknown option " + arg + " (see --help)");
            }
        }
        if ("false".equals(settings.get("command.workers")) && !only.equals(Set.of("throughput"))) {
            throw new IllegalArgumentException("--set command.workers=false measures the command hop alone (no relay,"
                    + " saga or projection, so no order settles): it goes with --only throughput");
        }
        int searchRuns = quick && !runsGiven ? 1 : runs;
        List<Integer> steps = rates.stream().sorted().distinct().toList();
        return new Options(quick, runs, throughputSeconds, clients, latencySeconds, steps, searchRuns, bisections,
                quietRate, quietSeconds, latencyCustomers, loads,
                connections, fanOutRate, fanOutSeconds, events, rebuildRuns == null ? runs : rebuildRuns, only, out, chart, fanOutChart, dataDir, Map.copyOf(settings), warmup, warmupMax,
                "java -jar benchmarks/target/benchmarks.jar" + (args.length == 0 ? "" : " " + String.join(" ", args)));
    }

    private static int positive(String name, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " needs a whole number >= 1, was '" + value + "'");
        }
    }

    private static List<Integer> ints(String name, String value) {
        List<Integer> list = new ArrayList<>();
        for (String part : value.split(",")) {
            list.add(positive(name, part.strip()));
        }
        return List.copyOf(list);
    }
}
