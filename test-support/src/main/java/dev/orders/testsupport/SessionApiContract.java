package dev.orders.testsupport;

import dev.orders.service.security.Security;
import dev.orders.service.security.SessionApi;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The session routes' OpenAPI document ({@link SessionApi}) checked against a running service in development
 * mode, the same checks for every service that mounts the routes (the command side's and the query side's
 * contract tests run them): the document is served without a token and is the shipped one; for each of its
 * operations every documented status is provoked with a real request, whose answer must be documented and
 * match the documented headers, content type and schema; a sign-in body the document does not allow answers
 * 400 and issues nothing (no token, no cookie).
 */
public final class SessionApiContract {

    private static final String DEV_TOKEN = Security.DEV_TOKEN_PATH;
    private static final String SESSION = Security.SESSION_PATH;
    private static final Set<String> OPERATIONS = Set.of("POST " + DEV_TOKEN, "GET " + SESSION, "DELETE " + SESSION);
    /** No correct request provokes a 500. */
    private static final Set<Integer> PROVOKED_ELSEWHERE = Set.of(500);
    private static final String FOREIGN_ORIGIN = "https://elsewhere.example";
    private static final String TOO_BIG = "{\"role\": \"" + "x".repeat(70_000) + "\"}";

    private final Vertx vertx;
    private final WebClient client;
    private final TestTokens tokens;
    private final String ownOrigin;

    /** A request of one case: its operation, the status it must answer, and how it is sent. */
    private record Case(String method, String pathTemplate, int status, String name, Send send) {

        String operation() {
            return method + " " + pathTemplate;
        }
    }

    @FunctionalInterface
    private interface Send {
        HttpResponse<Buffer> send() throws Exception;
    }

    /**
     * @param vertx a Vert.x of the test (not the service's)
     * @param host  the host the service listens on, as its own pages would name it
     * @param port  its port
     */
    public SessionApiContract(Vertx vertx, String host, int port) {
        this.vertx = vertx;
        this.client = WebClient.create(vertx, new WebClientOptions().setDefaultHost(host).setDefaultPort(port));
        this.tokens = new TestTokens(vertx);
        this.ownOrigin = "http://" + host + ":" + port;
    }

    /**
     * The checks, as dynamic tests named after {@code service}; the document is read (without a token) here.
     *
     * @throws Exception when the document cannot be read
     */
    public Stream<DynamicTest> tests(String service) throws Exception {
        HttpResponse<Buffer> served = await(client.get(SessionApi.PATH).send());
        assertThat(served.statusCode()).as("the session document without a token: %s", served.bodyAsString())
                .isEqualTo(200);
        OpenApiContract contract = new OpenApiContract(served.bodyAsJsonObject());
        List<DynamicTest> tests = new ArrayList<>();
        tests.add(DynamicTest.dynamicTest(service + " serves the shipped session document, OpenAPI 3.1", () -> {
            assertThat(served.getHeader("Content-Type")).startsWith("application/json");
            JsonObject document = served.bodyAsJsonObject();
            assertThat(document).as("the served document is the shipped resource").isEqualTo(SessionApi.document().json());
            OpenApiContract.assertValidOpenApi31(vertx, document);
            assertThat(contract.operations()).isEqualTo(new TreeSet<>(OPERATIONS));
            assertThat(contract.operation("POST", DEV_TOKEN).getJsonArray("security")).as("signing in needs no token")
                    .isEmpty();
            assertThat(document.getJsonArray("security")).as("the other routes need one").containsExactlyInAnyOrder(
                    new JsonObject().put("bearerToken", new JsonArray()), new JsonObject().put("sessionCookie", new JsonArray()));
        }));
        List<Case> cases = cases();
        for (Case c : cases) {
            tests.add(DynamicTest.dynamicTest(service + ": " + c.operation() + " " + c.status() + ": " + c.name(), () -> {
                HttpResponse<Buffer> response = c.send().send();
                assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(c.status());
                contract.assertConforms(c.method(), c.pathTemplate(), response);
                if (c.pathTemplate().equals(DEV_TOKEN) && c.status() >= 400) {
                    assertThat(response.cookies()).as("no session cookie for a refused sign-in").isEmpty();
                    assertThat(response.bodyAsString()).as("no token in a refused sign-in").doesNotContain("\"token\"");
                }
            }));
        }
        tests.add(DynamicTest.dynamicTest(service + ": every documented status is provoked above", () -> {
            contract.assertEveryStatusProvoked(OPERATIONS,
                    cases.stream().map(c -> Map.entry(c.operation(), c.status())).toList(), PROVOKED_ELSEWHERE);
        }));
        return tests.stream();
    }

