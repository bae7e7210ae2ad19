package dev.orders.infra;

import ch.qos.logback.classic.LoggerContext;
import dev.orders.infra.config.ConfigException;
import dev.orders.infra.config.OrdersConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The PostgreSQL and Kafka a process runs on, and the order in which it stops: first what runs on them
 * ({@link #beforeClose}, latest first: the services stop while PostgreSQL and Kafka still answer), then
 * whatever of them the process started itself. {@link #close()} does it, and so does the one JVM shutdown
 * hook on Ctrl-C or SIGTERM (a JVM runs its hooks concurrently, so the services must not have one of their
 * own). A service on its own runs on {@link #external} servers; the all-in-one may start them
 * ({@code dev-servers}' {@code Infrastructure}).
 */
public abstract class Servers implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Servers.class);

    private final Deque<Runnable> beforeClose = new ArrayDeque<>();
    /** Ctrl-C or SIGTERM: the stop, then the log lines still queued for the console (logback.xml writes them from a thread of its own). */
    private final Thread shutdownHook = new Thread(() -> {
        close();
        flushLogs();
    }, "orders-shutdown");
    private boolean closed;

    protected Servers() {
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * The servers the configuration names, which this process does not start: a service on its own.
     *
     * @param config the configuration
     * @param who    what needs them, for the message
     * @throws ConfigException naming the missing key, when the configuration does not name them
     */
    public static Servers external(OrdersConfig config, String who) {
        config.requireExternalServers("by the " + who + " on its own: it starts no PostgreSQL or Kafka"
                + " (the all-in-one does, in development mode)");
        return new External(config);
    }

    /** @return the command side's PostgreSQL URI */
    public abstract String commandPgUri();

    /** @return the query side's PostgreSQL URI */
    public abstract String queryPgUri();

    /** @return the Kafka bootstrap servers, host:port[,host:port...] */
    public abstract String kafkaBootstrap();

    /** Registers work to do before the servers stop, latest first (also on Ctrl-C or SIGTERM). */
    public synchronized void beforeClose(Runnable stop) {
        beforeClose.push(stop);
    }

    /** Stops what runs on the servers, then the servers this process started; once. */
    @Override
    public final void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException | IllegalArgumentException shuttingDown) {
            // called from the hook itself, or while the JVM shuts down
        }
        Runnable next;
        while ((next = nextBeforeClose()) != null) {
            try {
                next.run();
            } catch (RuntimeException e) {
                LOG.warn("stopping what runs on the servers: {}", e.toString());
            }
        }
        stopServers();
    }

    /** Stops logback, which writes out what its asynchronous appender still holds; the JVM exits next. */
    private static void flushLogs() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logging) {
            logging.stop();
        }
    }

    private synchronized Runnable nextBeforeClose() {
        return beforeClose.poll();
    }

    /** Stops the servers this process started, if any, in reverse order. */
    protected abstract void stopServers();

    /** Servers that others run: nothing to stop. */
    private static final class External extends Servers {

        private final OrdersConfig config;

        External(OrdersConfig config) {
            this.config = config;
        }

        @Override
        public String commandPgUri() {
            return config.effectiveCommandPgUri();
        }

        @Override
        public String queryPgUri() {
            return config.effectiveQueryPgUri();
        }

        @Override
        public String kafkaBootstrap() {
            return config.kafkaBootstrap();
        }

        @Override
        protected void stopServers() {
            // not this process's
        }
    }
}
