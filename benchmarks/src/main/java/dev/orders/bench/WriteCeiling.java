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
import java.util.Map;

/**
 * PostgreSQL's ceiling for this design's writes: what the server alone does, with the whole machine, writing the
 * rows the system writes for an order, measured with pgbench on a scratch database of the same server, migrated
 * by the sides' own migrations (so the same tables and indexes). Two scripts, each run right after the
 * harness's one-row INSERT (section 1's baseline) so that each gets a baseline of its own moment:
 * <ul>
 *   <li>{@code ceiling/three-appends.sql}: an order's three appends alone, in the three transactions the system
 *       appends them in, 16 orders a round (what any design storing an order as these three events in this store
 *       writes);</li>
 *   <li>the same followed by {@code ceiling/beyond-the-appends.sql}: everything else the system writes or reads in
 *       PostgreSQL for those orders (the saga's deadlines, the relay's read, the projector's event log copy, views,
 *       change log and checkpoint).</li>
 * </ul>
 * The system idles meanwhile; the scratch database is dropped afterwards.
 */
final class WriteCeiling {

    /** Orders a round of each script; pgbench's tps counts rounds. */
    static final int ORDERS_PER_ROUND = 16;
    private static final String DATABASE = "design_writes";
    private static final Map<String, String> SEARCH_PATH = Map.of("PGOPTIONS", "-c search_path=command,query,public");

    /** One run: each script's orders a second, and the one-row INSERT's tps measured right before it. */
    record Run(double appendsBaselineTps, double appendsPerSecond, double writesBaselineTps, double writesPerSecond) {

        /** Orders a second of the three appends alone, as a share of the baseline right before them. */
        double appendsShare() {
            return appendsPerSecond / appendsBaselineTps;
        }

        /** Orders a second of the design's writes, as a share of the baseline right before them. */
        double writesShare() {
            return writesPerSecond / writesBaselineTps;
        }
    }

    private final SystemUnderTest system;

    WriteCeiling(SystemUnderTest system) {
        this.system = system;
    }

    /**
     * {@code runs} runs of the two scripts at {@code clients} (pgbench prepared), {@code seconds} each, each after
     * {@code baseline} (the one-row INSERT on the system's database) at the same concurrency and length.
     */
    List<Run> run(int runs, int clients, int seconds, Path baseline) throws Exception {
        Path appends = Files.createTempFile("ceiling-appends-", ".sql");
        Path writes = Files.createTempFile("ceiling-writes-", ".sql");
        try {
            Files.writeString(appends, resource("three-appends.sql"), StandardCharsets.UTF_8);
            Files.writeString(writes, resource("three-appends.sql") + "\n" + resource("beyond-the-appends.sql"),
                    StandardCharsets.UTF_8);
            createDatabase();
            List<Run> done = new ArrayList<>();
            for (int run = 1; run <= runs; run++) {
                double appendsBaseline = Throughput.runPgbench(system.pg(), Infrastructure.DATABASE,
                        baseline, clients, seconds, List.of(), Map.of()).tps();
                double appendsRounds = design(appends, clients, seconds);
                double writesBaseline = Throughput.runPgbench(system.pg(), Infrastructure.DATABASE,
                        baseline, clients, seconds, List.of(), Map.of()).tps();
                double writesRounds = design(writes, clients, seconds);
                Run one = new Run(appendsBaseline, appendsRounds * ORDERS_PER_ROUND, writesBaseline,
                        writesRounds * ORDERS_PER_ROUND);
                done.add(one);
                Benchmarks.progress("  ceiling run %d/%d: pgbench %,.0f tps; three appends %,.0f orders/s (%.0f%%) | pgbench %,.0f"
                                + " tps; the design's writes %,.0f orders/s (%.0f%%)", run, runs, one.appendsBaselineTps(),
                        one.appendsPerSecond(), 100 * one.appendsShare(), one.writesBaselineTps(), one.writesPerSecond(),
                        100 * one.writesShare());
            }
            return done;
        } finally {
            system.execute("drop database if exists " + DATABASE + " with (force)");
            Files.deleteIfExists(appends);
            Files.deleteIfExists(writes);
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

    /** One pgbench run of a round script on the scratch database: rounds a second. */
    private double design(Path script, int clients, int seconds) throws IOException, InterruptedException {
        return Throughput.runPgbench(system.pg(), DATABASE, script, clients, seconds, List.of("-M", "prepared"),
                SEARCH_PATH).tps();
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
