package dev.orders.service.http;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * How a service process stops on SIGTERM without losing a request, in order: readiness answers
 * {@code 503} (balancers take the process out), a notice period while they notice, the streams are told
 * to reconnect elsewhere and ended, the HTTP server stops accepting and lets the requests in progress
 * (in-flight commands) finish, at most for a grace period, and only then the service's consumers,
 * relay and pools close.
 *
 * @param health       the process's health, whose readiness turns 503
 * @param http         the HTTP server
 * @param endStreams   tells every open stream to reconnect elsewhere (the query side's push hub); may do nothing
 * @param closeService closes the service's consumers, workers and pools
 */
public record GracefulStop(Health health, HttpServerVerticle http, Supplier<Future<Void>> endStreams,
                           Supplier<Future<Void>> closeService) {

    private static final Logger LOG = LoggerFactory.getLogger(GracefulStop.class);

    /**
     * Runs the stop.
     *
     * @param vertx  the Vert.x instance, for the notice timer
     * @param notice how long readiness answers 503 before the port closes
     * @param grace  how long requests in progress may take to finish
     * @return done when the service is closed (each step runs even if the one before failed)
     */
    public Future<Void> run(Vertx vertx, Duration notice, Duration grace) {
        long started = System.nanoTime();
        health.drain();
        LOG.info("stopping: readiness answers 503; the port closes in {} ms", notice.toMillis());
        Promise<Void> noticed = Promise.promise();
        vertx.setTimer(Math.max(1, notice.toMillis()), id -> noticed.complete());
        return noticed.future()
                .compose(ignored -> endStreams.get())
                .eventually(() -> http.shutdown(grace)
                        .onSuccess(ignored -> LOG.info("stopping: the HTTP server answered its last request")))
                .eventually(closeService::get)
                .onComplete(done -> LOG.info("stopped in {} ms{}", (System.nanoTime() - started) / 1_000_000,
                        done.failed() ? " (" + done.cause() + ")" : ""))
                .mapEmpty();
    }
}
