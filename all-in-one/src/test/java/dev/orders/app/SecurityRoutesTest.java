package dev.orders.app;

import dev.orders.app.HttpProbe.Answer;
import dev.orders.app.HttpProbe.LiveStream;
import dev.orders.app.HttpProbe.Request;
import dev.orders.app.HttpProbe.Socket;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.security.Security;
import dev.orders.service.security.SessionApi;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every route of the API, walked with every way in that must fail: no token, an expired one, one
 * signed with another key, a malformed one, {@code alg: none}, a forged session cookie; customer A on
 * customer B's ids; a customer on the operators' routes. Each answers its documented code (401, the
 * 404 an unknown id gets, 403), appends no event and leaks nothing of B; streams and WebSockets carry
 * nothing of B's to A while B's orders change. The table of routes is checked against the routes the
 * application actually mounts, so a new route that the table does not cover fails here.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@DisplayName("Every API route refuses what its caller may not do, and leaks nothing")
@Order(Integer.MAX_VALUE) // the longest but the browser tests: first from the back (see the surefire configuration)
class SecurityRoutesTest {

    /** Who may use a route. */
    enum Access {
        /** A customer's own data: another customer's id answers the 404 of an unknown id. */
        CUSTOMER_SCOPED,
        /**
         * An order's live stream: accepted for any id (the caller may have just placed an order the read model
         * has not seen yet), and it shows the caller's own orders only; another customer's order answers
         * exactly as an unknown one: an open stream that carries nothing.
         */
        ORDER_STREAM,
        /** Operators only: a customer gets 403. */
        OPERATOR_ONLY,
        /** About the caller itself (the session). */
        OWN_SESSION,
        /** Open without a token, whatever the header: the contract documents (they describe, they reveal no data). */
        PUBLIC,
        /** Open without a token, in development mode only (the development sign-in). */
        PUBLIC_IN_DEVELOPMENT
    }

    /** A route as the router knows it: method and path template. */
    record Route(String method, String path) {
        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    /** The ids a probe's request is aimed at. */
    record Ids(String customerId, String orderId) {
    }

    /**
     * One row of the table: a request on a route, built for whichever ids it is aimed at.
     *
     * @param webSocket the subscribe message to send on {@code /api/ws}, or null for a plain HTTP request
     */
    record Probe(String name, Route route, Access access, Function<Ids, Request> request,
                 Function<Ids, JsonObject> webSocket) {
        @Override
        public String toString() {
            return route + " (" + name + ")";
        }
    }

    private static final JsonObject TEN_EUR = new JsonObject().put("amount", "10.00").put("currency", "EUR");
    private static final String AS_OF = Instant.now().plusSeconds(3600).toString();

