package dev.orders.app.faults;

import dev.orders.devservers.EmbeddedKafkaCluster;
import dev.orders.devservers.PgDatabase;
import dev.orders.devservers.PgProvisioner;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The system as a company runs it, broken the way machines break: a three-node KRaft Kafka cluster (the
 * services create their topics with three replicas and {@code min.insync.replicas} 2), one PostgreSQL, two
 * command-side and two query-side processes (the production jars, each its own JVM, configured with
 * {@code command.pg.uri}, {@code query.pg.uri} and all three brokers). One client per customer sends commands
 * to the command processes and reads to the query processes in turn, as a balancer would; an SSE client per
 * customer watches its orders on one query node or the other. Under that load, one after the other:
 * <ol>
 *   <li>{@code kill -9} of the command process that holds the relay: the other takes the relay and the
 *   saga's partitions, and orders placed after the kill are settled;</li>
 *   <li>{@code kill -9} of a query process: its SSE clients connect to the other one with
 *   {@code Last-Event-ID};</li>
 *   <li>{@code kill -9} of the broker that is the active controller: commands keep being accepted and the
 *   orders placed after the kill are settled while it is down.</li>
 * </ol>
 * Then the fault suite's {@link Audit}: every acknowledged command's events in the store exactly once, every
 * change seen exactly once by each SSE client, in order, the credit invariant, every order decided.
 */
@DisplayName("A cluster of two command and two query processes on three brokers, one of each killed under load")
@Isolated("seven JVMs of its own: started beside another test's, they would starve each other on two cores")
class ClusterIT {

