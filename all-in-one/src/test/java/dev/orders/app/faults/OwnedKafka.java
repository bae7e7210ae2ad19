package dev.orders.app.faults;

import dev.orders.devservers.Infrastructure;
import dev.orders.infra.config.OrdersConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Kafka broker that the fault suite owns: the embedded child JVM the services run by default, started
 * through {@link Infrastructure} on a fixed port and data folder, so that a test can kill it (SIGKILL)
 * and start it again where it was, or freeze it with SIGSTOP.
 */
final class OwnedKafka implements AutoCloseable {

    private final OrdersConfig config;
    private Infrastructure broker;
    private boolean down;
    private boolean paused;

    private OwnedKafka(OrdersConfig config) {
        this.config = config;
    }

    static OwnedKafka start(Path dataDir, int port) {
        OwnedKafka kafka = new OwnedKafka(OrdersConfig.defaults().with(Map.of(
                // PostgreSQL is given (and never used here), so that only the broker starts
                "pg.uri", "postgresql://unused:unused@127.0.0.1:1/unused",
                "data.dir", dataDir.toString(),
                "kafka.embedded.port", Integer.toString(port))));
        kafka.start();
        return kafka;
    }

    synchronized void start() {
        broker = Infrastructure.start(config);
        down = false;
    }

    /** After a scenario, whatever it did: the broker runs and is not paused. */
    synchronized void restore() throws Exception {
        if (down) {
            start();
        } else if (paused) {
            resume();
        }
    }

    String bootstrap() {
        return broker.kafkaBootstrap();
    }

    /** SIGKILL, and waits until the process is gone. */
    synchronized void kill() throws Exception {
        ProcessHandle process = process();
        process.destroyForcibly();
        process.onExit().get(30, TimeUnit.SECONDS);
        broker.close(); // nothing left to stop; releases the data folder
        down = true;
    }

    synchronized void pause() throws Exception {
        paused = true;
        Signals.send("STOP", List.of(Long.toString(process().pid())));
    }

    synchronized void resume() throws Exception {
        Signals.send("CONT", List.of(Long.toString(process().pid())));
        paused = false;
    }

    private ProcessHandle process() {
        return broker.kafkaProcess().orElseThrow();
    }

    @Override
    public synchronized void close() {
        broker.close();
    }
}
