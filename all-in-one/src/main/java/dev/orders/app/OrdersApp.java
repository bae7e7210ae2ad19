package dev.orders.app;

import dev.orders.command.CommandSide;
import dev.orders.devservers.Infrastructure;
import dev.orders.infra.ServiceLauncher;
import dev.orders.infra.config.ConfigException;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.query.QuerySide;
import dev.orders.service.Version;
import dev.orders.service.http.GracefulStop;
import dev.orders.service.http.Health;
import dev.orders.service.http.HttpServerVerticle;
import dev.orders.service.http.ServiceRouter;
import dev.orders.service.metrics.ProcessMetrics;
import dev.orders.service.security.Security;
import dev.orders.service.tracing.Tracing;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The whole system in one process: the infrastructure (embedded by default), the command side, the
 * query side and the browser UI, all served on one port. On Ctrl-C or SIGTERM it stops as a service
 * process does ({@link GracefulStop}: readiness 503 for {@code shutdown.notice}, streams told to
 * reconnect, requests in progress finished), then the servers it started.
 */
public final class OrdersApp implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OrdersApp.class);
    private static final long START_TIMEOUT_SECONDS = 180;
    /** Beyond the notice and grace, what a stop may take before PostgreSQL and Kafka stop anyway. */
    private static final long STOP_MARGIN_SECONDS = 10;

    private final Infrastructure infrastructure;
    private final Vertx vertx;
    private final CommandSide commandSide;
    private final QuerySide querySide;
    private final int port;
    private final String host;
    private final GracefulStop stop;
    private final OrdersConfig config;

    private OrdersApp(Infrastructure infrastructure, Vertx vertx, CommandSide commandSide, QuerySide querySide,
                      OrdersConfig config, GracefulStop stop, int port) {
        this.infrastructure = infrastructure;
        this.vertx = vertx;
        this.commandSide = commandSide;
        this.querySide = querySide;
        this.config = config;
        this.host = config.httpHost();
        this.stop = stop;
        this.port = port;
    }

    public static void main(String[] args) {
        if (Version.requested(args)) {
            System.out.println(Version.line("orders-all-in-one"));
            return;
        }
        if (OrdersConfig.helpRequested(args)) {
            System.out.println(usage());
            return;
        }
        OrdersConfig config;
        try {
            config = OrdersConfig.load(args);
        } catch (ConfigException bad) {
            exit(2, "bad configuration: " + bad.getMessage());
            return;
        }
        try {
            OrdersApp app = start(config);
            System.out.println();
            System.out.println("  Orders is running: open " + app.url() + "   (Ctrl-C stops it)");
            System.out.println();
        } catch (RuntimeException failure) {
            exit(1, "cannot start: " + oneLine(failure));
        }
    }

    /**
     * Starts everything and returns once the HTTP port listens. Blocking: call it from a main thread
     * or a test, never from an event loop. On failure everything started so far is stopped again.
     */
    public static OrdersApp start(OrdersConfig config) {
        return start(config, Tracing.fromEnvironment("orders-all-in-one"));
    }

    /**
     * {@link #start(OrdersConfig)} with the tracing given (say, an SDK an embedding process configured)
     * rather than the one the {@code OTEL_*} variables describe.
     */
    public static OrdersApp start(OrdersConfig config, Tracing tracing) {
        long started = System.nanoTime();
        LOG.info("starting with {}", config.describe());
        Infrastructure infrastructure = Infrastructure.start(config);
        Vertx vertx = ProcessMetrics.newVertx(tracing);
        try {
            CommandSide command = await(CommandSide.deploy(vertx, config, infrastructure.commandPgUri(),
                    infrastructure.kafkaBootstrap()), "the command side");
            QuerySide query = await(QuerySide.deploy(vertx, config, infrastructure.queryPgUri(),
                    infrastructure.kafkaBootstrap()), "the query side");
            Security security = Security.create(vertx, config.securitySettings());
            Health health = new Health();
            HttpServerVerticle http = new HttpServerVerticle(config.httpHost(), config.httpPort(),
                    v -> routes(v, security, health, command, query));
            await(vertx.deployVerticle(http), "the HTTP server");
            GracefulStop stop = new GracefulStop(health, http, query.push()::drain,
                    () -> query.close().transform(ignored -> command.close()));
            OrdersApp app = new OrdersApp(infrastructure, vertx, command, query, config, stop, http.actualPort());
            // Ctrl-C or SIGTERM: the infrastructure's shutdown hook stops the services first, then the servers.
            infrastructure.beforeClose(() -> app.stopServices(config.shutdownNotice()));
            LOG.info("started in {} ms: {}", (System.nanoTime() - started) / 1_000_000, app.url());
            return app;
        } catch (RuntimeException failure) {
            closeQuietly(vertx);
            infrastructure.close();
            throw failure;
        }
    }

    /** The one router of the process (package-private: the security test walks its routes). */
    static Router routes(Vertx vertx, Security security, CommandSide command, QuerySide query) {
        return routes(vertx, security, new Health(), command, query);
    }

    private static Router routes(Vertx vertx, Security security, Health health, CommandSide command, QuerySide query) {
        command.addHealthChecks(health);
        query.readiness(health);
        query.status().commandSide(command::statusFigures);
        Router router = ServiceRouter.create(vertx, security, health, List.of(command.meterRegistry(), query.meterRegistry()),
                api -> {
                    command.mount(api);
                    query.mount(api);
                });
        router.route("/*").handler(StaticHandler.create("webroot").setIndexPage("index.html"));
        return router;
    }

    /** The URL a browser opens. */
    public String url() {
        String shown = host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host;
        return "http://" + shown + ":" + port + "/";
    }

    public int port() {
        return port;
    }

    public Vertx vertx() {
        return vertx;
    }

    public CommandSide commandSide() {
        return commandSide;
    }

    public QuerySide querySide() {
        return querySide;
    }

    /**
     * Stops the HTTP server, both sides and the infrastructure this process started; called by a test or a
     * benchmark, which no balancer watches, so without the readiness notice of a SIGTERM.
     */
    @Override
    public void close() {
        stopServices(Duration.ZERO);
        infrastructure.close();
        LOG.info("stopped");
    }

    private boolean servicesStopped;

    /** The graceful stop, with this notice; then Vert.x. Once. */
    private synchronized void stopServices(Duration notice) {
        if (servicesStopped) {
            return;
        }
        servicesStopped = true;
        long limit = notice.plus(config.shutdownGrace()).toSeconds() + STOP_MARGIN_SECONDS;
        try {
            await(stop.run(vertx, notice, config.shutdownGrace()), "the graceful stop", limit);
        } catch (RuntimeException failure) {
            LOG.warn("stopping the services: {}", oneLine(failure));
        }
        closeQuietly(vertx);
    }

    private static void closeQuietly(Vertx vertx) {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("Vert.x did not close cleanly: {}", e.getMessage());
        }
    }

    private static <T> T await(Future<T> future, String what) {
        return await(future, what, START_TIMEOUT_SECONDS);
    }

    private static <T> T await(Future<T> future, String what, long timeoutSeconds) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + what, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(what + " failed: " + oneLine(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException(what + " did not finish within " + timeoutSeconds + " s", e);
        }
    }

    static String oneLine(Throwable failure) {
        return ServiceLauncher.oneLine(failure);
    }

    private static void exit(int status, String message) {
        System.err.println("orders: " + message);
        System.exit(status);
    }

    private static String usage() {
        return """
                Orders, event-sourced: the command side, the query side and the browser UI in one process.

                Usage: java -jar all-in-one/target/orders-all-in-one.jar [--key=value ...] [--config FILE]
                       java -jar all-in-one/target/orders-all-in-one.jar --version | --help

                Without pg.uri and kafka.bootstrap it starts a real PostgreSQL and a real Kafka broker of
                its own (embedded), keeping their data in data.dir across restarts.

                """ + OrdersConfig.help() + "\n\n" + Tracing.HELP;
    }
}
