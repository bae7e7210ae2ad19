package dev.orders.service.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Serves a router. Its start completes only once the server listens, so a port already taken fails
 * the deployment (and the start of the process) with a clear cause.
 */
public final class HttpServerVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(HttpServerVerticle.class);

    private final String host;
    private final int port;
    private final Function<io.vertx.core.Vertx, Router> routes;
    private HttpServer server;

    public HttpServerVerticle(String host, int port, Function<io.vertx.core.Vertx, Router> routes) {
        this.host = host;
        this.port = port;
        this.routes = routes;
    }

    @Override
    public Future<?> start() {
        HttpServerOptions options = new HttpServerOptions().setHost(host).setPort(port)
                .setCompressionSupported(false).setTcpNoDelay(true).setIdleTimeout(0);
        return vertx.createHttpServer(options)
                .requestHandler(routes.apply(vertx))
                .listen()
                .recover(failure -> Future.failedFuture(new IllegalStateException(
                        "cannot listen on " + host + ":" + port + ": " + failure.getMessage(), failure)))
                .onSuccess(listening -> {
                    server = listening;
                    LOG.debug("HTTP server listening on {}:{}", host, listening.actualPort());
                });
    }

    /**
     * Stops accepting connections, lets the requests in progress finish and closes each connection
     * after its answer; what is still open after {@code grace} is closed.
     */
    public Future<Void> shutdown(Duration grace) {
        return server == null ? Future.succeededFuture() : server.shutdown(grace.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The port actually bound (useful when asked for port 0). */
    public int actualPort() {
        return server == null ? -1 : server.actualPort();
    }
}