    /**
     * The table: every route of the API, some with the variants that take another path through their
     * handler ({@code minVersion}, {@code asOf}). Keep it in step with the routes:
     * {@link #the_table_covers_every_route_the_application_mounts} fails on a route it lacks.
     */
    private static List<Probe> table() {
        return List.of(
                http("the command API's OpenAPI document", "GET", "/api/openapi/command-api.json", Access.PUBLIC,
                        ids -> Request.get("/api/openapi/command-api.json")),
                http("the query API's OpenAPI document", "GET", "/api/openapi/query-api.json", Access.PUBLIC,
                        ids -> Request.get("/api/openapi/query-api.json")),
                http("the session routes' OpenAPI document", "GET", "/api/openapi/session-api.json", Access.PUBLIC,
                        ids -> Request.get("/api/openapi/session-api.json")),
                http("the AsyncAPI document", "GET", "/api/asyncapi.json", Access.PUBLIC,
                        ids -> Request.get("/api/asyncapi.json")),
                http("create a customer", "POST", "/api/customers", Access.OPERATOR_ONLY,
                        ids -> Request.post("/api/customers", new JsonObject().put("name", "Mallory")
                                .put("creditLimit", TEN_EUR))),
                http("place an order for the customer", "POST", "/api/orders", Access.CUSTOMER_SCOPED,
                        ids -> Request.post("/api/orders", new JsonObject().put("customerId", ids.customerId())
                                .put("total", TEN_EUR))),
                http("cancel the order", "POST", "/api/orders/:id/cancel", Access.CUSTOMER_SCOPED,
                        ids -> Request.post("/api/orders/" + ids.orderId() + "/cancel", null)),
                http("the order", "GET", "/api/orders/:orderId", Access.CUSTOMER_SCOPED,
                        ids -> Request.get("/api/orders/" + ids.orderId())),
                http("the order at minVersion", "GET", "/api/orders/:orderId", Access.CUSTOMER_SCOPED,
                        ids -> Request.get("/api/orders/" + ids.orderId() + "?minVersion=1")),
                http("the order asOf an instant", "GET", "/api/orders/:orderId", Access.CUSTOMER_SCOPED,
                        ids -> Request.get("/api/orders/" + ids.orderId() + "?asOf=" + AS_OF)),
                http("the order's history", "GET", "/api/orders/:orderId/history", Access.CUSTOMER_SCOPED,
                        ids -> Request.get("/api/orders/" + ids.orderId() + "/history")),
                http("the customers listing", "GET", "/api/customers", Access.OPERATOR_ONLY,
                        ids -> Request.get("/api/customers?minAvailableCredit=0")),
                http("the customer", "GET", "/api/customers/:customerId", Access.CUSTOMER_SCOPED,
                        ids -> Request.get("/api/customers/" + ids.customerId())),
                http("the customer's orders", "GET", "/api/customers/:customerId/orders", Access.CUSTOMER_SCOPED,
                        ids -> Request.get("/api/customers/" + ids.customerId() + "/orders")),
                http("the customer's orders of one status", "GET", "/api/customers/:customerId/orders",
                        Access.CUSTOMER_SCOPED,
                        ids -> Request.get("/api/customers/" + ids.customerId() + "/orders?status=APPROVED")),
                http("the customer's order stream (SSE)", "GET", "/api/customers/:id/orders/stream", Access.CUSTOMER_SCOPED,
                        ids -> Request.get("/api/customers/" + ids.customerId() + "/orders/stream")
                                .with("Accept", "text/event-stream")),
                http("the order's stream (SSE)", "GET", "/api/orders/:id/stream", Access.ORDER_STREAM,
                        ids -> Request.get("/api/orders/" + ids.orderId() + "/stream").with("Accept", "text/event-stream")),
                webSocket("a WebSocket subscription to the customer", Access.CUSTOMER_SCOPED,
                        ids -> new JsonObject().put("type", "subscribe").put("customerId", ids.customerId())),
                webSocket("a WebSocket subscription to the order", Access.ORDER_STREAM,
                        ids -> new JsonObject().put("type", "subscribe").put("orderId", ids.orderId())),
                http("every customer's orders", "GET", "/api/orders", Access.OPERATOR_ONLY,
                        ids -> Request.get("/api/orders")),
                http("every customer's orders of one status", "GET", "/api/orders", Access.OPERATOR_ONLY,
                        ids -> Request.get("/api/orders?status=APPROVED&limit=5")),
                http("every order change (SSE)", "GET", "/api/orders/stream", Access.OPERATOR_ONLY,
                        ids -> Request.get("/api/orders/stream").with("Accept", "text/event-stream")),
                http("the system's status (SSE)", "GET", "/api/admin/status/stream", Access.OPERATOR_ONLY,
                        ids -> Request.get("/api/admin/status/stream").with("Accept", "text/event-stream")),
                http("the event feed", "GET", "/api/admin/events", Access.OPERATOR_ONLY,
                        ids -> Request.get("/api/admin/events?after=0&limit=10")),
                http("the rebuild's status", "GET", "/api/admin/rebuild", Access.OPERATOR_ONLY,
                        ids -> Request.get("/api/admin/rebuild")),
                http("start a rebuild", "POST", "/api/admin/rebuild", Access.OPERATOR_ONLY,
                        ids -> Request.post("/api/admin/rebuild", null)),
                http("the dead letters", "GET", "/api/admin/dead-letters", Access.OPERATOR_ONLY,
                        ids -> Request.get("/api/admin/dead-letters")),
                http("re-drive a dead letter", "POST", "/api/admin/dead-letters/:id/redrive", Access.OPERATOR_ONLY,
                        ids -> Request.post("/api/admin/dead-letters/1/redrive", null)),
                http("the saga's dead letters", "GET", "/api/admin/saga/dead-letters", Access.OPERATOR_ONLY,
                        ids -> Request.get("/api/admin/saga/dead-letters")),
                http("re-drive a saga dead letter", "POST", "/api/admin/saga/dead-letters/:id/redrive",
                        Access.OPERATOR_ONLY, ids -> Request.post("/api/admin/saga/dead-letters/1/redrive", null)),
                http("pause the saga", "POST", "/api/admin/saga/pause", Access.OPERATOR_ONLY,
                        ids -> Request.post("/api/admin/saga/pause", null)),
                http("resume the saga", "POST", "/api/admin/saga/resume", Access.OPERATOR_ONLY,
                        ids -> Request.post("/api/admin/saga/resume", null)),
                http("who the caller is", "GET", "/api/session", Access.OWN_SESSION,
                        ids -> Request.get("/api/session")),
                http("sign out", "DELETE", "/api/session", Access.OWN_SESSION,
                        ids -> Request.of(HttpMethod.DELETE, "/api/session")),
                http("a development token", "POST", "/api/dev/token", Access.PUBLIC_IN_DEVELOPMENT,
                        ids -> Request.post("/api/dev/token", new JsonObject().put("customerId", ids.customerId()))));
    }

