package dev.orders.service.security;

import dev.orders.service.http.JsonRequest;
import dev.orders.service.http.ContractDocument;
import dev.orders.service.http.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Set;
import java.util.UUID;

/**
 * Authentication and the protections around it, for one service process: signed JWTs from a bearer
 * header or the HttpOnly session cookie, the development token route, CSRF and CORS rules, and the
 * per-customer command rate. {@code ApiRouter} puts it around every {@code /api} route at once; routes
 * then authorize with {@link Caller#of}.
 */
public final class Security {

    /** The session cookie: HttpOnly, SameSite=Strict, so that EventSource and WebSocket can authenticate. */
    public static final String COOKIE = "orders_session";
    public static final String DEV_TOKEN_PATH = "/api/dev/token";
    public static final String SESSION_PATH = "/api/session";
    public static final String OPERATOR_ROLE = "operator";
    /** Tokens longer than this are refused before any parsing. */
    static final int MAX_TOKEN_CHARS = 8_192;
    private static final int LEEWAY_SECONDS = 5;
    private static final Logger LOG = LoggerFactory.getLogger(Security.class);
    /** The development-mode warning is logged once per process, however many services build a Security. */
    private static final java.util.concurrent.atomic.AtomicBoolean WARNED = new java.util.concurrent.atomic.AtomicBoolean();
    private static final Set<HttpMethod> SAFE = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);

    private final SecuritySettings settings;
    private final JWTAuth verifier;
    /** The issuer's key set, when {@code auth.jwks-url} names one; null otherwise. */
    private final JwksKeys jwks;
    private final JWTAuth devIssuer;
    private final OriginPolicy origins;
    private final CommandRateLimiter commandRate;

    private Security(SecuritySettings settings, JWTAuth verifier, JwksKeys jwks, JWTAuth devIssuer) {
        this.settings = settings;
        this.verifier = verifier;
        this.jwks = jwks;
        this.devIssuer = devIssuer;
        this.origins = new OriginPolicy(settings.allowedOrigins());
        this.commandRate = new CommandRateLimiter(settings.commandsPerSecond(), settings.commandBurst(), System::nanoTime);
    }

    /**
     * @throws IllegalArgumentException in production mode with a development key, or without the issuer's keys
     */
    public static Security create(Vertx vertx, SecuritySettings settings) {
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
        if (settings.production()) {
            if (!settings.devKey().isEmpty()) {
                throw new IllegalArgumentException("production mode refuses a development key (auth.dev-key):"
                        + " tokens must come from the issuer's keys (auth.public-keys)");
            }
            if (settings.publicKeysPem().isEmpty() && settings.jwksUrl().isEmpty()) {
                throw new IllegalArgumentException("production mode needs the token issuer's public keys"
                        + " (auth.public-keys or auth.jwks-url)");
            }
            return new Security(settings, JWTAuth.create(vertx, options), jwks(vertx, settings, options), null);
        }
        PubSecKeyOptions devKey = new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(settings.effectiveDevKey());
        options.addPubSecKey(devKey);
        JWTAuth devIssuer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(devKey));
        if (settings.devKey().isEmpty() && !WARNED.getAndSet(true)) {
            LOG.warn("development mode: anyone can sign in as any customer or as an operator at POST {};"
                    + " set mode=production and auth.public-keys before exposing this service", DEV_TOKEN_PATH);
        }
        return new Security(settings, JWTAuth.create(vertx, options), jwks(vertx, settings, options), devIssuer);
    }

    private static JwksKeys jwks(Vertx vertx, SecuritySettings settings, JWTAuthOptions options) {
        return settings.jwksUrl().isEmpty() ? null
                : new JwksKeys(vertx, settings.jwksUrl(), new JWTAuthOptions(options), settings.algorithm());
    }

    public SecuritySettings settings() {
        return settings;
    }

    public boolean development() {
        return devIssuer != null;
    }

    public OriginPolicy origins() {
        return origins;
    }

    /** Mounts CORS (configured origins only), authentication and the command rate on every {@code /api} route. */
    public void protect(Router router) {
        if (!settings.allowedOrigins().isEmpty()) {
            router.route("/api/*").handler(CorsHandler.create()
                    .addOrigins(settings.allowedOrigins())
                    .allowCredentials(true)
                    .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.DELETE))
                    .allowedHeaders(Set.of("Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID",
                            "X-Correlation-Id", "traceparent"))
                    .exposedHeaders(Set.of("Location", "Retry-After", "X-Correlation-Id")));
        }
        router.route("/api/*").handler(this::authenticate);
        if (development()) {
            router.post(DEV_TOKEN_PATH).handler(this::issueDevToken);
        }
        router.get(SESSION_PATH).handler(this::describeSession);
        router.delete(SESSION_PATH).handler(this::signOut);
    }

    private void authenticate(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        if (development() && request.method() == HttpMethod.POST && DEV_TOKEN_PATH.equals(request.path())
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
            Cookie cookie = request.getCookie(COOKIE);
            if (cookie == null || cookie.getValue().isEmpty()) {
                ctx.fail(ProblemException.unauthorized("a token is required: sign in, or send 'Authorization: Bearer <token>'"));
                return;
            }
            token = cookie.getValue();
            credential = Caller.Credential.COOKIE;
        }
        verify(token, credential).onComplete(verified -> {
            if (verified.failed()) {
                LOG.debug("token refused: {}", verified.cause().getMessage());
                if (credential == Caller.Credential.COOKIE) {
                    // a dead cookie is of no use to anyone: let the browser forget it
                    ctx.response().addCookie(sessionCookie(ctx, "", 0));
                }
                ctx.fail(verified.cause() instanceof ProblemException problem ? problem
                        : ProblemException.unauthorized("the token is not valid: malformed, expired or not signed by a trusted key"));
                return;
            }
            Caller caller = verified.result();
            if (credential == Caller.Credential.COOKIE && !SAFE.contains(request.method())
                    && !origins.allowsCommand(request)) {
                ctx.fail(ProblemException.forbidden("a request authenticated by the session cookie must come from an"
                        + " allowed Origin; this one came from " + (request.getHeader("Origin") == null
                        ? "no Origin" : "another origin")));
                return;
            }
            if (request.method() == HttpMethod.POST && !caller.operator()) {
                int retryAfter = commandRate.acquire(caller.customerId());
                if (retryAfter > 0) {
                    ctx.fail(ProblemException.tooManyRequests("this customer sends commands faster than "
                            + settings.commandsPerSecond() + " per second; retry after " + retryAfter + " s", retryAfter));
                    return;
                }
            }
            ctx.put(Caller.CONTEXT_KEY, caller);
            ctx.next();
        });
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
    public Future<Caller> verify(String token, Caller.Credential credential) {
        if (token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
            return Future.failedFuture(ProblemException.unauthorized("the token is empty or too long"));
        }
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
            if (!expiresAt.isAfter(Instant.now())) {
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
        return OPERATOR_ROLE.equals(role) || roles instanceof JsonArray list && list.contains(OPERATOR_ROLE);
    }

    /**
     * Signs a development token. Only in development mode.
     *
     * @param customerId the customer the token is for, or null for an operator
     * @param ttlSeconds the token's lifetime
     */
    public String issueDevelopmentToken(UUID customerId, long ttlSeconds) {
        if (devIssuer == null) {
            throw new IllegalStateException("development tokens are disabled in production mode");
        }
        JsonObject claims = customerId == null
                ? new JsonObject().put("sub", "operator").put("role", OPERATOR_ROLE)
                : new JsonObject().put("sub", customerId.toString());
        return devIssuer.generateToken(claims, new JWTOptions().setAlgorithm("HS256")
                .setExpiresInSeconds((int) Math.min(Integer.MAX_VALUE, ttlSeconds)));
    }

    /**
     * The operator token this process presents to another service (the query side's rebuild reading the
     * command side's event feed): minted in development mode, configured ({@code auth.service-token}) in
     * production.
     *
     * @throws IllegalStateException in production without a configured service token
     */
    public String serviceToken() {
        if (devIssuer != null) {
            return issueDevelopmentToken(null, 3600);
        }
        if (settings.serviceToken().isEmpty()) {
            throw new IllegalStateException("no service token configured (auth.service-token): the rebuild cannot"
                    + " read the command side's event feed");
        }
        return settings.serviceToken();
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
            if (!OPERATOR_ROLE.equals(body.text("role", 1, 20))) {
                throw ProblemException.badRequest("role must be \"operator\"");
            }
        } else {
            customerId = body.uuid("customerId");
        }
        long ttl = settings.tokenTtl().toSeconds();
        String token = issueDevelopmentToken(customerId, ttl);
        ctx.response().addCookie(sessionCookie(ctx, token, ttl));
        ctx.response().putHeader("Cache-Control", "no-store");
        ctx.json(new JsonObject().put("token", token)
                .put("expiresAt", Instant.now().plusSeconds(ttl).toString())
                .put("role", customerId == null ? OPERATOR_ROLE : "customer")
                .put("customerId", customerId == null ? null : customerId.toString()));
        LOG.info("development token issued for {}", customerId == null ? "an operator" : "customer " + customerId);
    }

    private void describeSession(RoutingContext ctx) {
        Caller caller = Caller.of(ctx);
        ctx.response().putHeader("Cache-Control", "no-store");
        ctx.json(new JsonObject()
                .put("role", caller.operator() ? OPERATOR_ROLE : "customer")
                .put("subject", caller.subject())
                .put("customerId", caller.customerId() == null ? null : caller.customerId().toString())
                .put("expiresAt", caller.expiresAt().toString())
                .put("credential", caller.credential().name().toLowerCase(java.util.Locale.ROOT))
                .put("development", development()));
    }

    private void signOut(RoutingContext ctx) {
        ctx.response().addCookie(sessionCookie(ctx, "", 0));
        ctx.response().setStatusCode(204).end();
    }

    private static Cookie sessionCookie(RoutingContext ctx, String value, long maxAgeSeconds) {
        boolean secure = ctx.request().isSSL() || "https".equalsIgnoreCase(ctx.request().getHeader("X-Forwarded-Proto"));
        return Cookie.cookie(COOKIE, value).setPath("/").setHttpOnly(true).setSameSite(CookieSameSite.STRICT)
                .setSecure(secure).setMaxAge(maxAgeSeconds);
    }
}
