package dev.orders.app;

import dev.orders.service.security.SecuritySettings;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * Tokens an attacker forges, beyond the expired and wrongly signed ones of {@code TestTokens}: no
 * signature at all ({@code alg: none}), not a JWT, and tokens signed with the development key whose
 * claims are wrong (no subject, a subject that is no customer, no expiry, not yet valid).
 */
final class BadTokens {

    private static final Base64.Encoder URL = Base64.getUrlEncoder().withoutPadding();

    private final JWTAuth devSigner;

    BadTokens(Vertx vertx) {
        this.devSigner = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
                new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SecuritySettings.BUILT_IN_DEV_KEY)));
    }

    /** The claims of an operator valid for an hour. */
    static JsonObject operatorClaims() {
        return withExpiry(new JsonObject().put("sub", "operator").put("role", "operator"));
    }

    /** The claims of this customer valid for an hour. */
    static JsonObject customerClaims(UUID customerId) {
        return withExpiry(new JsonObject().put("sub", customerId.toString()));
    }

    private static JsonObject withExpiry(JsonObject claims) {
        long now = Instant.now().getEpochSecond();
        return claims.put("iat", now).put("exp", now + 3600);
    }

    /** A token with no signature whose header says so: {@code alg} is {@code none} (or a spelling of it). */
    static String unsigned(String alg, JsonObject claims) {
        return part(new JsonObject().put("alg", alg).put("typ", "JWT")) + "." + part(claims) + ".";
    }

    /** A token whose header and claims are right but whose signature is made up. */
    static String madeUpSignature(JsonObject claims) {
        return part(new JsonObject().put("alg", "HS256").put("typ", "JWT")) + "." + part(claims) + "."
                + URL.encodeToString("not a signature at all, just 32b".getBytes(StandardCharsets.UTF_8));
    }

    /** Strings that are not JWTs at all. */
    static List<String> malformed() {
        return List.of("not-a-token", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9.e30",
                "eyJhbGciOiJIUzI1NiJ9.e30.", "null", "{\"sub\":\"operator\",\"role\":\"operator\"}",
                "%00%00", "Bearer Bearer", "eyJ" + "A".repeat(2000) + ".eyJ.sig");
    }

    /** Signed with the development key, with exactly these claims (no timestamps added). */
    String devSigned(JsonObject claims) {
        return devSigner.generateToken(claims, new JWTOptions().setAlgorithm("HS256").setNoTimestamp(true));
    }

    /** Development-signed tokens whose claims must not pass: each is refused with 401. */
    List<String> devSignedWithBadClaims() {
        long now = Instant.now().getEpochSecond();
        return List.of(
                devSigned(new JsonObject().put("role", "operator").put("exp", now + 3600)),
                devSigned(new JsonObject().put("sub", "someone").put("exp", now + 3600)),
                devSigned(new JsonObject().put("sub", "operator").put("roles", "operator").put("exp", now + 3600)),
                devSigned(new JsonObject().put("sub", UUID.randomUUID().toString())),
                devSigned(new JsonObject().put("sub", "operator").put("role", "operator").put("exp", "tomorrow")),
                devSigned(new JsonObject().put("sub", "operator").put("role", "operator").put("exp", now + 3600)
                        .put("nbf", now + 3600)),
                devSigned(new JsonObject().put("sub", "").put("role", "operator").put("exp", now + 3600)),
                devSigned(new JsonObject().put("sub", 42).put("exp", now + 3600)));
    }

    private static String part(JsonObject json) {
        return URL.encodeToString(json.encode().getBytes(StandardCharsets.UTF_8));
    }
}
