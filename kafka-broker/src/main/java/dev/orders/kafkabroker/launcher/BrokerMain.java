package dev.orders.kafkabroker.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Entry point of the child JVM that runs the embedded Kafka broker; it runs with the broker's own
 * jars on its class path, never inside a service's JVM.
 *
 * <p>Usage: {@code BrokerMain [--format CLUSTER_ID] server.properties}. With {@code --format} the
 * storage named by {@code log.dirs} is formatted first (already formatted storage is left as it is).
 *
 * <p>A daemon thread reads standard input until end of file and then halts the JVM: the parent keeps
 * the pipe open for as long as it lives, so the broker dies with its parent, even when the parent is
 * killed with {@code kill -9}.
 */
public final class BrokerMain {

    private BrokerMain() {
    }

    /**
     * Formats the storage if asked, then runs the broker until the JVM is stopped.
     *
     * @param args {@code [--format CLUSTER_ID] server.properties}
     */
    public static void main(String[] args) {
        watchParent(System.in);
        String[] serverArgs = args;
        if (args.length == 3 && args[0].equals("--format")) {
            format(args[1], args[2]);
            serverArgs = Arrays.copyOfRange(args, 2, 3);
        } else if (args.length != 1) {
            System.err.println("usage: BrokerMain [--format CLUSTER_ID] server.properties");
            System.exit(2);
        }
        kafka.Kafka.main(serverArgs);
    }

    private static void format(String clusterId, String serverProperties) {
        int code = kafka.tools.StorageTool.execute(
                new String[] {"format", "--cluster-id", clusterId, "--config", serverProperties,
                    "--ignore-formatted"},
                System.out);
        if (code != 0) {
            System.err.println("formatting the Kafka storage failed with exit code " + code);
            Runtime.getRuntime().halt(3);
        }
    }

    private static void watchParent(InputStream parent) {
        Thread watcher = new Thread(() -> {
            byte[] buffer = new byte[256];
            try {
                while (parent.read(buffer) >= 0) {
                    // the parent writes nothing; any input is ignored
                }
            } catch (IOException e) {
                // a broken pipe means the parent is gone, too
            }
            Runtime.getRuntime().halt(0);
        }, "parent-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }
}