    private static final int CUSTOMERS = FaultScenario.CUSTOMERS;
    private static final Duration STEADY = FaultScenario.STEADY;
    private static final double COMMANDS_PER_SECOND_EACH = 3;
    private static final BigDecimal CREDIT_LIMIT = new BigDecimal("400.00");
    /** Bounds of the waits: generous, since the whole cluster shares two cores with the test. */
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(60);
    /** How long a service may take to stop on SIGTERM at the end, before it is killed. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(10);
    private static final Executor EACH_ON_ITS_THREAD = task -> Thread.ofVirtual().start(task);

    private final FaultServers servers = FaultServers.get();
    private final List<String> report = new ArrayList<>();

    @Test
    @DisplayName("kill -9 of a command process, a query process and a broker: no acknowledged command lost, no change missed")
    void one_of_each_killed_under_load() throws Exception {
        String id = "cluster_" + PgProvisioner.randomToken(6);
        PgDatabase database = servers.newDatabase(id);
        String topicPrefix = id.replace('_', '-');
        Path folder = servers.newFolder(id);
        long started = System.nanoTime();
        try (EmbeddedKafkaCluster kafka = EmbeddedKafkaCluster.start(folder.resolve("kafka"), 3, "256m")) {
            note("three brokers ready", started);
            List<String> settings = List.of("--command.pg.uri=" + database.commandPgUri(),
                    "--query.pg.uri=" + database.queryPgUri(),
                    "--kafka.bootstrap=" + kafka.bootstrap(),
                    "--kafka.topic.prefix=" + topicPrefix,
                    "--kafka.replication-factor=3", "--kafka.min-insync-replicas=2",
                    "--rate.processes=2");
            List<ServiceProcess> commands = List.of(
                    service(folder.resolve("command-1"), "orders.command-service.jar", settings),
                    service(folder.resolve("command-2"), "orders.command-service.jar", settings));
            List<ServiceProcess> queries = List.of(
                    service(folder.resolve("query-1"), "orders.query-service.jar", settings),
                    service(folder.resolve("query-2"), "orders.query-service.jar", settings));
            List<ServiceProcess> all = new ArrayList<>(commands);
            all.addAll(queries);
            try {
                long t = System.nanoTime();
                // two at a time: four JVMs starting at once on two shared cores starve each other's event loops
                startAll(List.of(commands.get(0), queries.get(0)));
                startAll(List.of(commands.get(1), queries.get(1)));
                note("four services ready", t);
                run(kafka, database, topicPrefix, commands, queries);
            } finally {
                stopAll(all);
                System.out.println("ClusterIT (scale " + FaultScenario.SCALE + ", " + CUSTOMERS + " customers): "
                        + String.join("; ", report) + "; in all " + seconds(started) + " s; logs in " + folder);
            }
        }
    }

    private void run(EmbeddedKafkaCluster kafka, PgDatabase database, String topicPrefix,
                     List<ServiceProcess> commands, List<ServiceProcess> queries) throws Exception {
        List<String> commandUrls = commands.stream().map(ServiceProcess::url).toList();
        List<String> queryUrls = queries.stream().map(ServiceProcess::url).toList();
        ServiceClient client = new ServiceClient(commandUrls, queryUrls);
        SteadyLoad load = SteadyLoad.forCustomers(client, CUSTOMERS, CREDIT_LIMIT, COMMANDS_PER_SECOND_EACH);
        List<SseWatcher> watchers = new ArrayList<>();
        for (int i = 0; i < CUSTOMERS; i++) {
            SseWatcher watcher = new SseWatcher(queryUrls, i % queryUrls.size(), load.customers().get(i));
            watchers.add(watcher);
            watcher.start();
        }
        try (Connection db = servers.superuser(database.name())) {
            load.start();
            Thread.sleep(STEADY.toMillis());

            killCommandProcessWithRelay(commands, load, db);
            Thread.sleep(STEADY.toMillis());
            killQueryProcess(queries, queryUrls, watchers);
            Thread.sleep(STEADY.toMillis());
            killActiveController(kafka, load, db);
            Thread.sleep(STEADY.toMillis());

            load.stop();
            long stopped = System.nanoTime();
            new Audit(db, kafka.bootstrap(), topicPrefix).check(load, watchers, client);
            note("quiet and audited", stopped);
            report.add(load.placed.size() + " orders and " + load.cancelled.size() + " cancels acknowledged, "
                    + load.reads.get() + " reads; " + client.unavailable.get() + " answers 503, "
                    + client.unreachable.get() + " refused or broken connections; SSE connects "
                    + watchers.stream().map(w -> w.connects.get()).toList());
        } finally {
            load.stop();
            for (SseWatcher watcher : watchers) {
                watcher.stop();
            }
        }
    }

    /**
     * Kills the command process whose relay publishes; the other's relay takes over, its saga gets the dead
     * one's partitions (after the consumer session's 10 s), and orders placed after the kill are settled.
     */
    private void killCommandProcessWithRelay(List<ServiceProcess> commands, SteadyLoad load, Connection db)
            throws Exception {
        List<ServiceClient> nodes = commands.stream().map(c -> new ServiceClient(c.url())).toList();
        int withRelay = waitFor("one command process's relay active", () -> relayActive(nodes)).orElseThrow();
        ServiceClient survivor = nodes.get(1 - withRelay);
        int before = load.placed.size();
        long killed = System.nanoTime();
        commands.get(withRelay).kill();
        waitFor("the surviving command process's relay active", () -> relayActive(List.of(survivor)));
        note("command process " + (withRelay + 1) + " (the relay's) killed; the other's relay active after", killed);
        assertSettledWhileRunning("after the command process's kill", load, before, db);
    }

    /** Kills the second query process; each of its SSE clients connects to the first one. */
    private void killQueryProcess(List<ServiceProcess> queries, List<String> queryUrls, List<SseWatcher> watchers)
            throws Exception {
        String dead = queryUrls.get(1);
        String alive = queryUrls.get(0);
        List<SseWatcher> onDead = watchers.stream().filter(w -> dead.equals(last(w))).toList();
        assertThat(onDead).as("SSE clients on the query process to be killed").isNotEmpty();
        long killed = System.nanoTime();
        queries.get(1).kill();
        waitFor("every SSE client of the killed query process connected to the other",
                () -> onDead.stream().allMatch(w -> alive.equals(last(w))) ? Optional.of(true) : Optional.empty());
        note(onDead.size() + " SSE clients of the killed query process on the other after", killed);
    }