    private static Probe http(String name, String method, String path, Access access, Function<Ids, Request> request) {
        return new Probe(name, new Route(method, path), access, request, null);
    }

    private static Probe webSocket(String name, Access access, Function<Ids, JsonObject> subscribe) {
        return new Probe(name, new Route("GET", "/api/ws"), access, ids -> Request.get("/api/ws"), subscribe);
    }

    /** A way in that must fail: the headers it sends. */
    record Intruder(String name, Map<String, String> headers) {
        @Override
        public String toString() {
            return name;
        }
    }

    private SecuredApp secured;
    private OrdersApp app;
    private OrdersConfig config;
    private HttpProbe probe;
    private Vertx tokenVertx;
    private TestTokens tokens;
    private BadTokens badTokens;
    private String operator;
    private String customerA;
    private String customerB;
    private String nameB;
    private String orderA;
    private String orderB;
    private String tokenA;
    private String tokenB;
    private long eventsAtStart;

    @BeforeAll
    void start(TestInfrastructure infra) {
        config = infra.isolatedConfig();
        secured = SecuredApp.start(config);
        app = secured.app();
        probe = secured.probe();
        tokenVertx = secured.tokenVertx();
        tokens = secured.tokens();
        badTokens = new BadTokens(tokenVertx);
        operator = tokens.operator();

        nameB = "Bertha " + UUID.randomUUID();
        customerA = createCustomer("Alice " + UUID.randomUUID());
        customerB = createCustomer(nameB);
        tokenA = tokens.customer(UUID.fromString(customerA));
        tokenB = tokens.customer(UUID.fromString(customerB));
        orderA = placeOrder(customerA, tokenA, "100.00");
        orderB = placeOrder(customerB, tokenB, "100.00");
        awaitStatus(orderA, "APPROVED");
        awaitStatus(orderB, "APPROVED");
        eventsAtStart = settledEventCount();
    }

    @AfterAll
    void stop() {
        if (secured != null) {
            secured.close();
        }
    }

    // ------------------------------------------------------------------ the table is complete

    @Test
    @Order(1)
    @DisplayName("the table covers every /api route the application mounts, and names none it does not")
    void the_table_covers_every_route_the_application_mounts() throws Exception {
        Set<Route> mounted = mountedApiRoutes();
        Set<Route> covered = new TreeSet<>(java.util.Comparator.comparing(Route::toString));
        table().forEach(p -> covered.add(p.route()));
        assertThat(mounted).as("routes the application mounts").isNotEmpty();
        List<Route> uncovered = mounted.stream().filter(r -> !covered.contains(r)).toList();
        List<Route> unknown = covered.stream().filter(r -> !mounted.contains(r)).toList();
        assertThat(uncovered).as("routes of the application that the security table does not cover (add rows)")
                .isEmpty();
        assertThat(unknown).as("rows of the table for routes the application does not mount").isEmpty();
    }

