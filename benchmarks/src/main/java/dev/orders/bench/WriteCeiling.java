package dev.orders.bench;

import dev.orders.command.store.CommandSchema;
import dev.orders.devservers.Infrastructure;
import dev.orders.devservers.PgDatabase;
import dev.orders.query.QuerySide;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * PostgreSQL's ceiling for this design's writes: what the server alone does, with the whole machine, writing the
 * rows the system writes for an order, measured with pgbench on a scratch database of the same server, migrated
 * by the sides' own migrations (so the same tables and indexes). The chain's stages are added one at a time, each
 * script holding the stages before it (resources under {@code ceiling/}):
 * <ol>
 *   <li>{@code three-appends.sql}: an order's three appends alone, in the three transactions the system appends them
 *       in, 16 orders a round (what any design storing an order as these three events in this store writes);</li>
 *   <li>{@code saga-deadlines.sql}: the saga's deadlines, armed and answered;</li>
 *   <li>{@code relay-read.sql}: the relay's read of what it publishes;</li>
 *   <li>{@code projection.sql}: the projector's transaction (the event log's copy, the views, the change log and its
 *       latest rows, the checkpoint); with it, every row the system writes or reads in PostgreSQL for an order.</li>
 * </ol>
 * Beside them, what no design with this event store and a read model leaves out: the three appends and
 * {@code thinnest-read-model.sql}, one row an order with its status and nothing else, written and decided in one
 * transaction a round. Each script runs right after the harness's one-row INSERT (section 1's baseline), so that
 * each gets a baseline of its own moment. The system idles meanwhile; the scratch database is dropped afterwards.
 */
final class WriteCeiling {

    /** Orders a round of each script; pgbench's tps counts rounds. */
    static final int ORDERS_PER_ROUND = 16;
    /** The design's stages, in the order they are added: their names (the scripts, in {@link #SCRIPTS}). */
    static final List<String> STAGES = List.of("an order's three appends alone", "+ the saga's deadlines",
            "+ the relay's read", "+ the projector's transaction: every row this design writes for an order");
    /** The index, in a run's measurements, of the three appends with the thinnest read model, after the stages. */
    static final int THINNEST = 4;
    /** What each measurement runs: the design's stages, each with those before it; then the thinnest read model. */
    private static final List<List<String>> SCRIPTS = List.of(
            List.of("three-appends.sql"),
            List.of("three-appends.sql", "saga-deadlines.sql"),
            List.of("three-appends.sql", "saga-deadlines.sql", "relay-read.sql"),
            List.of("three-appends.sql", "saga-deadlines.sql", "relay-read.sql", "projection.sql"),
            List.of("three-appends.sql", "thinnest-read-model.sql"));
    private static final String DATABASE = "design_writes";
    private static final Map<String, String> SEARCH_PATH = Map.of("PGOPTIONS", "-c search_path=command,query,public");

    /**
     * One measurement of one run: orders a second of the stages up to {@code stage} ({@link #THINNEST}: the three
     * appends with the thinnest read model), and the one-row INSERT's tps right before.
     */
    record Stage(int stage, double baselineTps, double ordersPerSecond) {

        /** Orders a second as a share of the baseline's rows a second. */
        double share() {
            return ordersPerSecond / baselineTps;
        }

        /** PostgreSQL's time an order, in one-row INSERTs: the baseline's rows a second over orders a second. */
        double inserts() {
            return baselineTps / ordersPerSecond;
        }
    }

    private final SystemUnderTest system;

    WriteCeiling(SystemUnderTest system) {
        this.system = system;
    }

    /**
     * {@code runs} runs of the stages' scripts at {@code clients} (pgbench prepared), {@code seconds} each, each after
     * {@code baseline} (the one-row INSERT on the system's database) at the same concurrency and length.
     */
    List<Stage> run(int runs, int clients, int seconds, Path baseline) throws Exception {
        List<Path> scripts = new ArrayList<>();
        try {
            for (List<String> names : SCRIPTS) {
                StringBuilder text = new StringBuilder();
                for (String name : names) {
                    text.append(resource(name)).append('\n');
                }
                Path script = Files.createTempFile("ceiling-", ".sql");
                Files.writeString(script, text, StandardCharsets.UTF_8);
                scripts.add(script);
            }
            createDatabase();
            List<Stage> done = new ArrayList<>();
            for (int run = 1; run <= runs; run++) {
                StringBuilder line = new StringBuilder();
                for (int stage = 0; stage < scripts.size(); stage++) {
                    double base = Throughput.runPgbench(system.pg(), Infrastructure.DATABASE, baseline, clients, seconds,
                            List.of(), Map.of()).tps();
                    double rounds = Throughput.runPgbench(system.pg(), DATABASE, scripts.get(stage), clients, seconds,
                            List.of("-M", "prepared"), SEARCH_PATH).tps();
                    Stage one = new Stage(stage, base, rounds * ORDERS_PER_ROUND);
                    done.add(one);
                    line.append(String.format(Locale.ROOT, "%s%,.0f/s (%.0f%% of %,.0f tps)", stage == 0 ? "" : "; ",
                            one.ordersPerSecond(), 100 * one.share(), one.baselineTps()));
                }
                Benchmarks.progress("  ceiling run %d/%d, orders/s as the stages are added, then the thinnest read model: %s",
                        run, runs, line);
            }
            return done;
        } finally {
            system.execute("drop database if exists " + DATABASE + " with (force)");
            for (Path script : scripts) {
                Files.deleteIfExists(script);
            }
        }
    }

    /** A fresh scratch database with the service's schemas, migrated as the sides migrate theirs, and setup.sql. */
    private void createDatabase() throws Exception {
        system.execute("drop database if exists " + DATABASE + " with (force)");
        PgDatabase database = system.provisioner().provision(DATABASE);
        Http.await(CommandSchema.MIGRATIONS.migrate(system.app().vertx(), database.commandPgUri()), Duration.ofMinutes(2));
        Http.await(QuerySide.MIGRATIONS.migrate(system.app().vertx(), database.queryPgUri()), Duration.ofMinutes(2));
        try (Connection connection = system.provisioner().superuserConnection(DATABASE);
             Statement statement = connection.createStatement()) {
            statement.execute(resource("setup.sql"));
        }
    }

    static String resource(String name) throws IOException {
        try (InputStream in = WriteCeiling.class.getResourceAsStream("/ceiling/" + name)) {
            if (in == null) {
                throw new IllegalStateException("ceiling/" + name + " is not on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