    /** Kills the broker that is the active controller; commands keep being accepted and settled meanwhile. */
    private void killActiveController(EmbeddedKafkaCluster kafka, SteadyLoad load, Connection db) throws Exception {
        int controller;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap()))) {
            // the leader of the KRaft quorum (describeCluster's "controller" is any broker in KRaft)
            controller = admin.describeMetadataQuorum().quorumInfo().get(30, TimeUnit.SECONDS).leaderId() - 1;
        }
        int before = load.placed.size();
        long killed = System.nanoTime();
        kafka.kill(controller);
        Thread.sleep(STEADY.toMillis());
        assertThat(load.placed.size()).as("orders acknowledged in the " + STEADY.toSeconds()
                + " s after broker " + (controller + 1) + " was killed").isGreaterThan(before);
        note("broker " + (controller + 1) + " (the active controller) killed", killed);
        assertSettledWhileRunning("with broker " + (controller + 1) + " down", load, before, db);
    }

    /** Orders acknowledged since {@code before} are settled, each within {@link #FAILOVER_TIMEOUT}. */
    private void assertSettledWhileRunning(String when, SteadyLoad load, int before, Connection db) throws Exception {
        Thread.sleep(STEADY.toMillis());
        Set<UUID> since = load.placed.stream().skip(before).map(SteadyLoad.PlacedOrder::orderId).collect(Collectors.toSet());
        assertThat(since).as("orders acknowledged " + when).isNotEmpty();
        double seconds = FaultScenario.secondsUntilSettled(db, since, FAILOVER_TIMEOUT);
        assertThat(seconds).as("seconds until the " + since.size() + " orders acknowledged " + when + " were settled")
                .isNotNegative();
        report.add(since.size() + " orders acknowledged " + when + " settled " + String.format("%.1f", seconds)
                + " s after the check began");
    }

    private static Optional<Integer> relayActive(List<ServiceClient> nodes) {
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).metric("orders_relay_active", "").orElse(0.0) == 1.0) {
                return Optional.of(i);
            }
        }
        return Optional.empty();
    }

    private static String last(SseWatcher watcher) {
        List<String> nodes = List.copyOf(watcher.connectedTo);
        return nodes.isEmpty() ? null : nodes.get(nodes.size() - 1);
    }

    private static <T> Optional<T> waitFor(String what, Supplier<Optional<T>> check)
            throws InterruptedException {
        long deadline = System.nanoTime() + FAILOVER_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<T> found = check.get();
            if (found.isPresent()) {
                return found;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(what + ": not within " + FAILOVER_TIMEOUT.toSeconds() + " s");
    }

    private static ServiceProcess service(Path folder, String jarProperty, List<String> settings) throws Exception {
        Files.createDirectories(folder);
        String jar = System.getProperty(jarProperty);
        if (jar == null) {
            throw new IllegalStateException("system property " + jarProperty + " is not set: run this test through failsafe");
        }
        return ServiceProcess.productionJar(folder, Path.of(jar), FaultServers.freePort(), settings);
    }

    /**
     * Starts them all at once; each is ready when its {@code /health/ready} answers 200. A thread each: the
     * common pool that {@code runAsync} would take has one thread on two cores, and would start them in turn.
     */
    private static void startAll(List<ServiceProcess> services) {
        CompletableFuture.allOf(services.stream().map(s -> CompletableFuture.runAsync(() -> {
            try {
                s.start();
                ServiceClient client = new ServiceClient(s.url());
                long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
                while (client.readiness() != 200) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException(s.url() + " not ready within " + READY_TIMEOUT + "; see " + s.log());
                    }
                    Thread.sleep(200);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e.getMessage() + " (" + s.log() + ")", e);
            }
        }, EACH_ON_ITS_THREAD)).toArray(CompletableFuture[]::new)).join();
    }

    /**
     * SIGTERM to each at once; one that has not ended within {@link #STOP_WAIT} is killed and named in the report
     * (a graceful stop takes its 3 s notice and a little more).
     */
    private void stopAll(List<ServiceProcess> services) {
        List<String> killed = new CopyOnWriteArrayList<>();
        CompletableFuture.allOf(services.stream().map(s -> CompletableFuture.runAsync(() -> {
            try {
                if (!s.stop(STOP_WAIT)) {
                    killed.add(s.log().getParent().getFileName().toString());
                }
            } catch (Exception ignored) {
                // the JVM's end stops what is left
            }
        }, EACH_ON_ITS_THREAD)).toArray(CompletableFuture[]::new)).join();
        if (!killed.isEmpty()) {
            report.add("not stopped " + STOP_WAIT.toSeconds() + " s after SIGTERM, so killed: " + killed);
        }
    }

    private void note(String what, long sinceNanos) {
        report.add(what + " " + seconds(sinceNanos) + " s");
    }

    private static String seconds(long sinceNanos) {
        return String.format("%.1f", (System.nanoTime() - sinceNanos) / 1e9);
    }
}
