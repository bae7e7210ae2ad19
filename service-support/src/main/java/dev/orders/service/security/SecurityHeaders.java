package dev.orders.service.security;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

/**
 * Headers on every response that make the browser UI hard to abuse: a Content-Security-Policy that
 * allows only the app's own scripts and styles (no inline script, no eval, no framing), no MIME
 * sniffing, no referrer leaving the app.
 */
public final class SecurityHeaders {

    private SecurityHeaders() {
    }

    /**
     * @param apiOrigins origins besides the page's own that the UI may call (split deployments); empty in
     *                   the all-in-one mode
     */
    public static Handler<RoutingContext> handler(List<String> apiOrigins) {
        String csp = contentSecurityPolicy(apiOrigins);
        return ctx -> {
            ctx.response()
                    .putHeader("Content-Security-Policy", csp)
                    .putHeader("X-Content-Type-Options", "nosniff")
                    .putHeader("Referrer-Policy", "no-referrer")
                    .putHeader("X-Frame-Options", "DENY")
                    .putHeader("Cross-Origin-Opener-Policy", "same-origin");
            ctx.next();
        };
    }

    static String contentSecurityPolicy(List<String> apiOrigins) {
        String connect = apiOrigins.isEmpty() ? "'self'" : "'self' " + String.join(" ", apiOrigins);
        return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                + "connect-src " + connect + "; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
                + "frame-ancestors 'none'";
    }
}