    /**
     * The {@code /api} routes of the very router the application serves, as {@code OrdersApp.routes}
     * builds it from this application's parts: method and path of every
     * route with a method or an exact path; the catch-alls ({@code /api/*}: body, authentication, 404) are
     * not routes of their own.
     */
    private Set<Route> mountedApiRoutes() {
        Router router = OrdersApp.routes(app.vertx(), Security.create(app.vertx(), config.securitySettings()),
                HttpProbe.await(SessionApi.load(app.vertx())), app.commandSide(), app.querySide());
        Set<Route> routes = new TreeSet<>(java.util.Comparator.comparing(Route::toString));
        for (var route : router.getRoutes()) {
            String path = route.getPath();
            if (path == null || !path.startsWith("/api")) {
                continue;
            }
            if (route.methods() == null || route.methods().isEmpty()) {
                if (route.isExactPath()) {
                    routes.add(new Route("ANY", path));
                }
                continue;
            }
            route.methods().forEach(m -> routes.add(new Route(m.name(), path)));
        }
        return routes;
    }

    // ------------------------------------------------------------------ 401 for every way in without a valid token

    private List<Intruder> intruders() {
        UUID a = UUID.fromString(customerA);
        List<Intruder> intruders = new ArrayList<>(List.of(
                new Intruder("no token", Map.of()),
                new Intruder("an expired token", bearer(tokens.expired(a))),
                new Intruder("an expired operator token", bearer(tokens.expired(null))),
                new Intruder("a token signed with another key", bearer(tokens.signedWithOtherKey(a))),
                new Intruder("an operator token signed with another key", bearer(tokens.signedWithOtherKey(null))),
                new Intruder("a malformed token", bearer("not.a.jwt")),
                new Intruder("a made-up signature", bearer(BadTokens.madeUpSignature(BadTokens.operatorClaims()))),
                new Intruder("alg none with operator claims", bearer(BadTokens.unsigned("none", BadTokens.operatorClaims()))),
                new Intruder("alg None with customer A's claims", bearer(BadTokens.unsigned("None", BadTokens.customerClaims(a)))),
                new Intruder("a 'Basic' Authorization header", Map.of("Authorization", "Basic b3BlcmF0b3I6b3BlcmF0b3I=")),
                new Intruder("an expired session cookie", Map.of("Cookie", Security.COOKIE + "=" + tokens.expired(a))),
                new Intruder("a forged session cookie", Map.of("Cookie", Security.COOKIE + "=" + tokens.signedWithOtherKey(null)))));
        List<String> badClaims = badTokens.devSignedWithBadClaims();
        for (int i = 0; i < badClaims.size(); i++) {
            String claims = new String(java.util.Base64.getUrlDecoder().decode(badClaims.get(i).split("\\.")[1]),
                    java.nio.charset.StandardCharsets.UTF_8);
            intruders.add(new Intruder("a development-signed token with bad claims " + claims, bearer(badClaims.get(i))));
        }
        return intruders;
    }

    @TestFactory
    @Order(2)
    @DisplayName("every route answers 401 with WWW-Authenticate to a missing, expired, foreign, malformed or unsigned token, or one with bad claims")
    Stream<DynamicTest> every_route_answers_401_without_a_valid_token() {
        Ids ofB = new Ids(customerB, orderB);
        List<DynamicTest> tests = new ArrayList<>();
        List<Intruder> intruders = intruders();
        for (Probe p : table()) {
            for (Intruder intruder : intruders) {
                tests.add(DynamicTest.dynamicTest(p + " with " + intruder, () -> {
                    Outcome outcome = attempt(p, ofB, intruder.headers());
                    if (p.access() == Access.PUBLIC_IN_DEVELOPMENT || p.access() == Access.PUBLIC) {
                        assertThat(outcome.status()).as("open (in development mode), whatever the header: %s", outcome)
                                .isEqualTo(200);
                        return;
                    }
                    assertThat(outcome.status()).as("%s", outcome).isEqualTo(401);
                    if (outcome.answer() != null) {
                        assertThat(outcome.answer().header("WWW-Authenticate")).as("%s", outcome).startsWith("Bearer");
                        assertThat(outcome.answer().header("Content-Type")).startsWith("application/problem+json");
                    }
                }));
            }
        }
        return tests.stream();
    }

    // ------------------------------------------------------------------ customer A on customer B's ids

