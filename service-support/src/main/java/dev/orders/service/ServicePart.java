package dev.orders.service;

import dev.orders.service.http.Health;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;

import java.util.List;

/**
 * What a process serves, as its launcher sees it: the routes, the readiness checks, the meters, and how it
 * stops. A side on its own is one ({@code CommandSide}, {@code QuerySide}); the all-in-one's two sides and
 * pages together are another. The launcher puts it behind the process's one HTTP server and stops it
 * gracefully ({@link dev.orders.service.http.GracefulStop}).
 */
public interface ServicePart {

    /** Mounts its routes on the process's router (made by {@code ApiRouter}: security, bodies and problems around them). */
    void mount(Router router);

    /** Adds its readiness checks to the process's health; returns that health. */
    Health readiness(Health health);

    /** Its meters, scraped with the process's own at {@code GET /metrics}. */
    List<PrometheusMeterRegistry> meterRegistries();

    /** Tells every open stream to reconnect elsewhere, and ends it; a part without streams has nothing to do. */
    default Future<Void> endStreams() {
        return Future.succeededFuture();
    }

    /** Closes its consumers, workers and pools. */
    Future<Void> close();
}
