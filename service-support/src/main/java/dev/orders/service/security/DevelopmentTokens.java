package dev.orders.service.security;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.util.UUID;

/**
 * Development mode's token issuer: signs tokens for any customer or an operator with the development key
 * ({@code auth.dev-key}, or one made up per process). Production mode has none.
 */
final class DevelopmentTokens {

    private final PubSecKeyOptions key;
    private final JWTAuth issuer;

    DevelopmentTokens(Vertx vertx, SecuritySettings settings) {
        this.key = new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(settings.effectiveDevKey());
        this.issuer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(key));
    }

    /** The key its tokens are signed with, for the verifier to trust. */
    PubSecKeyOptions key() {
        return key;
    }

    /**
     * Signs a development token.
     *
     * @param customerId the customer the token is for, or null for an operator
     * @param ttlSeconds the token's lifetime
     */
    String issue(UUID customerId, long ttlSeconds) {
        JsonObject claims = customerId == null
                ? new JsonObject().put("sub", "operator").put("role", Security.OPERATOR_ROLE)
                : new JsonObject().put("sub", customerId.toString());
        return issuer.generateToken(claims, new JWTOptions().setAlgorithm("HS256")
                .setExpiresInSeconds((int) Math.min(Integer.MAX_VALUE, ttlSeconds)));
    }
}
