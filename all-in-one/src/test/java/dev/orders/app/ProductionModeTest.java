package dev.orders.app;

import dev.orders.app.HttpProbe.Answer;
import dev.orders.app.HttpProbe.Request;
import dev.orders.infra.config.ConfigException;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.security.Security;
import dev.orders.service.security.SecuritySettings;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Production mode, in-process on the shared PostgreSQL and Kafka: a development key is refused naming
 * it, the issuer's keys are required; with an RSA public key file (a key pair made here, tokens signed
 * with its private key by vertx-auth-jwt as the issuer would) RS256 tokens of the configured issuer and
 * audience are accepted, every other token is refused (development ones, another key's, HMAC signed with
 * the public key, unsigned, another issuer or audience, expired), and {@code POST /api/dev/token} does
 * not exist.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("Production mode takes tokens from the issuer's keys only")
class ProductionModeTest {

    private static final String ISSUER = "https://issuer.orders.test";
    private static final String AUDIENCE = "orders-api";
    private static final String A_DEV_KEY = "a-development-key-long-enough-for-hmac-sha256";

    private Vertx vertx;
    private OrdersApp app;
    private HttpProbe probe;
    private String publicPem;
    private JWTAuth issuer;
    private JWTAuth otherIssuer;
    private TestTokens devTokens;
    private TestInfrastructure infra;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        this.infra = infra;
        vertx = Vertx.vertx();
        KeyPair keys = rsaKeyPair();
        publicPem = pem("PUBLIC KEY", keys.getPublic().getEncoded());
        issuer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256")
                .setBuffer(pem("PRIVATE KEY", keys.getPrivate().getEncoded()))));
        otherIssuer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256")
                .setBuffer(pem("PRIVATE KEY", rsaKeyPair().getPrivate().getEncoded()))));
        devTokens = new TestTokens(vertx);

        Path keyFile = Files.createTempFile("orders-issuer-", ".pem");
        keyFile.toFile().deleteOnExit();
        Files.writeString(keyFile, "the issuer's key\n" + publicPem, StandardCharsets.US_ASCII);
        app = OrdersApp.start(infra.isolatedConfig().with(Map.of("mode", "production",
                "auth.public-keys", keyFile.toString(), "auth.issuer", ISSUER, "auth.audience", AUDIENCE)));
        probe = new HttpProbe(app.port());
    }

    @AfterAll
    void stop() {
        try {
            if (probe != null) {
                probe.close();
            }
            if (vertx != null) {
                HttpProbe.await(vertx.close());
            }
        } finally {
            if (app != null) {
                app.close();
            }
        }
    }

    // ------------------------------------------------------------------ the configuration

    @Test
    @DisplayName("a development key in production mode is refused, naming auth.dev-key, wherever it comes from")
    void a_development_key_is_refused_in_production_naming_the_key() {
        assertThatThrownBy(() -> OrdersConfig.defaults().with(Map.of("mode", "production", "auth.dev-key", A_DEV_KEY)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("auth.dev-key")
                .message().doesNotContain(A_DEV_KEY);
        assertThatThrownBy(() -> OrdersConfig.load(new String[] {"--mode=production"},
                Map.of("ORDERS_AUTH_DEV_KEY", A_DEV_KEY), new Properties()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("auth.dev-key");
        SecuritySettings withDevKey = new SecuritySettings(true, A_DEV_KEY, List.of(publicPem), "RS256", ISSUER, AUDIENCE,
                Duration.ofHours(1), List.of(), 20, 40, "");
        assertThatThrownBy(() -> Security.create(vertx, withDevKey))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("auth.dev-key");
    }

    @Test
    @DisplayName("production mode without the issuer's public keys is refused, naming auth.public-keys, and the app does not start")
    void production_without_the_issuers_keys_is_refused() {
        assertThatThrownBy(() -> OrdersConfig.defaults().with(Map.of("mode", "production",
                "pg.uri", "postgresql://orders:pw@db:5432/orders", "kafka.bootstrap", "kafka:9092")).securitySettings())
                .isInstanceOf(ConfigException.class).hasMessageContaining("auth.public-keys");
        assertThatThrownBy(() -> OrdersApp.start(infra.isolatedConfig().with("mode", "production")).close())
                .hasMessageContaining("auth.public-keys");
    }

    // ------------------------------------------------------------------ the running system

    @Test
    @DisplayName("RS256 tokens of the configured issuer and audience are accepted, for an operator and for a customer")
    void tokens_of_the_issuer_are_accepted() {
        String operator = signed(issuer, operatorClaims(), ISSUER, AUDIENCE, 600);
        Answer session = probe.send(Request.get("/api/session").with(bearer(operator)));
        assertThat(session.status()).as("%s", session).isEqualTo(200);
        assertThat(session.json().getString("role")).isEqualTo("operator");
        assertThat(session.json().getBoolean("development")).isFalse();

        Answer created = probe.send(Request.post("/api/customers", new JsonObject().put("name", "Prod")
                .put("creditLimit", new JsonObject().put("amount", "100.00").put("currency", "EUR"))).with(bearer(operator)));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        String customerId = created.json().getString("customerId");

        String customer = signed(issuer, new JsonObject().put("sub", customerId), ISSUER, AUDIENCE, 600);
        assertThat(HttpProbe.within(Duration.ofSeconds(20), () ->
                probe.send(Request.get("/api/customers/" + customerId).with(bearer(customer))).status() == 200))
                .as("the customer reads itself with the issuer's token").isTrue();
        Answer placed = probe.send(Request.post("/api/orders", new JsonObject().put("customerId", customerId)
                .put("total", new JsonObject().put("amount", "10.00").put("currency", "EUR"))).with(bearer(customer)));
        assertThat(placed.status()).as("%s", placed).isEqualTo(202);
    }

    @Test
    @DisplayName("development tokens and every token not from the issuer, for this audience, unexpired, answer 401")
    void other_tokens_are_refused() {
        UUID someone = UUID.randomUUID();
        JWTAuth hmacWithThePublicKey = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
                new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(publicPem)));
        long now = Instant.now().getEpochSecond();
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("a development operator token", devTokens.operator());
        refused.put("a development customer token", devTokens.customer(someone));
        refused.put("a development token signed with a configured-looking key", JWTAuth.create(vertx, new JWTAuthOptions()
                .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(A_DEV_KEY)))
                .generateToken(operatorClaims().put("iss", ISSUER).put("aud", AUDIENCE), new JWTOptions().setExpiresInSeconds(600)));
        refused.put("HS256 signed with the issuer's public key", hmacWithThePublicKey.generateToken(
                operatorClaims().put("iss", ISSUER).put("aud", AUDIENCE), new JWTOptions().setAlgorithm("HS256").setExpiresInSeconds(600)));
        refused.put("alg none", BadTokens.unsigned("none", operatorClaims().put("iss", ISSUER).put("aud", AUDIENCE)
                .put("exp", now + 600)));
        refused.put("RS256 signed with another key", signed(otherIssuer, operatorClaims(), ISSUER, AUDIENCE, 600));
        refused.put("RS256 of another issuer", signed(issuer, operatorClaims(), "https://evil.example", AUDIENCE, 600));
        refused.put("RS256 for another audience", signed(issuer, operatorClaims(), ISSUER, "another-api", 600));
        refused.put("RS256 without issuer and audience", signed(issuer, operatorClaims(), null, null, 600));
        refused.put("RS256, expired", issuer.generateToken(operatorClaims().put("iss", ISSUER).put("aud", AUDIENCE)
                .put("iat", now - 3600).put("exp", now - 60), new JWTOptions().setAlgorithm("RS256").setNoTimestamp(true)));
        refused.forEach((what, token) -> {
            for (Request request : List.of(Request.get("/api/session"), Request.get("/api/customers/" + someone),
                    Request.post("/api/customers", new JsonObject().put("name", "Forged")
                            .put("creditLimit", new JsonObject().put("amount", "1.00").put("currency", "EUR"))))) {
                Answer answer = probe.send(request.with(bearer(token)));
                assertThat(answer.status()).as("%s on %s: %s", what, request, answer).isEqualTo(401);
                assertThat(answer.header("WWW-Authenticate")).startsWith("Bearer");
            }
            Answer byCookie = probe.send(Request.get("/api/session").with("Cookie", Security.COOKIE + "=" + token));
            assertThat(byCookie.status()).as("%s as the session cookie: %s", what, byCookie).isEqualTo(401);
        });
    }

    @Test
    @DisplayName("POST /api/dev/token does not exist: 401 without a token, 404 with one, never a token or a cookie")
    void the_development_sign_in_does_not_exist() {
        for (JsonObject who : List.of(new JsonObject().put("role", "operator"),
                new JsonObject().put("customerId", UUID.randomUUID().toString()))) {
            Answer anonymous = probe.send(Request.post(Security.DEV_TOKEN_PATH, who));
            assertThat(anonymous.status()).as("%s", anonymous).isEqualTo(401);
            assertThat(anonymous.headers().getAll("Set-Cookie")).isEmpty();
            assertThat(anonymous.body()).doesNotContain("\"token\"");

            Answer signedIn = probe.send(Request.post(Security.DEV_TOKEN_PATH, who)
                    .with(bearer(signed(issuer, operatorClaims(), ISSUER, AUDIENCE, 600))));
            assertThat(signedIn.status()).as("%s", signedIn).isEqualTo(404);
            assertThat(signedIn.headers().getAll("Set-Cookie")).isEmpty();
            assertThat(signedIn.body()).doesNotContain("\"token\"");
        }
        Answer page = probe.send(Request.get("/"));
        assertThat(page.header("Content-Security-Policy")).as("the page's CSP in production").contains("default-src 'none'");
    }

    // ------------------------------------------------------------------ helpers

    private static JsonObject operatorClaims() {
        return new JsonObject().put("sub", "ops@example.test").put("role", "operator");
    }

    /** A token as the issuer signs it: RS256, its issuer and audience (null: none), expiring in so many seconds. */
    private static String signed(JWTAuth signer, JsonObject claims, String iss, String aud, int seconds) {
        JWTOptions options = new JWTOptions().setAlgorithm("RS256").setExpiresInSeconds(seconds);
        if (iss != null) {
            options.setIssuer(iss);
        }
        if (aud != null) {
            options.setAudience(List.of(aud));
        }
        return signer.generateToken(claims, options);
    }

    private static Map<String, String> bearer(String token) {
        return Map.of("Authorization", TestTokens.bearer(token));
    }

    private static KeyPair rsaKeyPair() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
