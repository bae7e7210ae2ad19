package dev.orders.service.security;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.handler.CorsHandler;

import java.util.List;
import java.util.Set;

/** CORS for the configured origins ({@code cors.origins}) only, with credentials, on the API's methods and headers. */
final class Cors {

    private Cors() {
    }

    static CorsHandler handler(List<String> allowedOrigins) {
        return CorsHandler.create()
                .addOrigins(allowedOrigins)
                .allowCredentials(true)
                .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.DELETE))
                .allowedHeaders(Set.of("Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID",
                        "X-Correlation-Id", "traceparent"))
                .exposedHeaders(Set.of("Location", "Retry-After", "X-Correlation-Id"));
    }
}
