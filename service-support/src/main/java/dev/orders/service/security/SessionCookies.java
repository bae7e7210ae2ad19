package dev.orders.service.security;

import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.ext.web.RoutingContext;

/**
 * The session cookie: the token a browser signed in with, HttpOnly and SameSite=Strict, so that EventSource
 * and WebSocket (which cannot send a header) can authenticate; Secure when the request came over TLS.
 */
final class SessionCookies {

    static final String NAME = "orders_session";

    private SessionCookies() {
    }

    /** The cookie that carries this token for this many seconds. */
    static Cookie of(RoutingContext ctx, String value, long maxAgeSeconds) {
        boolean secure = ctx.request().isSSL() || "https".equalsIgnoreCase(ctx.request().getHeader("X-Forwarded-Proto"));
        return Cookie.cookie(NAME, value).setPath("/").setHttpOnly(true).setSameSite(CookieSameSite.STRICT)
                .setSecure(secure).setMaxAge(maxAgeSeconds);
    }

    /** The cookie that makes the browser forget the session. */
    static Cookie cleared(RoutingContext ctx) {
        return of(ctx, "", 0);
    }
}
