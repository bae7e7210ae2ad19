package dev.orders.service.security;

import dev.orders.service.http.ContractRequests;
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
 * describes the caller, {@code DELETE} {@value Security#SESSION_PATH} signs out (clears the cookie); and their
 * contract, {@link SessionApi}'s document, served at {@value SessionApi#PATH}. The sign-in's body is read
 * strictly ({@link JsonRequest#readObject}), then checked against that document's {@code DevTokenRequest}
 * (a customer's id or the operator role, nothing else).
 */
final class SessionRoutes {

    private static final Logger LOG = LoggerFactory.getLogger(SessionRoutes.class);

    private final SecuritySettings settings;
    private final OriginPolicy origins;
    /** Null in production mode. */
    private final DevelopmentTokens devTokens;
    private final ContractRequests contract;
    private final ContractRequests.Check devTokenRequest;

    /**
     * @param contract the requests of {@link SessionApi}'s document
     * @throws IllegalStateException when the document does not describe the sign-in
     */
    SessionRoutes(SecuritySettings settings, OriginPolicy origins, DevelopmentTokens devTokens, ContractRequests contract) {
        this.settings = settings;
        this.origins = origins;
        this.devTokens = devTokens;
        this.contract = contract;
        this.devTokenRequest = contract.operation("issueDevelopmentToken");
    }

    void mount(Router router) {
        contract.document().mount(router);
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
        JsonRequest body = JsonRequest.readObject(ctx);
        devTokenRequest.check(ctx);
        // the document allows either a customer's id or the operator role
        UUID customerId = body.has("customerId") ? body.uuid("customerId") : null;
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
