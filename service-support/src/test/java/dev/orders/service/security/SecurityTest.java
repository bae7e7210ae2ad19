package dev.orders.service.security;

import dev.orders.service.http.ApiRouter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The authentication around every {@code /api} route, on a router with one probe route: which tokens
 * pass, where they may come from, what the cookie looks like, and what production mode refuses.
 */
class SecurityTest {

    private static final UUID ALICE = UUID.fromString("00000000-0000-0000-0000-00000000a11c");

    private Vertx vertx;
    private WebClient client;
    private HttpServer server;

    @BeforeEach
    void setUp() {
        vertx = Vertx.vertx();
        client = WebClient.create(vertx);
    }

    @AfterEach
    void tearDown() throws Exception {
        await(vertx.close());
    }

    private Security serve(SecuritySettings settings) throws Exception {
        Security security = Security.create(vertx, settings);
        Router router = ApiRouter.create(vertx, security, await(SessionApi.load(vertx)));
        router.route("/api/probe").handler(ctx -> ctx.json(new JsonObject().put("caller", Caller.of(ctx).toString())));
        ApiRouter.finish(router);
        server = await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
        return security;
    }

    private HttpRequest<Buffer> request(HttpMethod method, String path) {
        return client.request(method, server.actualPort(), "127.0.0.1", path);
    }

    private HttpResponse<Buffer> get(String path, String authorization) throws Exception {
        HttpRequest<Buffer> request = request(HttpMethod.GET, path);
        if (authorization != null) {
            request.putHeader("Authorization", authorization);
        }
        return await(request.send());
    }

