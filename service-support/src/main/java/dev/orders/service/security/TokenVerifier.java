package dev.orders.service.security;

import dev.orders.service.http.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.time.Clock;
import java.time.Instant;
import java.util.UUID;

/**
 * Verifies a signed JWT (signature by the configured public keys, the issuer's key set or the development
 * key; expiry, issuer, audience) and reads who it names: an operator (role {@code operator}) or the customer
 * its subject is. A token verified lately is known by its text ({@link VerifiedTokens}) until it expires.
 */
final class TokenVerifier {

    /** Tokens longer than this are refused before any parsing. */
    static final int MAX_TOKEN_CHARS = 8_192;
    private static final int LEEWAY_SECONDS = 5;

    private final JWTAuth verifier;
    /** The issuer's key set, when {@code auth.jwks-url} names one; null otherwise. */
    private final JwksKeys jwks;
    private final Clock clock;
    private final VerifiedTokens verified;

    private TokenVerifier(JWTAuth verifier, JwksKeys jwks, Clock clock) {
        this.verifier = verifier;
        this.jwks = jwks;
        this.clock = clock;
        this.verified = new VerifiedTokens(clock);
    }

    /** A verifier of the configured keys and, when given, the development key too. */
    static TokenVerifier create(Vertx vertx, SecuritySettings settings, PubSecKeyOptions devKey) {
        JWTOptions verification = new JWTOptions().setLeeway(LEEWAY_SECONDS);
        if (!settings.issuer().isEmpty()) {
            verification.setIssuer(settings.issuer());
        }
        if (!settings.audience().isEmpty()) {
            verification.addAudience(settings.audience());
        }
        JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(verification);
        settings.publicKeysPem().forEach(pem -> options.addPubSecKey(
                new PubSecKeyOptions().setAlgorithm(settings.algorithm()).setBuffer(pem)));
        if (devKey != null) {
            options.addPubSecKey(devKey);
        }
        return new TokenVerifier(JWTAuth.create(vertx, options), jwks(vertx, settings, options), Clock.systemUTC());
    }

    private static JwksKeys jwks(Vertx vertx, SecuritySettings settings, JWTAuthOptions options) {
        return settings.jwksUrl().isEmpty() ? null
                : new JwksKeys(vertx, settings.jwksUrl(), new JWTAuthOptions(options), settings.algorithm());
    }

    private static Future<io.vertx.ext.auth.User> authenticate(JWTAuth keys, String token) {
        try {
            return keys.authenticate(new TokenCredentials(token));
        } catch (RuntimeException malformed) {
            // vertx-auth throws (rather than failing the future) on some malformed claims, e.g. a text "exp"
            return Future.failedFuture(ProblemException.unauthorized("the token is malformed"));
        }
    }

    /**
     * Verifies a token's signature, expiry, issuer and audience, and reads who it names.
     *
     * @return the caller, or a failure with a 401 problem
     */
    Future<Caller> verify(String token, Caller.Credential credential) {
        if (token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
            return Future.failedFuture(ProblemException.unauthorized("the token is empty or too long"));
        }
        Caller known = verified.get(token, credential);
        if (known != null) {
            return Future.succeededFuture(known);
        }
        return verifyNow(token, credential).onSuccess(caller -> verified.put(token, caller));
    }

    /** Verifies a token with the keys: its signature, then its claims. */
    private Future<Caller> verifyNow(String token, Caller.Credential credential) {
        Future<JWTAuth> keys = jwks == null ? Future.succeededFuture(verifier) : jwks.verifierFor(token)
                .recover(unavailable -> Future.failedFuture(ProblemException.unauthorized(unavailable.getMessage())));
        return keys.compose(keySet -> authenticate(keySet, token)).compose(user -> {
            // vertx-auth keeps the verified claims as the "accessToken" attribute (the principal holds the raw token)
            JsonObject claims = user.attributes().getJsonObject("accessToken", new JsonObject());
            Object exp = claims.getValue("exp");
            Object sub = claims.getValue("sub");
            if (!(exp instanceof Number expiry) || !(sub instanceof String subject) || subject.isBlank()) {
                return Future.failedFuture(ProblemException.unauthorized("the token needs 'sub' and 'exp' claims"));
            }
            Instant expiresAt = Instant.ofEpochSecond(expiry.longValue());
            if (!expiresAt.isAfter(clock.instant())) {
                // the leeway is for clocks, not for expiry: a stream would be closed at once anyway
                return Future.failedFuture(ProblemException.unauthorized("the token has expired"));
            }
            if (isOperator(claims)) {
                return Future.succeededFuture(new Caller(subject, null, true, expiresAt, credential));
            }
            try {
                UUID customerId = UUID.fromString(subject);
                return Future.succeededFuture(new Caller(subject, customerId, false, expiresAt, credential));
            } catch (IllegalArgumentException notUuid) {
                return Future.failedFuture(ProblemException.unauthorized(
                        "the token's subject is not a customer id and the token has no operator role"));
            }
        });
    }

    private static boolean isOperator(JsonObject claims) {
        Object role = claims.getValue("role");
        Object roles = claims.getValue("roles");
        return Security.OPERATOR_ROLE.equals(role) || roles instanceof JsonArray list
                && list.contains(Security.OPERATOR_ROLE);
    }
}
