package dev.orders.service.security;

import dev.orders.service.http.ContractRequests;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;

/**
 * Authentication and the protections around it, for one service process, put together from their parts:
 * {@link TokenVerifier} (signed JWTs), {@link DevelopmentTokens} (development mode's issuer),
 * {@link Authentication} (a bearer header or the HttpOnly session cookie, {@link SessionCookies}),
 * {@link CsrfGuard}, {@link Cors}, {@link CommandRateGuard} (the per-customer command rate) and
 * {@link SessionRoutes}. {@code ApiRouter} puts it around every {@code /api} route at once; routes then
 * authorize with {@link Caller#of}.
 */
public final class Security {

    /** The session cookie: HttpOnly, SameSite=Strict, so that EventSource and WebSocket can authenticate. */
    public static final String COOKIE = SessionCookies.NAME;
    public static final String DEV_TOKEN_PATH = "/api/dev/token";
    public static final String SESSION_PATH = "/api/session";
    public static final String OPERATOR_ROLE = "operator";
    private static final Logger LOG = LoggerFactory.getLogger(Security.class);
    /** The development-mode warning is logged once per process, however many services build a Security. */
    private static final java.util.concurrent.atomic.AtomicBoolean WARNED = new java.util.concurrent.atomic.AtomicBoolean();

    private final SecuritySettings settings;
    private final TokenVerifier tokens;
    /** Null in production mode. */
    private final DevelopmentTokens devTokens;
    private final OriginPolicy origins;
    /** One per process, whatever number of routers it protects: the rate is the process's. */
    private final CommandRateGuard commandRate;

    private Security(SecuritySettings settings, TokenVerifier tokens, DevelopmentTokens devTokens) {
        this.settings = settings;
        this.tokens = tokens;
        this.devTokens = devTokens;
        this.origins = new OriginPolicy(settings.allowedOrigins());
        this.commandRate = new CommandRateGuard(settings);
    }

    /**
     * @throws IllegalArgumentException in production mode with a development key, or without the issuer's keys
     */
    public static Security create(Vertx vertx, SecuritySettings settings) {
        if (settings.production()) {
            if (!settings.devKey().isEmpty()) {
                throw new IllegalArgumentException("production mode refuses a development key (auth.dev-key):"
                        + " tokens must come from the issuer's keys (auth.public-keys)");
            }
            if (settings.publicKeysPem().isEmpty() && settings.jwksUrl().isEmpty()) {
                throw new IllegalArgumentException("production mode needs the token issuer's public keys"
                        + " (auth.public-keys or auth.jwks-url)");
            }
            return new Security(settings, TokenVerifier.create(vertx, settings, null), null);
        }
        DevelopmentTokens devTokens = new DevelopmentTokens(vertx, settings);
        if (settings.devKey().isEmpty() && !WARNED.getAndSet(true)) {
            LOG.warn("development mode: anyone can sign in as any customer or as an operator at POST {};"
                    + " set mode=production and auth.public-keys before exposing this service", DEV_TOKEN_PATH);
        }
        return new Security(settings, TokenVerifier.create(vertx, settings, devTokens.key()), devTokens);
    }

    public SecuritySettings settings() {
        return settings;
    }

    public boolean development() {
        return devTokens != null;
    }

    public OriginPolicy origins() {
        return origins;
    }

    /**
     * Mounts CORS (configured origins only), authentication, CSRF, the command rate, and the session routes with
     * their document.
     *
     * @param sessionContract the requests of {@link SessionApi}'s document ({@link SessionApi#load}), which the
     *                        session routes check their bodies against
     */
    public void protect(Router router, ContractRequests sessionContract) {
        if (!settings.allowedOrigins().isEmpty()) {
            router.route("/api/*").handler(Cors.handler(settings.allowedOrigins()));
        }
        router.route("/api/*").handler(new Authentication(tokens, development()))
                .handler(new CsrfGuard(origins))
                .handler(commandRate);
        new SessionRoutes(settings, origins, devTokens, sessionContract).mount(router);
    }

    /**
     * Verifies a token's signature, expiry, issuer and audience, and reads who it names.
     *
     * @return the caller, or a failure with a 401 problem
     */
    public Future<Caller> verify(String token, Caller.Credential credential) {
        return tokens.verify(token, credential);
    }

    /**
     * Signs a development token. Only in development mode.
     *
     * @param customerId the customer the token is for, or null for an operator
     * @param ttlSeconds the token's lifetime
     */
    public String issueDevelopmentToken(UUID customerId, long ttlSeconds) {
        if (devTokens == null) {
            throw new IllegalStateException("development tokens are disabled in production mode");
        }
        return devTokens.issue(customerId, ttlSeconds);
    }

    /**
     * The operator token this process presents to another service (the query side's rebuild reading the
     * command side's event feed): minted in development mode, configured ({@code auth.service-token}) in
     * production.
     *
     * @throws IllegalStateException in production without a configured service token
     */
    public String serviceToken() {
        if (devTokens != null) {
            return issueDevelopmentToken(null, 3600);
        }
        if (settings.serviceToken().isEmpty()) {
            throw new IllegalStateException("no service token configured (auth.service-token): the rebuild cannot"
                    + " read the command side's event feed");
        }
        return settings.serviceToken();
    }
}
