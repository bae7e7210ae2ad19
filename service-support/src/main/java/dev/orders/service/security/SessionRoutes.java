package dev.orders.service.security;

import dev.orders.service.http.JsonRequest;
import dev.orders.service.http.ProblemException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.UUID;

/**
 * The session routes: {@code POST} {@value Security#DEV_TOKEN_PATH} signs in (development mode only: a token
 * for any customer or an operator, also set as the session cookie), {@code GET} {@value Security#SESSION_PATH}
 * describes the caller, {@code DELETE} {@value Security#SESSION_PATH} signs out (clears the cookie).
 */
final class SessionRoutes {

    private static final Logger LOG = LoggerFactory.getLogger(SessionRoutes.class);

    private final SecuritySettings settings;
    private final OriginPolicy origins;
    /** Null in production mode. */
    private final DevelopmentTokens devTokens;

    SessionRoutes(SecuritySettings settings, OriginPolicy origins, DevelopmentTokens devTokens) {
        this.settings = settings;
        this.origins = origins;
        this.devTokens = devTokens;
    }

    void mount(Router router) {
        if (devTokens != null) {
            router.post(Security.DEV_TOKEN_PATH).handler(this::issueDevToken);
        }
        router.get(Security.SESSION_PATH).handler(this::describeSession);
        router.delete(Security.SESSION_PATH).handler(this::signOut);
    }

    private void issueDevToken(RoutingContext ctx) {
        if (!origins.allows(ctx.request())) {
            throw ProblemException.forbidden("sign-in is only accepted from this service's own pages or cors.origins");
        }
        JsonRequest body = JsonRequest.read(ctx, "customerId", "role");
        UUID customerId = null;
        if (body.has("customerId") == body.has("role")) {
            throw ProblemException.badRequest("send either {\"customerId\"} or {\"role\": \"operator\"}");
        }
        if (body.has("role")) {
            if (!Security.OPERATOR_ROLE.equals(body.text("role", 1, 20))) {
                throw ProblemException.badRequest("role must be \"operator\"");
            }
        } else {
            customerId = body.uuid("customerId");
        }
        long ttl = settings.tokenTtl().toSeconds();
        String token = devTokens.issue(customerId, ttl);
        ctx.response().addCookie(SessionCookies.of(ctx, token, ttl));
        ctx.response().putHeader("Cache-Control", "no-store");
        ctx.json(new JsonObject().put("token", token)
                .put("expiresAt", Instant.now().plusSeconds(ttl).toString())
                .put("role", customerId == null ? Security.OPERATOR_ROLE : "customer")
                .put("customerId", customerId == null ? null : customerId.toString()));
        LOG.info("development token issued for {}", customerId == null ? "an operator" : "customer " + customerId);
    }

    private void describeSession(RoutingContext ctx) {
        Caller caller = Caller.of(ctx);
        ctx.response().putHeader("Cache-Control", "no-store");
        ctx.json(new JsonObject()
                .put("role", caller.operator() ? Security.OPERATOR_ROLE : "customer")
                .put("subject", caller.subject())
                .put("customerId", caller.customerId() == null ? null : caller.customerId().toString())
                .put("expiresAt", caller.expiresAt().toString())
                .put("credential", caller.credential().name().toLowerCase(java.util.Locale.ROOT))
                .put("development", devTokens != null));
    }

    private void signOut(RoutingContext ctx) {
        ctx.response().addCookie(SessionCookies.cleared(ctx));
        ctx.response().setStatusCode(204).end();
    }
}
