package dev.orders.devservers;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The KRaft nodes of one cluster, each broker and controller in one, with their loopback ports: every
 * node votes, so a cluster of three keeps working while one of them is down.
 *
 * @param nodes the nodes, ids from 1
 */
record Quorum(List<Node> nodes) {

    /**
     * One node.
     *
     * @param id             its {@code node.id}
     * @param port           its client (PLAINTEXT) port
     * @param controllerPort its controller port
     */
    record Node(int id, int port, int controllerPort) {
    }

    Quorum {
        nodes = List.copyOf(nodes);
    }

    /** A quorum of one: the development broker. */
    static Quorum single(int port, int controllerPort) {
        return new Quorum(List.of(new Node(1, port, controllerPort)));
    }

    /** A quorum of {@code size} nodes on ports free a moment ago. */
    static Quorum ofFreePorts(int size) {
        List<Node> nodes = new ArrayList<>();
        for (int i = 1; i <= size; i++) {
            nodes.add(new Node(i, Ports.free(), Ports.free()));
        }
        return new Quorum(nodes);
    }

    /** @return {@code controller.quorum.voters}: {@code id@host:controllerPort,...} */
    String voters() {
        return nodes.stream().map(n -> n.id() + "@" + Ports.LOOPBACK + ":" + n.controllerPort())
                .collect(Collectors.joining(","));
    }

    /** @return every node's client address, {@code host:port,...} */
    String bootstrap() {
        return nodes.stream().map(n -> Ports.LOOPBACK + ":" + n.port()).collect(Collectors.joining(","));
    }

    /** @return replicas of Kafka's own topics (offsets, transactions): up to three */
    int internalReplicas() {
        return Math.min(3, nodes.size());
    }

    /** @return {@code min.insync.replicas} of Kafka's own topics: one less than their replicas, at least one */
    int internalMinInsync() {
        return Math.max(1, internalReplicas() - 1);
    }
}
