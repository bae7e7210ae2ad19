package dev.orders.infra;

import dev.orders.infra.config.ConfigException;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.ServicePart;
import dev.orders.service.Version;
import dev.orders.service.http.ContractRequests;
import dev.orders.service.http.GracefulStop;
import dev.orders.service.http.Health;
import dev.orders.service.http.HttpServerVerticle;
import dev.orders.service.http.ServiceRouter;
import dev.orders.service.metrics.ProcessMetrics;
import dev.orders.service.security.Security;
import dev.orders.service.security.SessionApi;
import dev.orders.service.tracing.Tracing;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Runs a process of the system, the one way every entry point does: {@code --version}, {@code --help}, the
 * configuration (one line and exit 2 when it is bad), the servers it runs on ({@link Servers}: a side on its own
 * requires external PostgreSQL and Kafka, the all-in-one may start them), Vert.x, what the entry point deploys
 * (one line and exit 1 when it fails, everything started so far stopped again), one HTTP server for it
 * with its readiness and meters, the URL it serves, and on Ctrl-C or SIGTERM the graceful stop
 * ({@link GracefulStop}: readiness 503 first, streams told to reconnect, requests in progress finished, then
 * the services), then Vert.x, then the servers the process started.
 *
 * @param <S> the servers it runs on
 * @param <P> what the entry point deploys
 */