    @Test
    void noTokenIsRefusedWith401AndAChallenge() throws Exception {
        serve(SecuritySettings.development());
        HttpResponse<Buffer> response = get("/api/probe", null);
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.getHeader("WWW-Authenticate")).isEqualTo("Bearer");
        assertThat(response.getHeader("Content-Type")).isEqualTo("application/problem+json");
        assertThat(response.bodyAsJsonObject().getString("detail")).contains("token is required");
        assertThat(get("/api/no-such-route", null).statusCode()).as("unknown paths do not leak either").isEqualTo(401);
    }

    @Test
    void developmentTokensIdentifyCustomersAndOperators() throws Exception {
        Security security = serve(SecuritySettings.development());
        HttpResponse<Buffer> first = get("/api/probe", "Bearer " + security.issueDevelopmentToken(ALICE, 60));
        assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(200);
        assertThat(get("/api/probe", "Bearer " + security.issueDevelopmentToken(ALICE, 60)).bodyAsJsonObject()
                .getString("caller")).isEqualTo("customer " + ALICE);
        assertThat(get("/api/probe", "bearer " + security.issueDevelopmentToken(null, 60)).bodyAsJsonObject()
                .getString("caller")).isEqualTo("operator operator");
        HttpResponse<Buffer> session = get("/api/session", "Bearer " + security.issueDevelopmentToken(ALICE, 60));
        assertThat(session.statusCode()).isEqualTo(200);
        assertThat(session.bodyAsJsonObject().getString("customerId")).isEqualTo(ALICE.toString());
        assertThat(session.bodyAsJsonObject().getString("role")).isEqualTo("customer");
    }

    @Test
    void aTokenAcceptedBeforeIsRefusedOnceItHasExpired() throws Exception {
        Security security = serve(SecuritySettings.development());
        String token = security.issueDevelopmentToken(ALICE, 3);
        Instant expiresAt = Instant.ofEpochSecond(await(security.verify(token, Caller.Credential.BEARER))
                .expiresAt().getEpochSecond());
        for (int i = 0; i < 3; i++) {
            HttpResponse<Buffer> known = get("/api/probe", "Bearer " + token);
            assertThat(known.statusCode()).as(known.bodyAsString()).isEqualTo(200);
        }
        Thread.sleep(Math.max(0, Duration.between(Instant.now(), expiresAt).toMillis()) + 50);
        HttpResponse<Buffer> expired = get("/api/probe", "Bearer " + token);
        assertThat(expired.statusCode()).isEqualTo(401);
        assertThat(expired.bodyAsJsonObject().getString("detail")).contains("expired");
    }

    @Test
    void badTokensAreRefusedWith401() throws Exception {
        serve(SecuritySettings.development());
        JWTAuth otherKey = hmacSigner("a-key-that-this-service-does-not-know-at-all");
        JWTAuth devKey = hmacSigner(SecuritySettings.BUILT_IN_DEV_KEY);
        long now = Instant.now().getEpochSecond();
        String expired = devKey.generateToken(new JsonObject().put("sub", ALICE.toString()).put("exp", now - 60),
                new JWTOptions().setNoTimestamp(true));
        String noExpiry = devKey.generateToken(new JsonObject().put("sub", ALICE.toString()), new JWTOptions());
        String notACustomer = devKey.generateToken(new JsonObject().put("sub", "mallory"),
                new JWTOptions().setExpiresInSeconds(60));
        String header = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        String unsigned = header + "." + b64("{\"sub\":\"operator\",\"role\":\"operator\",\"exp\":" + (now + 600) + "}") + ".";
        String textExpiry = devKey.generateToken(new JsonObject().put("sub", ALICE.toString()).put("exp", "tomorrow"),
                new JWTOptions().setNoTimestamp(true));
        List<String> tokens = List.of(textExpiry, 
                otherKey.generateToken(new JsonObject().put("sub", ALICE.toString()), new JWTOptions().setExpiresInSeconds(60)),
                expired, noExpiry, notACustomer, unsigned, "garbage", "a.b.c", "x".repeat(8_000));
        for (String token : tokens) {
            assertThat(get("/api/probe", "Bearer " + token).statusCode()).as(token.substring(0, Math.min(40, token.length())))
                    .isEqualTo(401);
        }
        assertThat(get("/api/probe", "Basic dXNlcjpwdw==").statusCode()).isEqualTo(401);
        assertThat(get("/api/probe", "Bearer").statusCode()).isEqualTo(401);
    }

    @Test
    void theDevelopmentTokenRouteSetsAStrictHttpOnlyCookieThatAuthenticatesReadsAndSameOriginCommands() throws Exception {
        serve(SecuritySettings.development());
        HttpResponse<Buffer> issued = await(request(HttpMethod.POST, Security.DEV_TOKEN_PATH)
                .sendJsonObject(new JsonObject().put("customerId", ALICE.toString())));
        assertThat(issued.statusCode()).isEqualTo(200);
        assertThat(issued.bodyAsJsonObject().getString("token")).isNotBlank();
        String setCookie = issued.cookies().get(0);
        assertThat(setCookie).startsWith(Security.COOKIE + "=").containsIgnoringCase("HttpOnly").contains("SameSite=Strict")
                .contains("Path=/");
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));

        assertThat(await(request(HttpMethod.GET, "/api/probe").putHeader("Cookie", cookie).send()).statusCode())
                .isEqualTo(200);
        String own = "http://127.0.0.1:" + server.actualPort();
        assertThat(await(request(HttpMethod.POST, "/api/probe").putHeader("Cookie", cookie)
                .putHeader("Origin", own).send()).statusCode()).as("same origin").isEqualTo(200);
        HttpResponse<Buffer> foreign = await(request(HttpMethod.POST, "/api/probe").putHeader("Cookie", cookie)
                .putHeader("Origin", "https://evil.example").send());
        assertThat(foreign.statusCode()).as("cross-site request forgery").isEqualTo(403);
        assertThat(await(request(HttpMethod.POST, "/api/probe").putHeader("Cookie", cookie).send()).statusCode())
                .as("a cookie command without Origin").isEqualTo(403);

        HttpResponse<Buffer> signedOut = await(request(HttpMethod.DELETE, Security.SESSION_PATH).putHeader("Cookie", cookie)
                .putHeader("Origin", own).send());
        assertThat(signedOut.statusCode()).isEqualTo(204);
        assertThat(signedOut.cookies().get(0)).startsWith(Security.COOKIE + "=;").contains("Max-Age=0");
    }

    @Test
    void aRefusedCookieIsClearedAndForeignPagesCannotSignABrowserIn() throws Exception {
        serve(SecuritySettings.development());
        JWTAuth devKey = hmacSigner(SecuritySettings.BUILT_IN_DEV_KEY);
        long now = Instant.now().getEpochSecond();
        String expired = devKey.generateToken(new JsonObject().put("sub", ALICE.toString()).put("exp", now - 1),
                new JWTOptions().setNoTimestamp(true));
        HttpResponse<Buffer> refused = await(request(HttpMethod.GET, "/api/probe")
                .putHeader("Cookie", Security.COOKIE + "=" + expired).send());
        assertThat(refused.statusCode()).as("expired a second ago: no leeway on expiry").isEqualTo(401);
        assertThat(refused.cookies()).singleElement().asString().startsWith(Security.COOKIE + "=;").contains("Max-Age=0");

        HttpResponse<Buffer> foreign = await(request(HttpMethod.POST, Security.DEV_TOKEN_PATH)
                .putHeader("Origin", "https://evil.example").sendJsonObject(new JsonObject().put("role", "operator")));
        assertThat(foreign.statusCode()).isEqualTo(403);
        assertThat(foreign.cookies()).isEmpty();
    }

    @Test
    void theDevelopmentTokenRouteAcceptsOnlyACustomerIdOrTheOperatorRole() throws Exception {
        serve(SecuritySettings.development());
        for (String body : List.of("{}", "{\"role\":\"admin\"}", "{\"customerId\":\"nope\"}",
                "{\"customerId\":\"" + ALICE + "\",\"role\":\"operator\"}", "{\"customerId\":\"" + ALICE + "\",\"x\":1}")) {
            HttpResponse<Buffer> response = await(request(HttpMethod.POST, Security.DEV_TOKEN_PATH)
                    .putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(body)));
            assertThat(response.statusCode()).as(body).isEqualTo(400);
            assertThat(response.cookies()).as(body).isEmpty();
        }
    }

    @Test
    void customersAreRateLimitedOnCommandsOperatorsAndOtherCustomersAreNot() throws Exception {
        Security security = serve(SecuritySettings.development().withCommandRate(1, 3));
        String alice = "Bearer " + security.issueDevelopmentToken(ALICE, 60);
        String bob = "Bearer " + security.issueDevelopmentToken(UUID.randomUUID(), 60);
        String operator = "Bearer " + security.issueDevelopmentToken(null, 60);
        int[] codes = new int[6];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = await(request(HttpMethod.POST, "/api/probe").putHeader("Authorization", alice).send()).statusCode();
        }
        assertThat(codes).containsExactly(200, 200, 200, 429, 429, 429);
        HttpResponse<Buffer> limited = await(request(HttpMethod.POST, "/api/probe").putHeader("Authorization", alice).send());
        assertThat(limited.getHeader("Retry-After")).isEqualTo("1");
        assertThat(get("/api/probe", alice).statusCode()).as("reads are not commands").isEqualTo(200);
        assertThat(await(request(HttpMethod.POST, "/api/probe").putHeader("Authorization", bob).send()).statusCode())
                .isEqualTo(200);
        for (int i = 0; i < 10; i++) {
            assertThat(await(request(HttpMethod.POST, "/api/probe").putHeader("Authorization", operator).send())
                    .statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aBodyThatIsNotJsonIsRefusedBeforeItIsReadEvenOnRoutesThatTakeNone() throws Exception {
        Security security = serve(SecuritySettings.development());
        String operator = "Bearer " + security.issueDevelopmentToken(null, 60);
        HttpResponse<Buffer> form = await(request(HttpMethod.POST, "/api/probe").putHeader("Authorization", operator)
                .putHeader("Content-Type", "multipart/form-data; boundary=x")
                .sendBuffer(Buffer.buffer("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--\r\n")));
        assertThat(form.statusCode()).isEqualTo(415);
        HttpResponse<Buffer> untyped = await(request(HttpMethod.POST, "/api/probe").putHeader("Authorization", operator)
                .sendBuffer(Buffer.buffer("{}")));
        assertThat(untyped.statusCode()).isEqualTo(415);
        assertThat(await(request(HttpMethod.POST, "/api/probe").putHeader("Authorization", operator).send()).statusCode())
                .as("no body at all").isEqualTo(200);
        assertThat(await(request(HttpMethod.POST, "/api/probe").putHeader("Authorization", operator)
                .sendJsonObject(new JsonObject())).statusCode()).isEqualTo(200);
    }

    @Test
    void everyResponseCarriesTheSecurityHeaders() throws Exception {
        serve(SecuritySettings.development());
        HttpResponse<Buffer> response = get("/api/probe", null);
        assertThat(response.getHeader("Content-Security-Policy")).contains("script-src 'self'")
                .contains("default-src 'none'").doesNotContain("unsafe-inline").doesNotContain("unsafe-eval");
        assertThat(response.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(response.getHeader("Referrer-Policy")).isEqualTo("no-referrer");
    }

    @Test
    void corsAnswersOnlyConfiguredOrigins() throws Exception {
        serve(SecuritySettings.development().withAllowedOrigins(List.of("https://ui.example")));
        HttpResponse<Buffer> allowed = await(request(HttpMethod.OPTIONS, "/api/probe").putHeader("Origin", "https://ui.example")
                .putHeader("Access-Control-Request-Method", "POST").send());
        assertThat(allowed.getHeader("Access-Control-Allow-Origin")).isEqualTo("https://ui.example");
        assertThat(allowed.getHeader("Access-Control-Allow-Credentials")).isEqualTo("true");
        HttpResponse<Buffer> other = await(request(HttpMethod.OPTIONS, "/api/probe").putHeader("Origin", "https://evil.example")
                .putHeader("Access-Control-Request-Method", "POST").send());
        assertThat(other.getHeader("Access-Control-Allow-Origin")).isNull();
    }

    @Test
    void productionRefusesADevelopmentKeyOrNoIssuerKeys() {
        SecuritySettings dev = SecuritySettings.development();
        SecuritySettings withDevKey = new SecuritySettings(true, "a-development-key-of-at-least-32-characters", List.of("pem"),
                "RS256", "", "", Duration.ofHours(1), List.of(), 1, 1, "");
        SecuritySettings withoutKeys = new SecuritySettings(true, "", List.of(), "RS256", "", "", dev.tokenTtl(),
                List.of(), 1, 1, "");
        assertThatThrownBy(() -> Security.create(vertx, withDevKey)).hasMessageContaining("refuses a development key");
        assertThatThrownBy(() -> Security.create(vertx, withoutKeys)).hasMessageContaining("public keys");
    }

    @Test
    void productionAcceptsOnlyTheIssuersTokensAndHasNoDevelopmentTokenRoute() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair issuerKeys = generator.generateKeyPair();
        String publicPem = pem("PUBLIC KEY", issuerKeys.getPublic().getEncoded());
        String privatePem = pem("PRIVATE KEY", issuerKeys.getPrivate().getEncoded());
        Security security = serve(new SecuritySettings(true, "", List.of(publicPem), "RS256", "https://issuer.example",
                "orders", Duration.ofHours(1), List.of(), 20, 40, ""));
        assertThat(security.development()).isFalse();
        assertThatThrownBy(() -> security.issueDevelopmentToken(ALICE, 60)).isInstanceOf(IllegalStateException.class);

        JWTAuth issuer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
                new PubSecKeyOptions().setAlgorithm("RS256").setBuffer(privatePem)));
        JWTOptions rightClaims = new JWTOptions().setAlgorithm("RS256").setIssuer("https://issuer.example")
                .addAudience("orders").setExpiresInSeconds(60);
        String good = issuer.generateToken(new JsonObject().put("sub", ALICE.toString()), rightClaims);
        assertThat(get("/api/probe", "Bearer " + good).statusCode()).isEqualTo(200);
        String operator = issuer.generateToken(new JsonObject().put("sub", "ops-1")
                .put("roles", new io.vertx.core.json.JsonArray().add("operator")), rightClaims);
        assertThat(get("/api/probe", "Bearer " + operator).bodyAsJsonObject().getString("caller")).isEqualTo("operator ops-1");

        String wrongAudience = issuer.generateToken(new JsonObject().put("sub", ALICE.toString()),
                new JWTOptions(rightClaims).setAudience(List.of("someone-else")));
        String wrongIssuer = issuer.generateToken(new JsonObject().put("sub", ALICE.toString()),
                new JWTOptions(rightClaims).setIssuer("https://evil.example"));
        String devToken = hmacSigner(SecuritySettings.BUILT_IN_DEV_KEY).generateToken(
                new JsonObject().put("sub", ALICE.toString()), new JWTOptions().setExpiresInSeconds(60));
        for (String bad : List.of(wrongAudience, wrongIssuer, devToken)) {
            assertThat(get("/api/probe", "Bearer " + bad).statusCode()).isEqualTo(401);
        }
        HttpResponse<Buffer> devRoute = await(request(HttpMethod.POST, Security.DEV_TOKEN_PATH)
                .sendJsonObject(new JsonObject().put("role", "operator")));
        assertThat(devRoute.statusCode()).as("no development tokens in production").isEqualTo(401);
        HttpResponse<Buffer> devRouteSignedIn = await(request(HttpMethod.POST, Security.DEV_TOKEN_PATH)
                .putHeader("Authorization", "Bearer " + good).sendJsonObject(new JsonObject().put("role", "operator")));
        assertThat(devRouteSignedIn.statusCode()).isEqualTo(404);
    }

    private JWTAuth hmacSigner(String key) {
        return JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
                new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(key)));
    }

    private static String b64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
