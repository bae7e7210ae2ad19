package dev.orders.service.security;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Production tokens verified with the keys of the issuer's JSON Web Key Set ({@code auth.jwks-url}),
 * served here by a test HTTP server as an identity provider serves it: the issuer rotates to a new key,
 * and the first token signed with it makes the service fetch the set again, without a restart; a key id
 * the set does not hold is refused, and does not make the service fetch again and again.
 */
@DisplayName("Keys from the issuer's JWKS rotate without a restart")
class JwksKeysTest {

    private static final String ISSUER = "https://login.example";
    private static final UUID ALICE = UUID.fromString("00000000-0000-0000-0000-00000000a11c");

    private Vertx vertx;
    private HttpServer idp;
    private final AtomicReference<JsonObject> keySet = new AtomicReference<>(new JsonObject().put("keys", new JsonArray()));
    private final AtomicInteger fetched = new AtomicInteger();

    @BeforeEach
    void startIdentityProvider() throws Exception {
        vertx = Vertx.vertx();
        idp = await(vertx.createHttpServer().requestHandler(request -> {
            if (request.path().equals("/.well-known/jwks.json")) {
                fetched.incrementAndGet();
                request.response().putHeader("Content-Type", "application/json").end(keySet.get().encode());
            } else {
                request.response().setStatusCode(404).end();
            }
        }).listen(0, "127.0.0.1"));
    }

    @AfterEach
    void stop() throws Exception {
        await(vertx.close());
    }

    @Test
    @DisplayName("a token of a new key is accepted after one fetch; an unknown key id is refused without a storm of fetches")
    void keys_rotate_without_a_restart() throws Exception {
        KeyPair first = rsa();
        KeyPair second = rsa();
        keySet.set(jwks(jwk("key-1", first)));
        Security security = Security.create(vertx, new SecuritySettings(true, "", List.of(), "RS256", ISSUER, "orders",
                Duration.ofHours(1), List.of(), 20, 40, "",
                "http://127.0.0.1:" + idp.actualPort() + "/.well-known/jwks.json"));

        Caller alice = await(security.verify(token("key-1", first), Caller.Credential.BEARER));
        assertThat(alice.customerId()).isEqualTo(ALICE);
        assertThat(fetched.get()).as("fetched on the first token").isEqualTo(1);
        await(security.verify(token("key-1", first), Caller.Credential.BEARER));
        assertThat(fetched.get()).as("a known key id needs no fetch").isEqualTo(1);

        // The issuer rotates: key-2 signs from now on, key-1 is retired.
        keySet.set(jwks(jwk("key-2", second)));
        Thread.sleep(JwksKeys.MIN_REFRESH.toMillis());
        Caller rotated = await(security.verify(token("key-2", second), Caller.Credential.BEARER));
        assertThat(rotated.customerId()).isEqualTo(ALICE);
        assertThat(fetched.get()).as("the unknown key id made one fetch").isEqualTo(2);

        assertThatThrownBy(() -> await(security.verify(token("key-1", first), Caller.Credential.BEARER)))
                .as("a retired key").isInstanceOf(ExecutionException.class).hasMessageContaining("key-1");
        KeyPair stranger = rsa();
        for (int i = 0; i < 20; i++) {
            String madeUp = token("key-" + UUID.randomUUID(), stranger);
            assertThatThrownBy(() -> await(security.verify(madeUp, Caller.Credential.BEARER)))
                    .isInstanceOf(ExecutionException.class);
        }
        assertThat(fetched.get()).as("made-up key ids within " + JwksKeys.MIN_REFRESH + " fetch nothing").isEqualTo(2);
        assertThatThrownBy(() -> await(security.verify(tokenSignedBy(second, "key-2", "https://evil.example"),
                Caller.Credential.BEARER))).as("the issuer is still checked")
                .isInstanceOf(ExecutionException.class);
    }

    @Test
    @DisplayName("production mode starts with auth.jwks-url and no PEM keys")
    void production_accepts_a_jwks_url_instead_of_pem_keys() {
        SecuritySettings settings = new SecuritySettings(true, "", List.of(), "RS256", ISSUER, "", Duration.ofHours(1),
                List.of(), 20, 40, "", "https://login.example/.well-known/jwks.json");
        assertThat(Security.create(vertx, settings).development()).isFalse();
        assertThat(JwksKeys.keyIdOf(token("k-7", rsa()))).isEqualTo("k-7");
        assertThat(JwksKeys.keyIdOf("not a token")).isNull();
    }

    private String token(String keyId, KeyPair keys) {
        return tokenSignedBy(keys, keyId, ISSUER);
    }

    private String tokenSignedBy(KeyPair keys, String keyId, String issuer) {
        JWTAuth signer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions()
                .setAlgorithm("RS256").setId(keyId).setBuffer(pem(keys.getPrivate().getEncoded()))));
        return signer.generateToken(new JsonObject().put("sub", ALICE.toString()), new JWTOptions().setAlgorithm("RS256")
                .setIssuer(issuer).addAudience("orders").setExpiresInSeconds(60));
    }

    private static JsonObject jwks(JsonObject... keys) {
        return new JsonObject().put("keys", new JsonArray(List.of((Object[]) keys)));
    }

    /** The public half as an identity provider publishes it: kty, kid, use, alg, n, e. */
    private static JsonObject jwk(String keyId, KeyPair keys) {
        RSAPublicKey key = (RSAPublicKey) keys.getPublic();
        return new JsonObject().put("kty", "RSA").put("kid", keyId).put("use", "sig").put("alg", "RS256")
                .put("n", base64Url(key.getModulus())).put("e", base64Url(key.getPublicExponent()));
    }

    private static String base64Url(BigInteger value) {
        byte[] bytes = value.toByteArray();
        if (bytes.length > 1 && bytes[0] == 0) {
            bytes = java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static KeyPair rsa() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pem(byte[] der) {
        return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END PRIVATE KEY-----\n";
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