    private List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        String customer = UUID.randomUUID().toString();
        cases.add(signIn(200, "a customer's token", "{\"customerId\": \"" + customer + "\"}"));
        cases.add(signIn(200, "an operator's token", "{\"role\": \"operator\"}"));
        cases.add(new Case("POST", DEV_TOKEN, 200, "from the service's own origin", () -> send(HttpMethod.POST, DEV_TOKEN,
                request -> request.putHeader("Origin", ownOrigin), "{\"role\": \"operator\"}", "application/json")));
        for (String[] bad : List.of(
                new String[]{"neither field", "{}"},
                new String[]{"both fields", "{\"customerId\": \"" + customer + "\", \"role\": \"operator\"}"},
                new String[]{"a role other than operator", "{\"role\": \"admin\"}"},
                new String[]{"the role as a list", "{\"role\": [\"operator\"]}"},
                new String[]{"a customer id that is no UUID", "{\"customerId\": \"nope\"}"},
                new String[]{"a customer id as a number", "{\"customerId\": 12}"},
                new String[]{"an unknown field", "{\"customerId\": \"" + customer + "\", \"x\": 1}"},
                new String[]{"an unknown field beside the role", "{\"role\": \"operator\", \"roles\": [\"operator\"]}"},
                new String[]{"a duplicate key", "{\"role\": \"admin\", \"role\": \"operator\"}"},
                new String[]{"malformed JSON", "{\"role\": "},
                new String[]{"an array", "[{\"role\": \"operator\"}]"},
                new String[]{"no body", ""})) {
            cases.add(signIn(400, bad[0], bad[1]));
        }
        cases.add(new Case("POST", DEV_TOKEN, 403, "a page of a foreign origin", () -> send(HttpMethod.POST, DEV_TOKEN,
                request -> request.putHeader("Origin", FOREIGN_ORIGIN), "{\"role\": \"operator\"}", "application/json")));
        cases.add(signIn(413, "a body over 64 KiB", TOO_BIG));
        cases.add(new Case("POST", DEV_TOKEN, 415, "text/plain", () -> send(HttpMethod.POST, DEV_TOKEN,
                UnaryOperator.identity(), "role=operator", "text/plain")));

        cases.add(new Case("GET", SESSION, 200, "a customer's bearer token", () -> send(HttpMethod.GET, SESSION,
                TestTokens.asBearer(tokens.customer(UUID.randomUUID())), null, null)));
        cases.add(new Case("GET", SESSION, 200, "an operator's session cookie, without an Origin", () -> send(
                HttpMethod.GET, SESSION, TestTokens.asCookie(tokens.operator(), null), null, null)));
        cases.add(new Case("GET", SESSION, 401, "no token", () -> send(HttpMethod.GET, SESSION, UnaryOperator.identity(),
                null, null)));
        cases.add(new Case("DELETE", SESSION, 204, "the session cookie from the service's own origin", () -> send(
                HttpMethod.DELETE, SESSION, TestTokens.asCookie(tokens.customer(UUID.randomUUID()), ownOrigin), null, null)));
        cases.add(new Case("DELETE", SESSION, 204, "a bearer token", () -> send(HttpMethod.DELETE, SESSION,
                TestTokens.asBearer(tokens.operator()), null, null)));
        cases.add(new Case("DELETE", SESSION, 401, "an expired token", () -> send(HttpMethod.DELETE, SESSION,
                TestTokens.asBearer(tokens.expired(UUID.randomUUID())), null, null)));
        cases.add(new Case("DELETE", SESSION, 403, "the session cookie from a foreign origin", () -> send(
                HttpMethod.DELETE, SESSION, TestTokens.asCookie(tokens.operator(), FOREIGN_ORIGIN), null, null)));
        return cases;
    }

    /** A sign-in without a token or an {@code Origin}, as a script would send it. */
    private Case signIn(int status, String name, String body) {
        return new Case("POST", DEV_TOKEN, status, name, () -> send(HttpMethod.POST, DEV_TOKEN, UnaryOperator.identity(),
                body, "application/json"));
    }

    private HttpResponse<Buffer> send(HttpMethod method, String path, UnaryOperator<HttpRequest<Buffer>> as, String body,
                                      String contentType) throws Exception {
        HttpRequest<Buffer> request = as.apply(client.request(method, path))
                .putHeader("X-Correlation-Id", UUID.randomUUID().toString());
        if (contentType != null) {
            request.putHeader("Content-Type", contentType);
        }
        return await(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)));
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
