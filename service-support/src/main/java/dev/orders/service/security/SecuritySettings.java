package dev.orders.service.security;

import java.time.Duration;
import java.util.List;

/**
 * How a service process authenticates and limits its callers.
 *
 * @param production        production mode: tokens only from the configured issuer, no {@code /api/dev/token},
 *                          and no development key accepted
 * @param devKey            the HMAC key of development tokens; empty = {@link #BUILT_IN_DEV_KEY}. Refused in production.
 * @param publicKeysPem     the issuer's public keys (PEM) that verify tokens in production
 * @param algorithm         the signature algorithm of the issuer's keys, e.g. {@code RS256} or {@code ES256}
 * @param issuer            the required {@code iss} claim; empty = not checked
 * @param audience          the required {@code aud} claim; empty = not checked
 * @param tokenTtl          how long a development token lives
 * @param allowedOrigins    browser origins besides the service's own that may use it (CORS, CSRF, WebSocket)
 * @param commandsPerSecond commands a customer may send per second, sustained
 * @param commandBurst      commands a customer may send at once after a quiet time
 * @param serviceToken      the operator token a query side presents to the command side's event feed in
 *                          production; empty = mint one with the development key (development mode only)
 * @param jwksUrl           the issuer's JSON Web Key Set, fetched again on an unknown key id; empty = none
 */
public record SecuritySettings(
        boolean production,
        String devKey,
        List<String> publicKeysPem,
        String algorithm,
        String issuer,
        String audience,
        Duration tokenTtl,
        List<String> allowedOrigins,
        double commandsPerSecond,
        int commandBurst,
        String serviceToken,
        String jwksUrl) {

    /**
     * The development key everyone can read in this source: fine for a laptop, a hole anywhere else.
     * Production mode refuses to start with it, or with any development key.
     */
    public static final String BUILT_IN_DEV_KEY = "orders-development-signing-key-never-use-in-production";

    public SecuritySettings {
        devKey = devKey == null ? "" : devKey;
        publicKeysPem = List.copyOf(publicKeysPem);
        algorithm = algorithm == null || algorithm.isBlank() ? "RS256" : algorithm;
        issuer = issuer == null ? "" : issuer;
        audience = audience == null ? "" : audience;
        allowedOrigins = List.copyOf(allowedOrigins);
        serviceToken = serviceToken == null ? "" : serviceToken;
        jwksUrl = jwksUrl == null ? "" : jwksUrl;
        if (tokenTtl == null || tokenTtl.isNegative() || tokenTtl.isZero()) {
            throw new IllegalArgumentException("the token lifetime must be positive");
        }
        if (!(commandsPerSecond > 0) || commandBurst < 1) {
            throw new IllegalArgumentException("the command rate and burst must be positive");
        }
    }

    /** Settings without a JWKS URL. */
    public SecuritySettings(boolean production, String devKey, List<String> publicKeysPem, String algorithm,
                            String issuer, String audience, Duration tokenTtl, List<String> allowedOrigins,
                            double commandsPerSecond, int commandBurst, String serviceToken) {
        this(production, devKey, publicKeysPem, algorithm, issuer, audience, tokenTtl, allowedOrigins,
                commandsPerSecond, commandBurst, serviceToken, "");
    }

    /** Development mode with the built-in key and the default limits: what tests and the all-in-one default use. */
    public static SecuritySettings development() {
        return new SecuritySettings(false, "", List.of(), "RS256", "", "", Duration.ofHours(8), List.of(), 20, 40, "");
    }

    /** The HMAC key development tokens are signed with. */
    public String effectiveDevKey() {
        return devKey.isEmpty() ? BUILT_IN_DEV_KEY : devKey;
    }

    public SecuritySettings withCommandRate(double perSecond, int burst) {
        return new SecuritySettings(production, devKey, publicKeysPem, algorithm, issuer, audience, tokenTtl,
                allowedOrigins, perSecond, burst, serviceToken, jwksUrl);
    }

    public SecuritySettings withAllowedOrigins(List<String> origins) {
        return new SecuritySettings(production, devKey, publicKeysPem, algorithm, issuer, audience, tokenTtl,
                origins, commandsPerSecond, commandBurst, serviceToken, jwksUrl);
    }
}