    @TestFactory
    @Order(3)
    @DisplayName("customer A on customer B's ids gets exactly the 404 an unknown id gets")
    Stream<DynamicTest> customer_a_on_customer_bs_ids_gets_the_answer_of_an_unknown_id() {
        Ids ofB = new Ids(customerB, orderB);
        return table().stream().filter(p -> p.access() == Access.CUSTOMER_SCOPED).map(p ->
                DynamicTest.dynamicTest(p.toString(), () -> {
                    Ids unknown = new Ids(UUID.randomUUID().toString(), UUID.randomUUID().toString());
                    Outcome ofUnknown = attempt(p, unknown, bearer(tokenA));
                    Outcome ofOther = attempt(p, ofB, bearer(tokenA));
                    assertThat(ofUnknown.code()).as("an unknown id: %s", ofUnknown)
                            .isIn(p.name().contains("minVersion") ? Set.of(404, 503) : Set.of(404));
                    assertThat(ofOther.status()).as("B's id must answer as an unknown id (%s); was %s", ofUnknown, ofOther)
                            .isEqualTo(ofUnknown.status());
                    assertThat(ofOther.code()).as("B's id must answer as an unknown id (%s); was %s", ofUnknown, ofOther)
                            .isEqualTo(ofUnknown.code());
                    JsonObject expected = ofUnknown.problem();
                    JsonObject actual = ofOther.problem();
                    assertThat(actual).as("a problem document: %s", ofOther).isNotNull();
                    assertThat(actual.getString("detail")).as("the detail, but for the id")
                            .isEqualTo(expected.getString("detail")
                                    .replace(unknown.customerId(), customerB).replace(unknown.orderId(), orderB));
                    assertThat(actual.getString("title")).isEqualTo(expected.getString("title"));
                    assertThat(actual.getString("type")).isEqualTo(expected.getString("type"));
                    if (ofUnknown.answer() != null) {
                        assertThat(ofOther.answer().header("Retry-After")).isEqualTo(ofUnknown.answer().header("Retry-After"));
                    }
                }));
    }

    @TestFactory
    @Order(3)
    @DisplayName("customer A on customer B's order streams gets exactly what an unknown order gets: an open stream carrying nothing")
    Stream<DynamicTest> customer_a_on_customer_bs_order_stream_gets_what_an_unknown_order_gets() {
        Ids ofB = new Ids(customerB, orderB);
        return table().stream().filter(p -> p.access() == Access.ORDER_STREAM).map(p ->
                DynamicTest.dynamicTest(p.toString(), () -> {
                    Ids unknown = new Ids(UUID.randomUUID().toString(), UUID.randomUUID().toString());
                    Outcome ofUnknown = attempt(p, unknown, bearer(tokenA));
                    Outcome ofOther = attempt(p, ofB, bearer(tokenA));
                    assertThat(ofUnknown.status()).as("an unknown order: %s", ofUnknown).isIn(200, 101);
                    assertThat(ofOther.status()).as("B's order must answer as an unknown one (%s); was %s", ofUnknown,
                            ofOther).isEqualTo(ofUnknown.status());
                    for (Outcome outcome : List.of(ofUnknown, ofOther)) {
                        if (outcome.answer() != null) {
                            assertThat(outcome.answer().body()).as("%s", outcome).doesNotContain("event: order");
                        } else {
                            // at most the change-log position to resume from, which names no order or customer
                            assertThat(outcome.frames()).as("%s", outcome)
                                    .allSatisfy(f -> assertThat(f.getString("type")).isEqualTo("position"));
                        }
                    }
                    if (ofUnknown.answer() == null) {
                        assertThat(ofOther.frames()).as("B's order gets the frames an unknown one gets")
                                .extracting(f -> f.getString("type"))
                                .isEqualTo(ofUnknown.frames().stream().map(f -> f.getString("type")).toList());
                    }
                }));
    }

    // ------------------------------------------------------------------ a customer on operator routes

    @TestFactory
    @Order(4)
    @DisplayName("a customer on an operator route gets 403")
    Stream<DynamicTest> a_customer_on_an_operator_route_gets_403() {
        Ids ofB = new Ids(customerB, orderB);
        return table().stream().filter(p -> p.access() == Access.OPERATOR_ONLY).map(p ->
                DynamicTest.dynamicTest(p.toString(), () -> {
                    Outcome outcome = attempt(p, ofB, bearer(tokenA));
                    assertThat(outcome.status()).as("%s", outcome).isEqualTo(403);
                    assertThat(outcome.problem()).as("a problem document: %s", outcome).isNotNull();
                    assertThat(outcome.problem().getInteger("status")).isEqualTo(403);
                }));
    }

