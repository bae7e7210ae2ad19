package dev.orders.devservers;

import dev.orders.kafkabroker.BrokerLibrary;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A KRaft Kafka node (broker and controller in one) in a child JVM whose class path is the broker's own
 * jars, extracted from the {@code kafka-broker} module; its data, configuration and output
 * ({@code broker.log}) are in one folder. The child halts when this JVM dies, however it dies. Alone it is
 * the single-node broker of a development process; several of them, one {@link Quorum}, form a cluster
 * ({@link EmbeddedKafkaCluster}).
 */
final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final Path log;
    private final int port;

    private EmbeddedKafkaBroker(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /**
     * Starts the child JVM and returns at once; {@link #awaitReady()} waits for the broker.
     *
     * @param libDir     where the broker's jars are extracted
     * @param kafkaDir   the broker's folder: configuration, cluster id, log dirs, broker.log
     * @param port       the client port, 0 for any free one
     * @param partitions partitions of automatically created topics
     * @return the starting broker
     */
    static EmbeddedKafkaBroker launch(Path libDir, Path kafkaDir, int port, int partitions) {
        int clientPort = Ports.freeOrConfigured(port, "kafka.embedded.port");
        return launch(libDir, kafkaDir, Quorum.single(clientPort, Ports.free()), 0, partitions,
                kafkaDir.resolve("cluster.id"), "512m");
    }

    /**
     * Starts one node of a quorum in a child JVM and returns at once; {@link #awaitReady(int)} waits for it.
     *
     * @param libDir        where the broker's jars are extracted
     * @param kafkaDir      the node's folder: configuration, log dirs, broker.log
     * @param quorum        every node of the cluster, with their ports
     * @param index         which of the quorum's nodes this is
     * @param partitions    partitions of automatically created topics
     * @param clusterIdFile where the cluster's id is kept, made by the first node that formats its storage
     * @param heap          the child's maximum heap, e.g. {@code 256m}
     * @return the starting node
     */
    static EmbeddedKafkaBroker launch(Path libDir, Path kafkaDir, Quorum quorum, int index, int partitions,
                                      Path clusterIdFile, String heap) {
        int clientPort = quorum.nodes().get(index).port();
        Path log = kafkaDir.resolve("broker.log");
        try {
            BrokerLibrary library = BrokerLibrary.extractTo(libDir);
            Files.createDirectories(kafkaDir);
            Path logDirs = kafkaDir.resolve("logs");
            Path properties = kafkaDir.resolve("server.properties");
            writeServerProperties(properties, logDirs, quorum, index, partitions);
            // Both JIT tiers: once compiled, C2's code serves the pipeline's requests with less CPU and sooner than
            // C1's alone, for a compiler's work in its first minutes (docs/benchmarks-history.md: the broker with C2).
            List<String> command = new ArrayList<>(List.of(javaBinary(),
                    "-Xms64m", "-Xmx" + heap, "-XX:+UseSerialGC", "-XX:-UsePerfData",
                    "-Xss512k", "-Djava.awt.headless=true", "--enable-native-access=ALL-UNNAMED",
                    // class data sharing: the first run writes an archive of the loaded classes, later runs start faster
                    "-XX:+AutoCreateSharedArchive", "-XX:SharedArchiveFile=" + kafkaDir.resolve("broker.jsa"),
                    "-cp", library.classpathString(), BrokerLibrary.MAIN_CLASS));
            if (!Files.exists(logDirs.resolve("meta.properties"))) {
                command.addAll(List.of("--format", clusterId(clusterIdFile)));
            }
            command.add(properties.toString());
            Files.writeString(log, "---- starting: " + String.join(" ", command) + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            Process process = new ProcessBuilder(command)
                    .directory(kafkaDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(Redirect.appendTo(log.toFile()))
                    .start(); // stdin stays a pipe: its end of file tells the child that we are gone
            return new EmbeddedKafkaBroker(process, log, clientPort);
        } catch (IOException e) {
            throw new InfrastructureException("embedded Kafka did not start in " + kafkaDir + ": " + e.getMessage(), e);
        }
    }

    /** @return host:port of the broker */
    String bootstrap() {
        return Ports.LOOPBACK + ":" + port;
    }

    /** @return the file that holds the broker's output */
    Path log() {
        return log;
    }

    /** @return the child process */
    ProcessHandle process() {
        return process.toHandle();
    }

    /** Blocks until the broker has registered and answers metadata requests. */
    void awaitReady() {
        awaitReady(1);
    }

    /** Blocks until this node answers metadata requests that name at least {@code brokers} registered brokers. */
    void awaitReady(int brokers) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (!Ports.answers(port)) {
            checkAlive();
            checkDeadline(deadline);
            sleep(50);
        }
        Map<String, Object> config = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000,
                AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 50,
                AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 50);
        try (Admin admin = Admin.create(config)) {
            while (true) {
                checkAlive();
                checkDeadline(deadline);
                try {
                    if (admin.describeCluster(new DescribeClusterOptions().timeoutMs(2_000)).nodes()
                            .get(3, TimeUnit.SECONDS).size() >= brokers) {
                        return;
                    }
                } catch (Exception notYet) {
                    sleep(100);
                }
            }
        }
    }

    /** Stops the broker gracefully, forcibly after a timeout. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("embedded Kafka did not stop within {}; killing it", STOP_TIMEOUT);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private void checkAlive() {
        if (!process.isAlive()) {
            throw new InfrastructureException("embedded Kafka exited with code " + process.exitValue()
                    + " while starting; see " + log + lastLines());
        }
    }

    private void checkDeadline(long deadline) {
        if (System.nanoTime() > deadline) {
            close();
            throw new InfrastructureException("embedded Kafka was not ready within " + READY_TIMEOUT.toSeconds()
                    + " s; see " + log + lastLines());
        }
    }

    private String lastLines() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return lines.stream().skip(Math.max(0, lines.size() - 5))
                    .reduce("", (text, line) -> text + "\n  | " + line);
        } catch (IOException e) {
            return "";
        }
    }

    private static void writeServerProperties(Path file, Path logDirs, Quorum quorum, int index, int partitions)
            throws IOException {
        Quorum.Node node = quorum.nodes().get(index);
        int port = node.port();
        String replicas = Integer.toString(quorum.internalReplicas());
        String minInsync = Integer.toString(quorum.internalMinInsync());
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", Integer.toString(node.id()));
        p.setProperty("controller.quorum.voters", quorum.voters());
        p.setProperty("listeners", "PLAINTEXT://" + Ports.LOOPBACK + ":" + port + ",CONTROLLER://" + Ports.LOOPBACK
                + ":" + node.controllerPort());
        p.setProperty("advertised.listeners", "PLAINTEXT://" + Ports.LOOPBACK + ":" + port);
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.setProperty("log.dirs", logDirs.toAbsolutePath().toString());
        p.setProperty("num.partitions", Integer.toString(partitions));
        p.setProperty("offsets.topic.replication.factor", replicas);
        p.setProperty("offsets.topic.num.partitions", "5");
        p.setProperty("transaction.state.log.replication.factor", replicas);
        p.setProperty("transaction.state.log.min.isr", minInsync);
        p.setProperty("transaction.state.log.num.partitions", "5");
        p.setProperty("share.coordinator.state.topic.replication.factor", replicas);
        p.setProperty("share.coordinator.state.topic.min.isr", minInsync);
        if (quorum.nodes().size() > 1) {
            // as on an operated cluster: the services create their topics with the replication they are given
            p.setProperty("auto.create.topics.enable", "false");
        }
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        p.setProperty("num.network.threads", "2");
        p.setProperty("num.io.threads", "4");
        p.setProperty("num.recovery.threads.per.data.dir", "2");
        try (var writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            p.store(writer, "embedded KRaft node " + node.id() + " of " + quorum.nodes().size() + "; written on every start");
        }
    }

    /** The cluster id, made once and kept in {@code file}. */
    private static synchronized String clusterId(Path file) throws IOException {
        if (Files.exists(file)) {
            return Files.readString(file).strip();
        }
        String id;
        do {
            byte[] bytes = new byte[16];
            new java.security.SecureRandom().nextBytes(bytes);
            id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        } while (id.startsWith("-"));
        Files.writeString(file, id);
        return id;
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InfrastructureException("interrupted while waiting for embedded Kafka");
        }
    }
}
