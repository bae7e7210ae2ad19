package dev.orders.service.security;

import dev.orders.service.http.ProblemException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;

/**
 * Cross-site request forgery: a request that changes something and is authenticated by the session cookie
 * (which a browser sends whoever asks) must come from an allowed {@code Origin} ({@link OriginPolicy}), or
 * it answers 403. A bearer token is never sent by a browser on its own, so it needs no such check.
 */
final class CsrfGuard implements Handler<RoutingContext> {

    private static final Set<HttpMethod> SAFE = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);

    private final OriginPolicy origins;

    CsrfGuard(OriginPolicy origins) {
        this.origins = origins;
    }

    @Override
    public void handle(RoutingContext ctx) {
        Caller caller = ctx.get(Caller.CONTEXT_KEY);
        HttpServerRequest request = ctx.request();
        if (caller != null && caller.credential() == Caller.Credential.COOKIE && !SAFE.contains(request.method())
                && !origins.allowsCommand(request)) {
            ctx.fail(ProblemException.forbidden("a request authenticated by the session cookie must come from an"
                    + " allowed Origin; this one came from " + (request.getHeader("Origin") == null
                    ? "no Origin" : "another origin")));
            return;
        }
        ctx.next();
    }
}