    // ------------------------------------------------------------------ what a customer may use shows only itself

    @TestFactory
    @Order(5)
    @DisplayName("a customer's session, the contract documents and the development sign-in serve A without a word of B")
    Stream<DynamicTest> a_customer_sees_only_itself_on_the_routes_about_the_caller() {
        Ids ofA = new Ids(customerA, orderA);
        return table().stream().filter(p -> Set.of(Access.OWN_SESSION, Access.PUBLIC, Access.PUBLIC_IN_DEVELOPMENT)
                .contains(p.access())).map(p -> DynamicTest.dynamicTest(p.toString(), () -> {
                    Outcome outcome = attempt(p, ofA, bearer(tokenA));
                    assertThat(outcome.status()).as("%s", outcome).isBetween(200, 299);
                    if (p.route().equals(new Route("GET", "/api/session"))) {
                        assertThat(outcome.answer().json().getString("customerId")).isEqualTo(customerA);
                        assertThat(outcome.answer().json().getString("role")).isEqualTo("customer");
                    }
                }));
    }

    // ------------------------------------------------------------------ the probes are right: the rightful callers are served

    @TestFactory
    @Order(6)
    @DisplayName("the rightful callers are served by the same requests: the owner on its own ids, the operator anywhere")
    Stream<DynamicTest> the_owner_and_the_operator_are_served() {
        Ids ofB = new Ids(customerB, orderB);
        List<DynamicTest> tests = new ArrayList<>();
        for (Probe p : table()) {
            boolean changes = p.route().method().equals("POST") || p.route().method().equals("DELETE");
            if (changes) {
                continue; // a rightful command would append; the setup placed orders through them already
            }
            if (p.access() == Access.CUSTOMER_SCOPED || p.access() == Access.ORDER_STREAM) {
                tests.add(DynamicTest.dynamicTest(p + " by its owner", () -> assertServed(p, ofB, tokenB)));
            }
            if (p.access() != Access.OWN_SESSION) {
                tests.add(DynamicTest.dynamicTest(p + " by an operator", () -> assertServed(p, ofB, operator)));
            }
        }
        return tests.stream();
    }

    private void assertServed(Probe p, Ids ids, String token) {
        Outcome outcome = attempt(p, ids, bearer(token));
        if (p.webSocket() != null) {
            assertThat(outcome.status()).as("%s", outcome).isEqualTo(101);
            assertThat(outcome.frames()).as("the current state").anyMatch(f -> "order".equals(f.getString("type")));
        } else {
            assertThat(outcome.status()).as("%s", outcome).isEqualTo(200);
        }
    }

    // ------------------------------------------------------------------ nothing appended, nothing started

    @Test
    @Order(7)
    @DisplayName("no refused request appended an event or started a rebuild")
    void no_refused_request_appended_an_event_or_started_a_rebuild() {
        assertThat(settledEventCount()).as("events in the command side's store").isEqualTo(eventsAtStart);
        assertThat(app.querySide().rebuilder().status().getString("startedAt")).as("a rebuild started").isNull();
    }

    // ------------------------------------------------------------------ streams and WebSockets while B's orders change

