package dev.orders.app.faults;

import dev.orders.devservers.PgDatabase;
import dev.orders.devservers.PgProvisioner;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * One fault scenario's world: a database and topics of its own on the suite's servers, the service as
 * a child process, steady load, SSE clients watching every customer and readiness asked throughout;
 * {@link #audit()} ends it. Sizes follow {@code orders.test.scale} ({@code -Plong} raises it).
 */
final class FaultScenario implements AutoCloseable {

    static final int SCALE = Integer.getInteger("orders.test.scale", 1);
    /** Customers under load. */
    static final int CUSTOMERS = SCALE > 1 ? 12 : 5;
    /** Load before the fault, and after recovery before the load stops. */
    static final Duration STEADY = Duration.ofSeconds(SCALE > 1 ? 30 : 3);
    /** How long a fault that the test ends lasts. */
    static final Duration OUTAGE = Duration.ofSeconds(SCALE > 1 ? 20 : 4);
    private static final double COMMANDS_PER_SECOND_EACH = 3;
    private static final BigDecimal CREDIT_LIMIT = new BigDecimal("400.00");

    final FaultServers servers = FaultServers.get();
    final ServiceProcess service;
    final ServiceClient client;
    final ReadinessLog readiness;
    private final PgDatabase database;
    private final String topicPrefix;
    private SteadyLoad load;
    private double auditSeconds;
    private final List<SseWatcher> watchers = new ArrayList<>();

    private FaultScenario(String name) {
        String id = name + "_" + PgProvisioner.randomToken(6);
        database = servers.newDatabase(id);
        topicPrefix = id.replace('_', '-');
        service = new ServiceProcess(servers.newFolder(id), servers.root().resolve("service.jsa"), FaultServers.freePort(),
                List.of("--command.pg.uri=" + database.commandPgUri(),
                        "--query.pg.uri=" + database.queryPgUri(),
                        "--kafka.bootstrap=" + servers.kafka.bootstrap(),
                        "--kafka.topic.prefix=" + topicPrefix));
        client = new ServiceClient(service.url());
        readiness = new ReadinessLog(client);
    }

    /** Starts the service, creates the customers, opens their SSE streams and starts the load. */
    static FaultScenario start(String name) throws Exception {
        FaultScenario scenario = new FaultScenario(name);
        scenario.service.start();
        scenario.load = SteadyLoad.forCustomers(scenario.client, CUSTOMERS, CREDIT_LIMIT, COMMANDS_PER_SECOND_EACH);
        for (SteadyLoad.Customer customer : scenario.load.customers()) {
            SseWatcher watcher = new SseWatcher(scenario.service.url(), customer);
            scenario.watchers.add(watcher);
            watcher.start();
        }
        scenario.readiness.start();
        scenario.load.start();
        return scenario;
    }

    /** Lets the load run steadily for {@link #STEADY}. */
    void steady() throws InterruptedException {
        Thread.sleep(STEADY.toMillis());
    }

    /** The SSE clients, one per customer. */
    List<SseWatcher> watchers() {
        return watchers;
    }

    /** A superuser's connection to this scenario's database (what an operator or a DBA does). */
    Connection superuser() throws java.sql.SQLException {
        return servers.superuser(database.name());
    }

    /** The orders acknowledged so far. */
    Set<UUID> acknowledgedOrders() {
        return load.placed.stream().map(SteadyLoad.PlacedOrder::orderId).collect(Collectors.toSet());
    }

    /**
     * Waits until each of these orders is settled (approved, rejected or cancelled) in the store, at most {@code max}.
     *
     * @return the seconds it took, or -1 if they were not all decided by then
     */
    double secondsUntilSettled(Set<UUID> orders, Duration max) throws Exception {
        try (Connection db = servers.superuser(database.name())) {
            return secondsUntilSettled(db, orders, max);
        }
    }

    /** {@link #secondsUntilSettled(Set, Duration)} in the database of this connection. */
    static double secondsUntilSettled(Connection db, Set<UUID> orders, Duration max) throws Exception {
        long start = System.nanoTime();
        try (PreparedStatement decided = db.prepareStatement("SELECT count(DISTINCT stream_id) FROM command.events"
                     + " WHERE stream_id = ANY (?) AND event_type IN ('OrderApproved', 'OrderRejected', 'OrderCancelled')")) {
            decided.setArray(1, db.createArrayOf("uuid", orders.toArray()));
            while (System.nanoTime() - start < max.toNanos()) {
                try (ResultSet count = decided.executeQuery()) {
                    count.next();
                    if (count.getInt(1) == orders.size()) {
                        return (System.nanoTime() - start) / 1e9;
                    }
                }
                Thread.sleep(250);
            }
        }
        return -1;
    }

    /** Stops the load, waits until the system is quiet and checks everything (see {@link Audit}). */
    void audit() throws Exception {
        load.stop();
        long stopped = System.nanoTime();
        try (Connection db = servers.superuser(database.name())) {
            new Audit(db, servers.kafka.bootstrap(), topicPrefix).check(load, watchers, client);
        } catch (AssertionError findings) {
            // what the run did and where the service's log is, to match a finding with what the service saw then
            throw new AssertionError(findings.getMessage() + "\n" + summary() + "\nthe service's last warnings:\n"
                    + service.lastWarnings(40), findings);
        } finally {
            auditSeconds = (System.nanoTime() - stopped) / 1e9;
        }
    }

    /** What the load got done: for the report in the test's output. */
    String summary() {
        return ("%d orders and %d cancels acknowledged, %d reads; %d answers 503, %d refused or broken connections;"
                + " slowest answer %s; SSE connects %s; quiet and audited %.1f s after the load stopped; service log %s")
                .formatted(load.placed.size(), load.cancelled.size(), load.reads.get(), client.unavailable.get(),
                        client.unreachable.get(), client.slowest(), watchers.stream().map(w -> w.connects.get()).toList(),
                        auditSeconds, service.log());
    }

    @Override
    public void close() throws Exception {
        if (load != null) {
            load.stop();
        }
        readiness.stop();
        for (SseWatcher watcher : watchers) {
            watcher.stop();
        }
        service.close();
        servers.kafka.restore();
        servers.postgres.restore();
    }
}