public final class ServiceLauncher<S extends Servers, P extends ServicePart> {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceLauncher.class);
    private static final long START_TIMEOUT_SECONDS = 180;
    /** Beyond the notice and grace, what a stop may take before Vert.x and the servers stop anyway. */
    private static final long STOP_MARGIN_SECONDS = 10;

    /** Finds or starts the servers a configuration names. */
    @FunctionalInterface
    public interface ServerSource<S extends Servers> {
        S open(OrdersConfig config);
    }

    /** Deploys what the process serves, on its servers. */
    @FunctionalInterface
    public interface Deployer<S extends Servers, P extends ServicePart> {
        Future<P> deploy(Vertx vertx, OrdersConfig config, S servers);
    }

    private final String name;
    private final String usage;
    private final String reportedAs;
    private final ServerSource<S> servers;
    private final Deployer<S, P> deployer;
    private final Function<String, String> announcement;

    /**
     * @param name         the process's name: its {@code --version} line and its traces' service
     * @param usage        what {@code --help} says before the configuration keys
     * @param reportedAs   what a one-line problem on stderr starts with ({@code <reportedAs>: cannot start: ...})
     * @param servers      where its PostgreSQL and Kafka come from
     * @param deployer     what it deploys
     * @param announcement the text printed once it serves, given its URL
     */
    public ServiceLauncher(String name, String usage, String reportedAs, ServerSource<S> servers,
                           Deployer<S, P> deployer, Function<String, String> announcement) {
        this.name = name;
        this.usage = usage;
        this.reportedAs = reportedAs;
        this.servers = servers;
        this.deployer = deployer;
        this.announcement = announcement;
    }

    /** A side on its own: it requires the external PostgreSQL and Kafka, and starts no server. */
    public static <P extends ServicePart> ServiceLauncher<Servers, P> service(String name, String description,
                                                                             Deployer<Servers, P> deployer) {
        return new ServiceLauncher<>(name, description, name, config -> Servers.external(config, name), deployer,
                url -> name + " is running on " + url + "   (Ctrl-C stops it)");
    }

    /** The process's {@code main}: prints, starts, and exits 2 (bad configuration) or 1 (cannot start) on failure. */
    public void run(String[] args) {
        if (Version.requested(args)) {
            System.out.println(Version.line(name));
            return;
        }
        if (OrdersConfig.helpRequested(args)) {
            System.out.println(usage + "\n\n" + OrdersConfig.help() + "\n\n" + Tracing.HELP);
            return;
        }
        try {
            Running<S, P> running = start(OrdersConfig.load(args), Tracing.fromEnvironment(name));
            System.out.println(announcement.apply(running.url()));
        } catch (ConfigException bad) {
            exit(2, reportedAs + ": bad configuration: " + bad.getMessage());
        } catch (RuntimeException failure) {
            exit(1, reportedAs + ": cannot start: " + oneLine(failure));
        }
    }

    /**
     * Starts the process's services and returns once its HTTP port listens. Blocking: call it from a main
     * thread or a test, never from an event loop. On failure everything started so far is stopped again.
     *
     * @throws ConfigException when the configuration does not name the servers it needs
     */
    public Running<S, P> start(OrdersConfig config, Tracing tracing) {
        long started = System.nanoTime();
        LOG.info("starting {} with {}", name, config.describe());
        S opened = servers.open(config);
        Vertx vertx = ProcessMetrics.newVertx(tracing, config.eventLoops());
        try {
            // the session routes' document loads while the part deploys
            Future<ContractRequests> loadingSessionContract = SessionApi.load(vertx);
            P part = await(deployer.deploy(vertx, config, opened), START_TIMEOUT_SECONDS);
            Security security = Security.create(vertx, config.securitySettings());
            ContractRequests sessionContract = await(loadingSessionContract, START_TIMEOUT_SECONDS);
            Health health = new Health();
            HttpServerVerticle http = new HttpServerVerticle(config.httpHost(), config.httpPort(),
                    v -> router(v, security, sessionContract, health, part));
            await(vertx.deployVerticle(http), START_TIMEOUT_SECONDS);
            Running<S, P> running = new Running<>(opened, vertx, part, config,
                    new GracefulStop(health, http, part::endStreams, part::close), http.actualPort());
            // Ctrl-C or SIGTERM: the servers' one shutdown hook stops the services first, then the servers.
            opened.beforeClose(() -> running.stopServices(config.shutdownNotice()));
            LOG.info("{} started in {} ms: {}", name, (System.nanoTime() - started) / 1_000_000, running.url());
            return running;
        } catch (RuntimeException failure) {
            closeQuietly(vertx);
            opened.close();
            throw failure;
        }
    }

    /**
     * The one router of a process serving this part (its readiness checks are added to the health given).
     *
     * @param sessionContract the requests of the session routes' document, {@link SessionApi#load}
     */
    public static Router router(Vertx vertx, Security security, ContractRequests sessionContract, Health health,
                                ServicePart part) {
        part.readiness(health);
        return ServiceRouter.create(vertx, security, sessionContract, health, part.meterRegistries(), part::mount);
    }

    /**
     * A started process.
     *
     * @param <S> the servers it runs on
     * @param <P> what it serves
     */
    public static final class Running<S extends Servers, P extends ServicePart> implements AutoCloseable {

        private final S servers;
        private final Vertx vertx;
        private final P part;
        private final OrdersConfig config;
        private final GracefulStop stop;
        private final int port;
        private boolean servicesStopped;

        private Running(S servers, Vertx vertx, P part, OrdersConfig config, GracefulStop stop, int port) {
            this.servers = servers;
            this.vertx = vertx;
            this.part = part;
            this.config = config;
            this.stop = stop;
            this.port = port;
        }

        public S servers() {
            return servers;
        }

        public Vertx vertx() {
            return vertx;
        }

        public P part() {
            return part;
        }

        public int port() {
            return port;
        }

        /** The URL a browser or client opens. */
        public String url() {
            String host = config.httpHost();
            String shown = host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host;
            return "http://" + shown + ":" + port + "/";
        }

        /**
         * Stops the services, then the servers this process started; called by a test or a benchmark, which no
         * balancer watches, so without the readiness notice of a SIGTERM.
         */
        @Override
        public void close() {
            stopServices(Duration.ZERO);
            servers.close();
            LOG.info("stopped");
        }

        /** The graceful stop with this notice, then Vert.x; once. */
        private synchronized void stopServices(Duration notice) {
            if (servicesStopped) {
                return;
            }
            servicesStopped = true;
            long limit = notice.plus(config.shutdownGrace()).toSeconds() + STOP_MARGIN_SECONDS;
            try {
                await(stop.run(vertx, notice, config.shutdownGrace()), limit);
            } catch (RuntimeException failure) {
                LOG.warn("the graceful stop did not finish: {}", oneLine(failure));
            }
            closeQuietly(vertx);
        }
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

    private static <T> T await(Future<T> future, long timeoutSeconds) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause
                    : new IllegalStateException(oneLine(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("did not finish within " + timeoutSeconds + " s", e);
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