    @Test
    @Order(8)
    @DisplayName("while B's orders change, no stream or WebSocket of A's carries a frame with B's data")
    void no_frame_with_bs_data_reaches_a_while_bs_orders_change() {
        Map<String, String> asA = bearer(tokenA);
        Map<String, String> asACookie = Map.of("Cookie", Security.COOKIE + "=" + tokenA);
        try (LiveStream ownOfA = probe.stream("/api/customers/" + customerA + "/orders/stream", asA);
             LiveStream customerBAsA = probe.stream("/api/customers/" + customerB + "/orders/stream", asA);
             LiveStream orderBAsA = probe.stream("/api/orders/" + orderB + "/stream", asA);
             LiveStream customerBByCookie = probe.stream("/api/customers/" + customerB + "/orders/stream", asACookie);
             Socket customerBOnSocket = probe.webSocket(asA);
             Socket orderBOnSocket = probe.webSocket(asACookie);
             Socket ownOnSocket = probe.webSocket(asA);
             LiveStream ownOfB = probe.stream("/api/customers/" + customerB + "/orders/stream", bearer(tokenB))) {
            customerBOnSocket.send(new JsonObject().put("type", "subscribe").put("customerId", customerB));
            orderBOnSocket.send(new JsonObject().put("type", "subscribe").put("orderId", orderB));
            ownOnSocket.send(new JsonObject().put("type", "subscribe").put("customerId", customerA));
            assertThat(ownOfA.status()).isEqualTo(200);
            assertThat(ownOfB.status()).isEqualTo(200);
            assertThat(HttpProbe.within(Duration.ofSeconds(10), () -> !ownOnSocket.frames.isEmpty()))
                    .as("A's own subscription answers").isTrue();

            // B's orders change: a new one is placed and approved, the first one is cancelled.
            String newOrder = placeOrder(customerB, tokenB, "50.00");
            Answer cancelled = probe.send(Request.post("/api/orders/" + orderB + "/cancel", null).with(bearer(tokenB)));
            assertThat(cancelled.status()).as("B cancels its order: %s", cancelled).isEqualTo(202);
            assertThat(HttpProbe.within(Duration.ofSeconds(20), () -> ownOfB.orders().stream().anyMatch(o ->
                    newOrder.equals(o.getString("orderId")) && "APPROVED".equals(o.getString("status")))
                    && ownOfB.orders().stream().anyMatch(o ->
                    orderB.equals(o.getString("orderId")) && "CANCELLED".equals(o.getString("status")))))
                    .as("B's own stream shows the changes: %s", ownOfB.text()).isTrue();
            HttpProbe.pause(1_000); // time for anything misrouted to arrive too

            List<String> secretsOfB = List.of(customerB, orderB, newOrder, nameB);
            assertThat(ownOfA.text()).as("A's own stream").doesNotContain(secretsOfB);
            assertThat(ownOnSocket.frames).as("A's own WebSocket").allSatisfy(f -> assertThat(f).doesNotContain(secretsOfB));
            for (LiveStream attempt : List.of(customerBAsA, orderBAsA, customerBByCookie)) {
                assertThat(attempt.status()).as("A's stream of B's: %s", attempt.text())
                        .isEqualTo(attempt == orderBAsA ? 200 : 404);
                assertThat(attempt.orders()).as("order events on A's stream of B's").isEmpty();
                assertThat(attempt.text()).doesNotContain(newOrder, nameB);
            }
            for (Socket socket : List.of(customerBOnSocket, orderBOnSocket)) {
                assertThat(socket.status()).isEqualTo(101);
                assertThat(socket.messages()).as("A's subscription to B's").allSatisfy(m -> {
                    if ("position".equals(m.getString("type"))) {
                        return; // where to resume from: a change-log position, as an unknown order gets it
                    }
                    assertThat(m.getString("type")).isEqualTo("error");
                    assertThat(m.getInteger("status")).isEqualTo(404);
                });
                assertThat(socket.frames).allSatisfy(f -> assertThat(f).doesNotContain(newOrder, nameB));
            }
            assertThat(customerBOnSocket.frames).as("an answer to the subscription").isNotEmpty();
            assertThat(orderBOnSocket.messages()).as("an order subscription is accepted and carries nothing of B's")
                    .allSatisfy(m -> assertThat(m.fieldNames()).containsExactlyInAnyOrder("type", "id"))
                    .allSatisfy(m -> assertThat(m.getString("type")).isEqualTo("position"));
        }
        eventsAtStart = settledEventCount();
    }

    // ------------------------------------------------------------------ sending a probe

    /**
     * What a probe got: the HTTP status (101 for an accepted WebSocket), the answer, and the frames a
     * WebSocket received within a moment of subscribing.
     */
    record Outcome(int status, Answer answer, List<JsonObject> frames) {

        /** The status that answers the request: the HTTP status, or for a WebSocket the status of its error frame. */
        int code() {
            if (answer == null) {
                JsonObject problem = problem();
                return problem == null ? status : problem.getInteger("status");
            }
            return status;
        }

        /** The problem document: the HTTP body, or the error frame of a WebSocket. */
        JsonObject problem() {
            if (answer != null) {
                return answer.json();
            }
            return frames.stream().filter(f -> "error".equals(f.getString("type"))).findFirst()
                    .map(f -> new JsonObject().put("status", f.getInteger("status")).put("detail", f.getString("detail"))
                            .put("title", "").put("type", "")).orElse(null);
        }

