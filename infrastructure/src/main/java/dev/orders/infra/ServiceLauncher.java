package dev.orders.infra;

import dev.orders.infra.config.ConfigException;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.Version;
import dev.orders.service.http.GracefulStop;
import dev.orders.service.metrics.ProcessMetrics;
import dev.orders.service.tracing.Tracing;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one service as a process: {@code --version}, {@code --help}, the configuration (one line and exit 2 when it is
 * bad, or when it does not name the external PostgreSQL and Kafka: a service on its own starts no
 * servers), Vert.x, the service's start (one line and exit 1 when it fails), the URL it serves, and a
 * shutdown hook that stops it gracefully on Ctrl-C or SIGTERM ({@link GracefulStop}), then Vert.x.
 */
public final class ServiceLauncher {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceLauncher.class);
    private static final long START_TIMEOUT_SECONDS = 180;

    /** Starts the service's verticles; succeeds with the HTTP port it listens on and how to stop it. */
    @FunctionalInterface
    public interface Starter {
        Future<Started> start(Vertx vertx, OrdersConfig config);
    }

    /**
     * A running service.
     *
     * @param port the HTTP port it listens on
     * @param stop how it stops on SIGTERM without losing a request
     */
    public record Started(int port, GracefulStop stop) {
    }

    private ServiceLauncher() {
    }

    public static void run(String name, String description, String[] args, Starter starter) {
        if (Version.requested(args)) {
            System.out.println(Version.line(name));
            return;
        }
        if (OrdersConfig.helpRequested(args)) {
            System.out.println(description + "\n\n" + OrdersConfig.help() + "\n\n" + Tracing.HELP);
            return;
        }
        OrdersConfig config;
        try {
            config = OrdersConfig.load(args);
            config.requireExternalServers("by the " + name + " on its own: it starts no PostgreSQL or Kafka"
                    + " (the all-in-one does, in development mode)");
        } catch (ConfigException bad) {
            exit(2, name + ": bad configuration: " + bad.getMessage());
            return;
        }
        Vertx vertx = ProcessMetrics.newVertx(Tracing.fromEnvironment(name));
        try {
            Started started = starter.start(vertx, config).toCompletionStage().toCompletableFuture()
                    .get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> drain(vertx, config, started.stop()), name + "-shutdown"));
            System.out.println(name + " is running on http://" + config.httpHost() + ":" + started.port()
                    + "/   (Ctrl-C stops it)");
        } catch (ExecutionException failure) {
            stop(vertx);
            exit(1, name + ": cannot start: " + oneLine(failure.getCause()));
        } catch (TimeoutException | InterruptedException | RuntimeException failure) {
            stop(vertx);
            exit(1, name + ": cannot start: " + oneLine(failure));
        }
    }

    /** On SIGTERM: the graceful stop (see {@link GracefulStop}), then Vert.x. */
    private static void drain(Vertx vertx, OrdersConfig config, GracefulStop stop) {
        long limit = config.shutdownNotice().plus(config.shutdownGrace()).toMillis() + 10_000;
        try {
            stop.run(vertx, config.shutdownNotice(), config.shutdownGrace()).toCompletionStage().toCompletableFuture()
                    .get(limit, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.warn("the graceful stop did not finish: {}", oneLine(e));
        }
        stop(vertx);
    }

    private static void stop(Vertx vertx) {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("Vert.x did not close cleanly: {}", e.getMessage());
        }
    }

    /** A failure and its causes as one line, for a person reading a terminal. */
    public static String oneLine(Throwable failure) {
        StringBuilder line = new StringBuilder(String.valueOf(failure.getMessage()));
        Throwable cause = failure.getCause();
        while (cause != null && cause != cause.getCause()) {
            String message = cause.getMessage();
            if (message != null && !line.toString().contains(message)) {
                line.append(": ").append(message);
            }
            cause = cause.getCause();
        }
        return line.toString().replace('\n', ' ');
    }

    private static void exit(int status, String message) {
        System.err.println(message);
        System.exit(status);
    }
}
