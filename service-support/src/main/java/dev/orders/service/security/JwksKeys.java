package dev.orders.service.security;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The token issuer's keys from its JSON Web Key Set ({@code auth.jwks-url}), so that the issuer can
 * rotate them without a restart of this process: fetched on the first token, and again when a token
 * names a key id ({@code kid}) that the set does not hold, at most once per {@link #MIN_REFRESH} (so
 * that tokens with made-up key ids cannot make this process hammer the issuer). Between fetches a
 * token is verified with the keys already held; a failed fetch keeps them.
 */
final class JwksKeys {

    static final Duration MIN_REFRESH = Duration.ofSeconds(10);
    private static final Logger LOG = LoggerFactory.getLogger(JwksKeys.class);

    private final Vertx vertx;
    private final HttpClient client;
    private final String url;
    private final JWTAuthOptions base;
    private final String algorithm;
    private volatile Loaded loaded;
    private Future<Loaded> fetching;

    /** The keys of one fetch, and the verifier made of them. */
    private record Loaded(JWTAuth verifier, Set<String> keyIds, long fetchedAtNanos) {
    }

    /**
     * @param base      the verification options (issuer, audience, leeway, any configured keys) the set is added to
     * @param algorithm the algorithm of a key that does not name one
     */
    JwksKeys(Vertx vertx, String url, JWTAuthOptions base, String algorithm) {
        this.vertx = vertx;
        // a fetch comes at most every MIN_REFRESH, often far apart: a new connection each time, never a pooled one
        // that sat idle since the last (which a proxy or the issuer may have dropped without a word)
        this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5_000).setKeepAlive(false));
        this.url = url;
        this.base = base;
        this.algorithm = algorithm;
    }

    /** The verifier for this token: the current keys, fetched again first if the token names an unknown key id. */
    Future<JWTAuth> verifierFor(String token) {
        Loaded now = loaded;
        String keyId = keyIdOf(token);
        if (now != null && (keyId == null || now.keyIds().contains(keyId)
                || System.nanoTime() - now.fetchedAtNanos() < MIN_REFRESH.toNanos())) {
            return Future.succeededFuture(now.verifier());
        }
        return refresh().map(Loaded::verifier);
    }

    private synchronized Future<Loaded> refresh() {
        if (fetching == null) {
            fetching = fetch().onComplete(done -> {
                synchronized (this) {
                    fetching = null;
                }
                if (done.succeeded()) {
                    loaded = done.result();
                    LOG.info("issuer keys from {}: key ids {}", url, done.result().keyIds());
                } else {
                    LOG.warn("cannot fetch the issuer's keys from {}: {}", url, done.cause().getMessage());
                }
            });
        }
        return fetching.recover(failure -> loaded != null ? Future.succeededFuture(loaded)
                : Future.failedFuture(new IllegalStateException("the issuer's keys cannot be fetched", failure)));
    }

    private Future<Loaded> fetch() {
        long started = System.nanoTime();
        return client.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url).setTimeout(10_000)
                        .addHeader("Accept", "application/json"))
                .compose(request -> request.send())
                .compose(response -> response.statusCode() == 200 ? response.body()
                        : Future.failedFuture("GET " + url + " answered " + response.statusCode()))
                .map(body -> load(body.toJsonObject().getJsonArray("keys", new JsonArray()), started));
    }

    private Loaded load(JsonArray keys, long fetchedAtNanos) {
        JWTAuthOptions options = new JWTAuthOptions(base);
        List<JsonObject> jwks = new ArrayList<>(options.getJwks() == null ? List.of() : options.getJwks());
        Set<String> keyIds = new HashSet<>();
        for (Object entry : keys) {
            if (entry instanceof JsonObject jwk && !"enc".equals(jwk.getString("use"))) {
                JsonObject key = jwk.copy();
                if (!key.containsKey("alg")) {
                    key.put("alg", algorithm);
                }
                jwks.add(key);
                if (key.getString("kid") != null) {
                    keyIds.add(key.getString("kid"));
                }
            }
        }
        return new Loaded(JWTAuth.create(vertx, options.setJwks(jwks)), Set.copyOf(keyIds), fetchedAtNanos);
    }

    /** The {@code kid} of a token's header, or null when it has none or is not a JWT. */
    static String keyIdOf(String token) {
        int dot = token.indexOf('.');
        if (dot <= 0) {
            return null;
        }
        try {
            String header = new String(Base64.getUrlDecoder().decode(token.substring(0, dot)), StandardCharsets.UTF_8);
            Object kid = new JsonObject(header).getValue("kid");
            return kid instanceof String id ? id : null;
        } catch (RuntimeException malformed) {
            return null;
        }
    }

    Future<Void> close() {
        return client.close();
    }
}