        @Override
        public String toString() {
            return status + (answer != null ? " " + answer : " frames " + frames);
        }
    }

    /**
     * Sends the probe aimed at these ids with these headers. Checks what must hold of every attempt:
     * no event appended by it, no 5xx, and nothing of B's in the answer that the request did not name.
     * For a WebSocket status {@code 101}, the frames received within a moment of subscribing (a
     * refused one is answered at once).
     */
    private Outcome attempt(Probe p, Ids ids, Map<String, String> headers) {
        long before = eventCount();
        Outcome outcome;
        String asked;
        if (p.webSocket() == null) {
            Request request = p.request().apply(ids).with(headers);
            asked = request.toString();
            Answer answer = probe.send(request);
            outcome = new Outcome(answer.status(), answer, List.of());
        } else {
            JsonObject subscribe = p.webSocket().apply(ids);
            asked = subscribe.encode();
            try (Socket socket = probe.webSocket(headers)) {
                if (socket.status() != 101) {
                    outcome = new Outcome(socket.status(), socket.refusal(), List.of());
                } else {
                    socket.send(subscribe);
                    HttpProbe.within(Duration.ofSeconds(5), () -> !socket.frames.isEmpty());
                    HttpProbe.pause(300);
                    outcome = new Outcome(101, null, socket.messages());
                }
            }
        }
        boolean unavailable = outcome.status() == 503 && outcome.answer().header("Retry-After") != null;
        assertThat(outcome.status() < 500 || unavailable).as("no server error (but 503 with Retry-After): %s", outcome).isTrue();
        assertThat(eventCount()).as("events appended by %s", p).isEqualTo(before);
        String said = outcome.answer() != null ? outcome.answer().body() : outcome.frames().toString();
        boolean ownCaller = ids.customerId().equals(customerB) && headers.equals(bearer(tokenB));
        boolean operatorCaller = headers.equals(bearer(operator));
        if (!ownCaller && !operatorCaller) {
            for (String secret : List.of(customerB, orderB, nameB)) {
                if (!asked.contains(secret)) {
                    assertThat(said).as("%s leaks B's data not named by the request", p).doesNotContain(secret);
                }
            }
        }
        return outcome;
    }

    // ------------------------------------------------------------------ setup helpers

    private static Map<String, String> bearer(String token) {
        return Map.of("Authorization", TestTokens.bearer(token));
    }

    private String createCustomer(String name) {
        Answer created = probe.send(Request.post("/api/customers", new JsonObject().put("name", name)
                .put("creditLimit", new JsonObject().put("amount", "1000.00").put("currency", "EUR"))).with(bearer(operator)));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        String id = created.json().getString("customerId");
        assertThat(HttpProbe.within(Duration.ofSeconds(20), () ->
                probe.send(Request.get("/api/customers/" + id).with(bearer(operator))).status() == 200))
                .as("customer %s in the read model", id).isTrue();
        return id;
    }

    private String placeOrder(String customerId, String token, String amount) {
        Answer placed = probe.send(Request.post("/api/orders", new JsonObject().put("customerId", customerId)
                .put("total", new JsonObject().put("amount", amount).put("currency", "EUR"))).with(bearer(token)));
        assertThat(placed.status()).as("%s", placed).isEqualTo(202);
        return placed.json().getString("orderId");
    }

    private void awaitStatus(String orderId, String status) {
        assertThat(HttpProbe.within(Duration.ofSeconds(30), () -> {
            Answer read = probe.send(Request.get("/api/orders/" + orderId).with(bearer(operator)));
            return read.status() == 200 && status.equals(read.json().getString("status"));
        })).as("order %s %s", orderId, status).isTrue();
    }

    /** Events in the command side's store. */
    private long eventCount() {
        return HttpProbe.await(app.commandSide().pool().query("SELECT count(*) FROM events").execute())
                .iterator().next().getLong(0);
    }

    /** The count once it has not moved for a second (the saga's reactions to the setup are in). */
    private long settledEventCount() {
        long last = eventCount();
        for (int i = 0; i < 30; i++) {
            HttpProbe.pause(1_000);
            long now = eventCount();
            if (now == last) {
                return now;
            }
            last = now;
        }
        return last;
    }
}
