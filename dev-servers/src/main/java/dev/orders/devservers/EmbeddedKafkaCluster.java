package dev.orders.devservers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A KRaft Kafka cluster of several nodes (each broker and controller in one, all of them voters), started
 * from the same broker jars as the development broker, each node a child JVM with its own ports and data
 * folder ({@code node-1}, {@code node-2}, ... under one folder, {@code broker.log} in each). Kafka's own
 * topics get three replicas ({@code min.insync.replicas} 2) and topics are not created automatically, as on
 * a cluster a company operates. A node can be killed, for fault tests. Every child halts when this JVM dies,
 * however it dies.
 */
public final class EmbeddedKafkaCluster implements AutoCloseable {

    private static final int PARTITIONS = 3;

    private final Path root;
    private final Quorum quorum;
    private final String heap;
    private final EmbeddedKafkaBroker[] nodes;

    private EmbeddedKafkaCluster(Path root, Quorum quorum, String heap) {
        this.root = root;
        this.quorum = quorum;
        this.heap = heap;
        this.nodes = new EmbeddedKafkaBroker[quorum.nodes().size()];
    }

    /**
     * Starts every node at once and waits until each of them answers and sees them all.
     *
     * @param root  the cluster's folder
     * @param size  how many nodes
     * @param heap  each child's maximum heap, e.g. {@code 256m}
     * @return the running cluster
     * @throws InfrastructureException if a node does not start
     */
    public static EmbeddedKafkaCluster start(Path root, int size, String heap) {
        EmbeddedKafkaCluster cluster = new EmbeddedKafkaCluster(root, Quorum.ofFreePorts(size), heap);
        try {
            for (int i = 0; i < size; i++) {
                cluster.launch(i);
            }
            List<CompletableFuture<Void>> ready = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                int index = i;
                ready.add(CompletableFuture.runAsync(() -> cluster.nodes[index].awaitReady(size)));
            }
            CompletableFuture.allOf(ready.toArray(CompletableFuture[]::new)).join();
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e.getCause() instanceof InfrastructureException cause ? cause : e;
        }
    }

    /** @return every node's client address, {@code host:port,...}, the services' {@code kafka.bootstrap} */
    public String bootstrap() {
        return quorum.bootstrap();
    }

    /** SIGKILL to node {@code index} (from 0, node id {@code index + 1}), and waits until its process is gone. */
    public synchronized void kill(int index) throws Exception {
        ProcessHandle process = nodes[index].process();
        process.destroyForcibly();
        process.onExit().get(30, TimeUnit.SECONDS);
    }

    private void launch(int index) {
        nodes[index] = EmbeddedKafkaBroker.launch(root.resolve("lib"),
                root.resolve("node-" + quorum.nodes().get(index).id()), quorum, index, PARTITIONS,
                root.resolve("cluster.id"), heap);
    }

    /**
     * Stops every node with SIGKILL and waits until they are gone: nodes stopped gracefully all at once would
     * each wait for a controller quorum that is leaving too. The data stays where it is.
     */
    @Override
    public synchronized void close() {
        for (EmbeddedKafkaBroker node : nodes) {
            if (node != null) {
                node.process().destroyForcibly();
            }
        }
        for (EmbeddedKafkaBroker node : nodes) {
            if (node != null) {
                node.process().onExit().orTimeout(30, TimeUnit.SECONDS).exceptionally(timedOut -> null).join();
            }
        }
    }
}
