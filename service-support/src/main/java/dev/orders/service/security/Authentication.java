package dev.orders.service.security;

import dev.orders.service.http.ContractDocument;
import dev.orders.service.http.ProblemException;
import io.vertx.core.Handler;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handler in front of every {@code /api} route: takes the token from {@code Authorization: Bearer} or
 * else the session cookie, verifies it and puts the {@link Caller} on the request; a missing or bad token
 * answers 401 (and a dead cookie is cleared). Signing in (development mode) and the contract documents
 * pass without a token, and without a caller.
 */
final class Authentication implements Handler<RoutingContext> {

    private static final Logger LOG = LoggerFactory.getLogger(Authentication.class);

    private final TokenVerifier tokens;
    private final boolean development;

    Authentication(TokenVerifier tokens, boolean development) {
        this.tokens = tokens;
        this.development = development;
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        if (development && request.method() == HttpMethod.POST && Security.DEV_TOKEN_PATH.equals(request.path())
                || ContractDocument.isContract(request.method(), request.path())) {
            ctx.next();
            return;
        }
        String header = request.getHeader("Authorization");
        Caller.Credential credential;
        String token;
        if (header != null) {
            if (header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
                ctx.fail(ProblemException.unauthorized("the Authorization header must be 'Bearer <token>'"));
                return;
            }
            token = header.substring(7).trim();
            credential = Caller.Credential.BEARER;
        } else {
            Cookie cookie = request.getCookie(SessionCookies.NAME);
            if (cookie == null || cookie.getValue().isEmpty()) {
                ctx.fail(ProblemException.unauthorized("a token is required: sign in, or send 'Authorization: Bearer <token>'"));
                return;
            }
            token = cookie.getValue();
            credential = Caller.Credential.COOKIE;
        }
        tokens.verify(token, credential).onComplete(verified -> {
            if (verified.failed()) {
                LOG.debug("token refused: {}", verified.cause().getMessage());
                if (credential == Caller.Credential.COOKIE) {
                    // a dead cookie is of no use to anyone: let the browser forget it
                    ctx.response().addCookie(SessionCookies.cleared(ctx));
                }
                ctx.fail(verified.cause() instanceof ProblemException problem ? problem
                        : ProblemException.unauthorized("the token is not valid: malformed, expired or not signed by a trusted key"));
                return;
            }
            ctx.put(Caller.CONTEXT_KEY, verified.result());
            ctx.next();
        });
    }
}
