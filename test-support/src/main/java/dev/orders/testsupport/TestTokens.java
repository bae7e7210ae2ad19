package dev.orders.testsupport;

import dev.orders.service.security.Security;
import dev.orders.service.security.SecuritySettings;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.client.HttpRequest;

import java.time.Instant;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * Tokens for tests, signed like the development tokens of a service started with the default
 * configuration ({@link SecuritySettings#development()}), plus the bad ones a security test needs:
 * expired, signed with another key.
 */
public final class TestTokens {

    /** A key no service trusts. */
    public static final String OTHER_KEY = "a-key-that-no-orders-service-has-ever-trusted";

    private final Security security;
    private final JWTAuth devSigner;
    private final JWTAuth otherSigner;

    public TestTokens(Vertx vertx) {
        this.security = Security.create(vertx, SecuritySettings.development());
        this.devSigner = signer(vertx, SecuritySettings.BUILT_IN_DEV_KEY);
        this.otherSigner = signer(vertx, OTHER_KEY);
    }

    private static JWTAuth signer(Vertx vertx, String key) {
        return JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
                new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(key)));
    }

    /** A valid operator token for an hour. */
    public String operator() {
        return security.issueDevelopmentToken(null, 3600);
    }

    /** A valid token of this customer for an hour. */
    public String customer(UUID customerId) {
        return security.issueDevelopmentToken(customerId, 3600);
    }

    /** A valid token of this customer (null: an operator) that expires in so many seconds. */
    public String expiringIn(UUID customerId, long seconds) {
        return security.issueDevelopmentToken(customerId, seconds);
    }

    /** A token of this customer (null: an operator), rightly signed, that expired a minute ago. */
    public String expired(UUID customerId) {
        long now = Instant.now().getEpochSecond();
        return devSigner.generateToken(claims(customerId).put("iat", now - 3600).put("exp", now - 60),
                new JWTOptions().setAlgorithm("HS256").setNoTimestamp(true));
    }

    /** A token of this customer (null: an operator), valid in all but its signature: another key signed it. */
    public String signedWithOtherKey(UUID customerId) {
        return otherSigner.generateToken(claims(customerId), new JWTOptions().setAlgorithm("HS256").setExpiresInSeconds(3600));
    }

    /** {@code Bearer <token>}, for an {@code Authorization} header. */
    public static String bearer(String token) {
        return "Bearer " + token;
    }

    /** Sends the token as {@code Authorization: Bearer}. */
    public static UnaryOperator<HttpRequest<Buffer>> asBearer(String token) {
        return request -> request.putHeader("Authorization", bearer(token));
    }

    /** Sends the token as the session cookie, with this {@code Origin} (null: none). */
    public static UnaryOperator<HttpRequest<Buffer>> asCookie(String token, String origin) {
        return request -> {
            request.putHeader("Cookie", Security.COOKIE + "=" + token);
            return origin == null ? request : request.putHeader("Origin", origin);
        };
    }

    private static JsonObject claims(UUID customerId) {
        return customerId == null
                ? new JsonObject().put("sub", "operator").put("role", Security.OPERATOR_ROLE)
                : new JsonObject().put("sub", customerId.toString());
    }
}
