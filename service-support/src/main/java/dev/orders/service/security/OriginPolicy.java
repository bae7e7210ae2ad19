package dev.orders.service.security;

import dev.orders.service.http.ProblemException;
import io.vertx.core.http.HttpServerRequest;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which browser origins may open a stream or a WebSocket, or send a cookie-authenticated command: the
 * request's own origin (the origin whose authority is the {@code Host} header) and the configured ones.
 * For reads a request without {@code Origin} (not a browser, or a same-origin navigation) passes: the
 * check stops cross-site pages from reading a user's streams with the user's cookie, which browsers
 * always mark with {@code Origin}. A command sent with the cookie must carry an allowed {@code Origin}
 * ({@link #allowsCommand}): browsers send it on every {@code POST}, so its absence means a forgery.
 */
public final class OriginPolicy {

    private final Set<String> allowed;

    public OriginPolicy(List<String> allowedOrigins) {
        this.allowed = allowedOrigins.stream().map(OriginPolicy::normalise).collect(Collectors.toUnmodifiableSet());
    }

    public boolean allows(HttpServerRequest request) {
        return request.getHeader("Origin") == null || allowsCommand(request);
    }

    /**
     * The check of every stream and WebSocket (the order streams, the operators' streams, the status stream):
     * a request from an origin not allowed ({@link #allows}) is a {@code 403} naming it.
     */
    public void requireStreamOrigin(HttpServerRequest request) {
        if (!allows(request)) {
            throw new ProblemException(403, "Forbidden", "streams are not served to the origin " + request.getHeader("Origin"));
        }
    }

    /** True only when the request names an {@code Origin} and that origin is allowed. */
    public boolean allowsCommand(HttpServerRequest request) {
        String origin = request.getHeader("Origin");
        if (origin == null) {
            return false;
        }
        String normalised = normalise(origin);
        if (normalised == null) {
            return false;
        }
        if (allowed.contains(normalised)) {
            return true;
        }
        String host = request.getHeader("Host");
        if (host == null && request.authority() != null) {
            host = request.authority().toString();
        }
        return host != null && authorityOf(normalised).equals(withDefaultPort(host.toLowerCase(Locale.ROOT),
                normalised.startsWith("https://") || normalised.startsWith("wss://")));
    }

    /** {@code scheme://host:port} in lower case with the port made explicit, or null when malformed. */
    static String normalise(String origin) {
        try {
            URI uri = new URI(origin.trim());
            String scheme = uri.getScheme();
            String host = uri.getHost();
            if (scheme == null || host == null || uri.getRawPath() != null && !uri.getRawPath().isEmpty()
                    && !uri.getRawPath().equals("/")) {
                return null;
            }
            scheme = scheme.toLowerCase(Locale.ROOT);
            int port = uri.getPort() >= 0 ? uri.getPort() : scheme.equals("https") || scheme.equals("wss") ? 443 : 80;
            return scheme + "://" + host.toLowerCase(Locale.ROOT) + ":" + port;
        } catch (Exception e) {
            return null;
        }
    }

    private static String authorityOf(String normalisedOrigin) {
        return normalisedOrigin.substring(normalisedOrigin.indexOf("://") + 3);
    }

    private static String withDefaultPort(String host, boolean secure) {
        int bracket = host.lastIndexOf(']');
        int colon = host.lastIndexOf(':');
        return colon > bracket ? host : host + ":" + (secure ? 443 : 80);
    }
}
