package dev.orders.app;

import dev.orders.command.CommandSide;
import dev.orders.devservers.Infrastructure;
import dev.orders.infra.ServiceLauncher;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.query.QuerySide;
import dev.orders.service.http.ContractRequests;
import dev.orders.service.http.Health;
import dev.orders.service.security.Security;
import dev.orders.service.tracing.Tracing;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

/**
 * The whole system in one process: the infrastructure (embedded by default), the command side, the
 * query side and the browser UI, all served on one port, started by the same {@link ServiceLauncher} as
 * each side on its own. On Ctrl-C or SIGTERM it stops as a service process does (readiness 503 for
 * {@code shutdown.notice}, streams told to reconnect, requests in progress finished), then the servers it
 * started.
 */
public final class OrdersApp implements AutoCloseable {

    private static final String NAME = "orders-all-in-one";
    private static final String USAGE = """
            Orders, event-sourced: the command side, the query side and the browser UI in one process.

            Usage: java -jar all-in-one/target/orders-all-in-one.jar [--key=value ...] [--config FILE]
                   java -jar all-in-one/target/orders-all-in-one.jar --version | --help

            Without pg.uri and kafka.bootstrap it starts a real PostgreSQL and a real Kafka broker of
            its own (embedded), keeping their data in data.dir across restarts.""";
    private static final ServiceLauncher<Infrastructure, BothSides> LAUNCHER = new ServiceLauncher<>(NAME, USAGE,
            "orders", Infrastructure::start, OrdersApp::deploy,
            url -> "\n  Orders is running: open " + url + "   (Ctrl-C stops it)\n");

    private final ServiceLauncher.Running<Infrastructure, BothSides> running;

    private OrdersApp(ServiceLauncher.Running<Infrastructure, BothSides> running) {
        this.running = running;
    }

    public static void main(String[] args) {
        LAUNCHER.run(args);
    }

    /**
     * Starts everything and returns once the HTTP port listens. Blocking: call it from a main thread
     * or a test, never from an event loop. On failure everything started so far is stopped again.
     */
    public static OrdersApp start(OrdersConfig config) {
        return start(config, Tracing.fromEnvironment(NAME));
    }

    /**
     * {@link #start(OrdersConfig)} with the tracing given (say, an SDK an embedding process configured)
     * rather than the one the {@code OTEL_*} variables describe.
     */
    public static OrdersApp start(OrdersConfig config, Tracing tracing) {
        return new OrdersApp(LAUNCHER.start(config, tracing));
    }

    /**
     * The command side, then the query side, which shows the command side's figures in its status stream where
     * this process runs the command side's workers.
     */
    private static Future<BothSides> deploy(Vertx vertx, OrdersConfig config, Infrastructure servers) {
        return CommandSide.deploy(vertx, config, servers.commandPgUri(), servers.kafkaBootstrap())
                .compose(command -> QuerySide.deploy(vertx, config, servers.queryPgUri(), servers.kafkaBootstrap())
                        .onSuccess(query -> {
                            if (command.runsWorkers()) {
                                query.status().commandSide(command::statusFigures);
                            }
                        })
                        .map(query -> new BothSides(command, query)));
    }

    /** The one router of the process (package-private: the security test walks its routes). */
    static Router routes(Vertx vertx, Security security, ContractRequests sessionContract, CommandSide command,
                         QuerySide query) {
        return ServiceLauncher.router(vertx, security, sessionContract, new Health(), new BothSides(command, query));
    }

    /** The URL a browser opens. */
    public String url() {
        return running.url();
    }

    public int port() {
        return running.port();
    }

    public Vertx vertx() {
        return running.vertx();
    }

    public CommandSide commandSide() {
        return running.part().command();
    }

    public QuerySide querySide() {
        return running.part().query();
    }

    /** The servers it runs on, which it started unless the configuration names them. */
    public Infrastructure infrastructure() {
        return running.servers();
    }

    /**
     * Stops the HTTP server, both sides and the infrastructure this process started; called by a test or a
     * benchmark, which no balancer watches, so without the readiness notice of a SIGTERM.
     */
    @Override
    public void close() {
        running.close();
    }
}
