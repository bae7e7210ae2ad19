package dev.orders.app;

import dev.orders.app.HttpProbe.Answer;
import dev.orders.app.HttpProbe.Request;
import dev.orders.app.RawHttp.Exchange;
import dev.orders.service.security.Security;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A thousand hostile requests, generated from a seeded {@link Random} (printed; the system property
 * {@value #SEED_PROPERTY} replays one), written byte for byte on the socket: mass assignment, bodies over
 * 64 KiB, deep nesting, wrong types, broken JSON, wrong content types, huge and odd headers, bad ids
 * and paths, bad tokens, and cookie-authenticated commands from foreign origins or none. None may
 * answer 5xx (but a 503 with Retry-After), none may be accepted (no 2xx, no event appended), each
 * answers one of the codes its kind documents, and {@code /health/ready} answers 200 throughout.
 *
 * <p>The command rate limit is set high here so that every request is judged on what it is, not on how
 * many came before it; {@code RateLimitTest} covers the limit.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("Hostile requests are refused with a 4xx, change nothing and keep the system ready")
class HostileRequestsTest {

    static final String SEED_PROPERTY = "orders.hostile.seed";
    private static final int REQUESTS = 1_000;
    private static final int MAX_BODY = 64 * 1024;

    /** The kinds of hostile request, each with the answers its kind documents. */
    enum Kind {
        MASS_ASSIGNMENT(400),
        OVERSIZED_BODY(413),
        DEEP_NESTING(400),
        WRONG_TYPES(400, 404, 422),
        BROKEN_JSON(400),
        WRONG_CONTENT_TYPE(400, 415),
        HUGE_OR_ODD_HEADERS(400, 401, 413, 414, 415, 431),
        BAD_IDS_AND_PATHS(400, 403, 404, 405, 414),
        BAD_TOKENS(400, 401, 431),
        FOREIGN_ORIGIN_COOKIE(403);

        final Set<Integer> documented;

        Kind(Integer... documented) {
            this.documented = Set.of(documented);
        }
    }

    /**
     * One generated request.
     *
     * @param mayServe true only for a static page path, which may be served (its body is checked for leaks)
     */
    record Hostile(int index, Kind kind, String what, byte[] bytes, boolean mayServe) {
        @Override
        public String toString() {
            String head = new String(bytes, 0, Math.min(bytes.length, 160), StandardCharsets.ISO_8859_1)
                    .replace("\r\n", " | ");
            return "#" + index + " " + kind + " (" + what + "): " + head + (bytes.length > 160 ? "..." : "")
                    + " [" + bytes.length + " bytes]";
        }
    }

    private SecuredApp secured;
    private OrdersApp app;
    private HttpProbe probe;
    private Vertx tokenVertx;
    private TestTokens tokens;
    private BadTokens badTokens;
    private int port;
    private String operator;
    private String customerA;
    private String customerB;
    private String orderA;
    private String orderB;
    private String tokenA;
    private long seed;

    @BeforeAll
    void start(TestInfrastructure infra) {
        secured = SecuredApp.start(infra.isolatedConfig().with(Map.of(
                "rate.commands-per-second", "1000000", "rate.command-burst", "1000000")));
        app = secured.app();
        port = app.port();
        probe = secured.probe();
        tokenVertx = secured.tokenVertx();
        tokens = secured.tokens();
        badTokens = new BadTokens(tokenVertx);
        operator = tokens.operator();
        customerA = createCustomer("Alice");
        customerB = createCustomer("Bob");
        tokenA = tokens.customer(UUID.fromString(customerA));
        orderA = placeOrder(customerA, tokenA);
        orderB = placeOrder(customerB, tokens.customer(UUID.fromString(customerB)));
        awaitApproved(orderA);
        awaitApproved(orderB);
        String property = System.getProperty(SEED_PROPERTY);
        seed = property == null || property.isBlank() ? new Random().nextLong() : Long.parseLong(property.trim());
        System.out.println("HostileRequestsTest seed: " + seed + " (replay with -D" + SEED_PROPERTY + "=" + seed + ")");
    }

    @AfterAll
    void stop() {
        if (secured != null) {
            secured.close();
        }
    }

    @Test
    @DisplayName("1,000 hostile requests: no 5xx, none accepted, no event appended, each answered as its kind documents, ready throughout")
    void hostile_requests_are_refused_change_nothing_and_keep_the_system_ready() throws Exception {
        Random random = new Random(seed);
        List<Hostile> requests = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            Kind kind = Kind.values()[random.nextInt(Kind.values().length)];
            requests.add(generate(i, kind, random));
        }
        long eventsBefore = settledEventCount();

        ReadinessPoller readiness = new ReadinessPoller(port);
        readiness.start();
        List<String> failures = new ArrayList<>();
        Map<Kind, AtomicInteger> perKind = new EnumMap<>(Kind.class);
        Map<Integer, AtomicInteger> perStatus = new java.util.TreeMap<>();
        try {
            for (Hostile hostile : requests) {
                long before = eventCount();
                Exchange answer = RawHttp.exchange(port, hostile.bytes(), 30_000);
                long after = eventCount();
                perKind.computeIfAbsent(hostile.kind(), k -> new AtomicInteger()).incrementAndGet();
                perStatus.computeIfAbsent(answer.status(), k -> new AtomicInteger()).incrementAndGet();
                judge(hostile, answer, after - before).ifPresent(failures::add);
            }
        } finally {
            readiness.stop();
        }
        HttpResponse<String> readyAtTheEnd = HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                URI.create("http://localhost:" + port + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());

        System.out.println("HostileRequestsTest seed " + seed + ": requests per kind " + perKind + ", answers per status "
                + perStatus + ", readiness polled " + readiness.polls.get() + " times");
        assertThat(failures).as("hostile requests answered wrongly (seed %d; replay with -D%s=%d)", seed, SEED_PROPERTY, seed)
                .isEmpty();
        assertThat(settledEventCount()).as("events in the command side's store after the hostile requests")
                .isEqualTo(eventsBefore);
        assertThat(readiness.polls.get()).as("readiness polls during the run").isPositive();
        assertThat(readiness.notReady).as("/health/ready answers during the run that were not 200").isEmpty();
        assertThat(readyAtTheEnd.statusCode()).as("/health/ready at the end: %s", readyAtTheEnd.body()).isEqualTo(200);
        Answer own = probe.send(Request.get("/api/orders/" + orderA).with("Authorization", TestTokens.bearer(tokenA)));
        assertThat(own.status()).as("A still reads its order: %s", own).isEqualTo(200);
        assertThat(own.json().getString("status")).as("A's order untouched").isEqualTo("APPROVED");
    }

    @Test
    @DisplayName("every command with a body of another content type than JSON (or none) is refused and appends nothing")
    void every_command_sent_as_another_content_type_is_refused() {
        String order = placeOrder(customerA, tokenA);
        awaitApproved(order);
        long eventsBefore = settledEventCount();
        List<String> failures = new ArrayList<>();
        int index = 0;
        for (String type : WRONG_CONTENT_TYPES) {
            String header = type.isEmpty() ? "" : "Content-Type: " + type + "\r\n";
            String[][] commands = {
                    {"/api/orders/" + order + "/cancel", tokenA, "{}"},
                    {"/api/orders", tokenA, new JsonObject().put("customerId", customerA).put("total",
                            new JsonObject().put("amount", "1.00").put("currency", "EUR")).encode()},
                    {"/api/customers", operator, new JsonObject().put("name", "Typed").put("creditLimit",
                            new JsonObject().put("amount", "1.00").put("currency", "EUR")).encode()}};
            for (String[] command : commands) {
                byte[] body = command[2].getBytes(StandardCharsets.UTF_8);
                Hostile hostile = new Hostile(index++, Kind.WRONG_CONTENT_TYPE, "'" + type + "' to " + command[0],
                        RawHttp.request("POST " + command[0] + " HTTP/1.1", "Host: localhost:" + port + "\r\n"
                                + "Authorization: Bearer " + command[1] + "\r\n" + header
                                + "Content-Length: " + body.length + "\r\n", body), false);
                long before = eventCount();
                Exchange answer = RawHttp.exchange(port, hostile.bytes(), 30_000);
                judge(hostile, answer, eventCount() - before).ifPresent(failures::add);
            }
        }
        assertThat(failures).as("commands of another content type answered wrongly").isEmpty();
        assertThat(settledEventCount()).as("events after them").isEqualTo(eventsBefore);
    }

    /** What is wrong with the answer to a hostile request, if anything. */
    private static java.util.Optional<String> judge(Hostile hostile, Exchange answer, long appended) {
        List<String> wrong = new ArrayList<>();
        int status = answer.status();
        if (status < 0) {
            wrong.add("no answer");
        } else if (status >= 500 && !(status == 503 && answer.header("Retry-After") != null)) {
            wrong.add("a server error");
        } else if (hostile.mayServe()) {
            if (answer.body().contains("root:x:0:0") || answer.body().contains("<project")) {
                wrong.add("a file outside the web root served");
            }
        } else if (status < 400) {
            wrong.add("accepted");
        } else if (!hostile.kind().documented.contains(status)) {
            wrong.add("not one of " + hostile.kind().documented);
        }
        if (appended != 0) {
            wrong.add(appended + " event(s) appended while it was answered (or late, by the saga, after an earlier one)");
        }
        return wrong.isEmpty() ? java.util.Optional.empty()
                : java.util.Optional.of(String.join(", ", wrong) + ": " + hostile + " -> " + answer);
    }

    // ------------------------------------------------------------------ the generator

    private Hostile generate(int index, Kind kind, Random random) {
        Gen gen = new Gen(index, kind, random);
        return switch (kind) {
            case MASS_ASSIGNMENT -> gen.massAssignment();
            case OVERSIZED_BODY -> gen.oversized();
            case DEEP_NESTING -> gen.deepNesting();
            case WRONG_TYPES -> gen.wrongTypes();
            case BROKEN_JSON -> gen.brokenJson();
            case WRONG_CONTENT_TYPE -> gen.wrongContentType();
            case HUGE_OR_ODD_HEADERS -> gen.hugeOrOddHeaders();
            case BAD_IDS_AND_PATHS -> gen.badIdsAndPaths();
            case BAD_TOKENS -> gen.badTokens();
            case FOREIGN_ORIGIN_COOKIE -> gen.foreignOriginCookie();
        };
    }

    private static final List<String> EXTRA_FIELDS = List.of("status", "customerId", "orderId", "version", "role", "roles",
            "reserved", "creditReserved", "availableCredit", "id", "createdAt", "approved", "reason", "operator", "sub",
            "__proto__", "constructor", "idempotencyKey", "owner");
    private static final List<Object> EXTRA_VALUES = List.of("APPROVED", 999, true, "operator", new JsonObject()
            .put("role", "operator"), 0, "", "CANCELLED", -1, List.of("operator"));
    private static final List<String> WRONG_CONTENT_TYPES = List.of("", "text/plain", "application/xml",
            "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "application/json-patch+json",
            "application/jsonx", "text/json", "application/javascript", "*/*", "application/json, text/html",
            "application/vnd.api+json", "application/problem+json", "text/html; charset=utf-8", "json", "application/",
            "/json");
    private static final List<Object> BAD_AMOUNTS = List.of("0", "0.00", "-1.00", "0.001", "1e3", "1000000000.01",
            "NaN", "Infinity", "1,00", "ten", "", "99999999999", "1.", ".5", "0x10", 100, 10.5, true, List.of("1.00"));
    private static final List<Object> BAD_CURRENCIES = List.of("eur", "EURO", "EU", "", "E1R", 978, "\u20ac\u20ac\u20ac",
            "EUR ", List.of("EUR"));
    private static final List<Object> BAD_UUIDS = List.of(42, "not-a-uuid", "", "00000000-0000-0000-0000-00000000000g",
            "{00000000-0000-0000-0000-000000000000}", "0000000000000000000000000000000", true, List.of("x"),
            new JsonObject().put("id", "x"), "' OR '1'='1", "../../admin");
    private static final List<String> BAD_PATH_IDS = List.of("not-a-uuid", "123", "00000000000000000000000000000000",
            "%00", "%2e%2e", "..%2f..%2fadmin%2fevents", "'%20OR%201=1--", "%zz", "%", "%C0%AE%C0%AE",
            "00000000-0000-0000-0000-000000000000%00", "x".repeat(3_000), "%F0%9F%92%A5", "null", "undefined",
            "-1", "00000000-0000-0000-0000-0000000000000", ";", "%20", "..;", "a\u00fc".replace("\u00fc", "%C3%BC"));

    /** The generator of one request: the random source and the pieces every kind builds from. */
    private final class Gen {
        private final int index;
        private final Kind kind;
        private final Random random;

        Gen(int index, Kind kind, Random random) {
            this.index = index;
            this.kind = kind;
            this.random = random;
        }

        private <T> T pick(List<T> options) {
            return options.get(random.nextInt(options.size()));
        }

        private Hostile hostile(String what, byte[] bytes) {
            return new Hostile(index, kind, what, bytes, false);
        }

        private String host() {
            return "Host: localhost:" + port + "\r\n";
        }

        private String bearer(String token) {
            return "Authorization: Bearer " + token + "\r\n";
        }

        private byte[] post(String path, String headers, byte[] body) {
            return RawHttp.request("POST " + path + " HTTP/1.1", host() + headers
                    + "Content-Length: " + body.length + "\r\n", body);
        }

        private byte[] postJson(String path, String token, String json) {
            return post(path, bearer(token) + "Content-Type: application/json\r\n", json.getBytes(StandardCharsets.UTF_8));
        }

        private byte[] get(String path, String headers) {
            return RawHttp.request("GET " + path + " HTTP/1.1", host() + headers, null);
        }

        private JsonObject money() {
            return new JsonObject().put("amount", (1 + random.nextInt(99)) + ".00").put("currency", "EUR");
        }

        private JsonObject validOrder() {
            return new JsonObject().put("customerId", customerA).put("total", money());
        }

        private JsonObject validCustomer() {
            return new JsonObject().put("name", "Hostile " + random.nextInt(1_000_000)).put("creditLimit", money());
        }

        /** A valid command with the token allowed to send it: an order of A, a customer by an operator. */
        private String[] validCommand() {
            return switch (random.nextInt(2)) {
                case 0 -> new String[] {"/api/orders", tokenA, validOrder().encode()};
                default -> new String[] {"/api/customers", operator, validCustomer().encode()};
            };
        }

        Hostile massAssignment() {
            String field = pick(EXTRA_FIELDS);
            Object value = pick(EXTRA_VALUES);
            return switch (random.nextInt(7)) {
                case 0 -> hostile("customer with '" + field + "'", postJson("/api/customers", operator,
                        validCustomer().put(field, value).encode()));
                case 1 -> {
                    String extra = field.equals("customerId") ? "orderId" : field;
                    yield hostile("order with '" + extra + "'", postJson("/api/orders", tokenA,
                            validOrder().put(extra, value).encode()));
                }
                case 2 -> hostile("order total with '" + field + "'", postJson("/api/orders", tokenA,
                        validOrder().put("total", money().put(field, value)).encode()));
                case 3 -> hostile("credit limit with '" + field + "'", postJson("/api/customers", operator,
                        validCustomer().put("creditLimit", money().put(field, value)).encode()));
                case 4 -> hostile("cancel with '" + field + "'", postJson("/api/orders/" + orderA + "/cancel", tokenA,
                        new JsonObject().put(field, value).encode()));
                case 5 -> hostile("development token with more than asked", post("/api/dev/token",
                        "Content-Type: application/json\r\n", pick(List.of(
                                new JsonObject().put("customerId", customerA).put("role", "operator"),
                                new JsonObject().put("customerId", customerA).put(field, value),
                                new JsonObject().put("role", "operator").put("roles", List.of("operator")).put(field, value),
                                new JsonObject().put("role", "admin"),
                                new JsonObject().put("sub", "operator").put("role", "operator"),
                                new JsonObject().put("role", "OPERATOR"),
                                new JsonObject())).encode().getBytes(StandardCharsets.UTF_8)));
                default -> hostile("order naming the customer twice", postJson("/api/orders", tokenA,
                        "{\"customerId\":\"" + customerA + "\",\"total\":" + money().encode()
                                + ",\"customerId\":\"" + customerB + "\"}"));
            };
        }

        Hostile oversized() {
            int size = MAX_BODY + 1 + random.nextInt(4 * MAX_BODY);
            String[] command = validCommand();
            String pad = "x".repeat(size);
            byte[] body = switch (random.nextInt(3)) {
                case 0 -> ("{\"customerId\":\"" + customerA + "\",\"total\":" + money().encode() + ",\"pad\":\"" + pad + "\"}")
                        .getBytes(StandardCharsets.UTF_8);
                case 1 -> (command[2].substring(0, command[2].length() - 1) + " ".repeat(size) + "}").getBytes(StandardCharsets.UTF_8);
                default -> randomBytes(size);
            };
            String path = random.nextInt(5) == 0 ? "/api/orders/" + orderA + "/cancel" : command[0];
            String token = path.endsWith("/cancel") ? tokenA : command[1];
            if (random.nextBoolean()) {
                return hostile(size + " bytes, chunked", RawHttp.request("POST " + path + " HTTP/1.1", host() + bearer(token)
                        + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", RawHttp.chunked(body)));
            }
            return hostile(size + " bytes", post(path, bearer(token) + "Content-Type: application/json\r\n", body));
        }

        Hostile deepNesting() {
            int depth = 17 + random.nextInt(5_000);
            String nested = switch (random.nextInt(3)) {
                case 0 -> "[".repeat(depth) + "]".repeat(depth);
                case 1 -> "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
                default -> "[{\"a\":".repeat(depth / 2) + "null" + "}]".repeat(depth / 2);
            };
            String body = switch (random.nextInt(4)) {
                case 0 -> nested;
                case 1 -> "{\"customerId\":\"" + customerA + "\",\"total\":{\"amount\":" + nested + ",\"currency\":\"EUR\"}}";
                case 2 -> "{\"customerId\":\"" + customerA + "\",\"total\":" + money().encode() + ",\"x\":" + nested + "}";
                default -> "{\"name\":" + nested + ",\"creditLimit\":" + money().encode() + "}";
            };
            String path = body.contains("\"name\"") ? "/api/customers" : random.nextInt(4) == 0
                    ? "/api/orders/" + orderA + "/cancel" : "/api/orders";
            return hostile("depth " + depth, postJson(path, path.equals("/api/customers") ? operator : tokenA, body));
        }

        Hostile wrongTypes() {
            return switch (random.nextInt(6)) {
                case 0 -> hostile("customer name", postJson("/api/customers", operator, new JsonObject()
                        .put("name", pick(List.of(42, true, List.of(), new JsonObject(), "", "   ", "n".repeat(201), 0.5)))
                        .put("creditLimit", money()).encode()));
                case 1 -> hostile("credit limit amount", postJson("/api/customers", operator, validCustomer()
                        .put("creditLimit", new JsonObject().put("amount", pick(BAD_AMOUNTS)).put("currency", "EUR")).encode()));
                case 2 -> hostile("credit limit", postJson("/api/customers", operator, validCustomer()
                        .put("creditLimit", pick(List.of("100.00", 100, List.of(), true, new JsonObject().put("amount", "1.00"),
                                new JsonObject().put("amount", "1.00").put("currency", pick(BAD_CURRENCIES))))).encode()));
                case 3 -> hostile("order customer id", postJson("/api/orders", tokenA, validOrder()
                        .put("customerId", pick(BAD_UUIDS)).encode()));
                case 4 -> hostile("order total", postJson("/api/orders", tokenA, validOrder().put("total", pick(List.of(
                        new JsonObject().put("amount", pick(BAD_AMOUNTS)).put("currency", "EUR"),
                        new JsonObject().put("amount", "10.00").put("currency", pick(BAD_CURRENCIES)),
                        new JsonObject().put("amount", "10.00").put("currency", "USD"),
                        "10.00 EUR", 10, List.of("10.00", "EUR")))).encode()));
                default -> {
                    boolean order = random.nextBoolean();
                    yield hostile("not an object", postJson(order ? "/api/orders" : "/api/customers", order ? tokenA : operator,
                            pick(List.of("[]", "\"order\"", "42", "null", "true", "[" + validOrder().encode() + "]", "{}"))));
                }
            };
        }

        Hostile brokenJson() {
            String[] command = validCommand();
            String json = command[2];
            String broken = switch (random.nextInt(9)) {
                case 0 -> json.substring(0, 1 + random.nextInt(json.length() - 1));
                case 1 -> json + pick(List.of("}", "x", ",{}", "]", "{}", "\"", "null"));
                case 2 -> json.replace('"', '\'');
                case 3 -> json.replace("\"customerId\"", "customerId").replace("\"name\"", "name");
                case 4 -> json.replace("{", "{/* comment */");
                case 5 -> json.replaceFirst("\\}$", ",}");
                case 6 -> json.replaceFirst("\"(\\d+\\.00)\"", "NaN");
                case 7 -> json.replaceFirst("Hostile", "Host\u0001ile").replaceFirst("\"total\"", "\"to\u0000tal\"");
                default -> "\u0000\u0001{";
            };
            byte[] body = broken.getBytes(StandardCharsets.UTF_8);
            if (random.nextInt(6) == 0) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.writeBytes(json.substring(0, json.indexOf(':') + 2).getBytes(StandardCharsets.UTF_8));
                out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xfe, (byte) 0xc3, (byte) 0x28});
                out.writeBytes(json.substring(json.indexOf(':') + 2).getBytes(StandardCharsets.UTF_8));
                body = out.toByteArray();
            }
            if (random.nextInt(8) == 0) {
                return hostile("broken cancel body", post("/api/orders/" + orderA + "/cancel", bearer(tokenA)
                        + "Content-Type: application/json\r\n", pick(List.of("{", "}", "{\"a\"", "[", "nul", "{}}"))
                        .getBytes(StandardCharsets.UTF_8)));
            }
            return hostile("broken JSON", post(command[0], bearer(command[1]) + "Content-Type: application/json\r\n", body));
        }

        Hostile wrongContentType() {
            String[] command = validCommand();
            String type = pick(WRONG_CONTENT_TYPES);
            String header = type.isEmpty() && random.nextBoolean() ? "" : "Content-Type: " + type + "\r\n";
            if (random.nextInt(4) == 0) {
                return hostile("cancel body as " + type, post("/api/orders/" + orderA + "/cancel", bearer(tokenA) + header,
                        "{}".getBytes(StandardCharsets.UTF_8)));
            }
            return hostile("command as '" + type + "'", post(command[0], bearer(command[1]) + header,
                    command[2].getBytes(StandardCharsets.UTF_8)));
        }

        Hostile hugeOrOddHeaders() {
            // the body is refused on its own (an unknown field), so only the headers decide whether it is answered well
            String hostileOrder = validOrder().put("status", "APPROVED").encode();
            byte[] body = hostileOrder.getBytes(StandardCharsets.UTF_8);
            String json = bearer(tokenA) + "Content-Type: application/json\r\n";
            return switch (random.nextInt(11)) {
                case 0 -> hostile("one huge header", post("/api/orders", json + "X-Junk: "
                        + "j".repeat(9_000 + random.nextInt(60_000)) + "\r\n", body));
                case 1 -> {
                    StringBuilder many = new StringBuilder();
                    int count = 600 + random.nextInt(3_000);
                    for (int i = 0; i < count; i++) {
                        many.append("X-H").append(i).append(": v\r\n");
                    }
                    yield hostile(count + " headers", post("/api/orders", json + many, body));
                }
                case 2 -> hostile("a huge bearer token", post("/api/orders", "Authorization: Bearer "
                        + "e".repeat(9_000 + random.nextInt(20_000)) + "\r\nContent-Type: application/json\r\n", body));
                case 3 -> hostile("a long Idempotency-Key on a valid order", post("/api/orders", json + "Idempotency-Key: "
                        + "k".repeat(201 + random.nextInt(4_000)) + "\r\n", validOrder().encode().getBytes(StandardCharsets.UTF_8)));
                case 4 -> hostile("a line that is no header", post("/api/orders", json + "ThisIsNotAHeader\r\n", body));
                case 5 -> hostile("a folded header", post("/api/orders", json + "X-Folded: a\r\n   b\r\n", body));
                case 6 -> hostile("two conflicting Content-Lengths", RawHttp.request("POST /api/orders HTTP/1.1", host() + json
                        + "Content-Length: " + body.length + "\r\nContent-Length: " + (body.length + 7) + "\r\n", body));
                case 7 -> hostile("Content-Length with chunked", RawHttp.request("POST /api/orders HTTP/1.1", host() + json
                        + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", RawHttp.chunked(body)));
                case 8 -> {
                    byte[] odd = ("X-Odd: " + new String(new byte[] {(byte) 0xff, (byte) 0xfe, 0x7f, (byte) 0xc3}, StandardCharsets.ISO_8859_1)
                            + "\r\nX-Name-With Space: 1\r\nOrigin: " + "o".repeat(3_000) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
                    yield hostile("odd bytes and names", post("/api/orders", json + new String(odd, StandardCharsets.ISO_8859_1), body));
                }
                case 9 -> hostile("a request target of " + (9_000) + "+ characters", get("/api/orders/" + orderA + "?x="
                        + "q".repeat(9_000 + random.nextInt(30_000)), bearer(tokenA)));
                default -> hostile("no Host header", RawHttp.request("POST /api/orders HTTP/1.1", json
                        + "Content-Length: " + body.length + "\r\n", body));
            };
        }

        Hostile badIdsAndPaths() {
            String bad = pick(BAD_PATH_IDS);
            String auth = bearer(tokenA);
            return switch (random.nextInt(7)) {
                case 0 -> hostile("GET with a bad id", get(pick(List.of("/api/orders/%s", "/api/orders/%s/history",
                        "/api/customers/%s", "/api/customers/%s/orders", "/api/orders/%s/stream",
                        "/api/customers/%s/orders/stream")).formatted(bad), auth));
                case 1 -> hostile("cancel with a bad id", post("/api/orders/" + bad + "/cancel", auth, new byte[0]));
                case 2 -> hostile("a way round to an operator route", get(pick(List.of("/api/orders/../admin/events",
                        "/api/orders/%2e%2e/admin/events", "/api/customers/..%2fadmin%2fdead-letters",
                        "/api/orders/./../admin/rebuild", "//api//admin//events", "/api/ADMIN/events",
                        "/api/admin/events/", "/api/customers/", "/api/customers?", "/api/%61dmin/events",
                        "/api/customers/%2e%2e/customers?minAvailableCredit=0")), auth));
                case 3 -> hostile("a way round to B's data", get(pick(List.of("/api/orders/../customers/" + customerB,
                        "/api/customers/" + customerA + "/../" + customerB, "/api/orders/" + orderA + "/../" + orderB,
                        "/api/customers/" + customerB.toUpperCase(), "/api/orders/" + orderB + "/",
                        "/api/orders/" + orderA + "%2f..%2f" + orderB, "/api/customers/" + customerB + "/orders/")), auth));
                case 4 -> hostile("bad query parameters", get(pick(List.of("/api/orders/%s?minVersion=abc",
                        "/api/orders/%s?minVersion=0", "/api/orders/%s?minVersion=-1", "/api/orders/%s?minVersion=99999999999",
                        "/api/orders/%s?minVersion=1&minVersion=2", "/api/orders/%s?asOf=yesterday",
                        "/api/orders/%s?asOf=2025-01-01T00:00:00Z&minVersion=1", "/api/orders/%s?asOf=%%00")).formatted(orderA)
                        .replace("%%", "%"), auth));
                case 5 -> hostile("bad paging", get(pick(List.of("/api/customers/%s/orders?limit=0",
                        "/api/customers/%s/orders?limit=100000", "/api/customers/%s/orders?limit=abc",
                        "/api/customers/%s/orders?status=FOO", "/api/customers/%s/orders?after=garbage!!",
                        "/api/customers/%s/orders?after=" + Base64.getUrlEncoder().encodeToString("x|y".getBytes(StandardCharsets.UTF_8)),
                        "/api/customers/%s/orders?after=" + Base64.getUrlEncoder().encodeToString("a|b|c".getBytes(StandardCharsets.UTF_8)),
                        "/api/customers/%s/orders?status=APPROVED&status=PENDING")).formatted(customerA), auth));
                default -> {
                    if (random.nextBoolean()) {
                        String method = pick(List.of("PUT", "PATCH", "DELETE"));
                        yield hostile(method + " on a resource", RawHttp.request(method + " " + pick(List.of(
                                "/api/orders/" + orderA, "/api/customers/" + customerA, "/api/orders",
                                "/api/orders/" + orderA + "/cancel")) + " HTTP/1.1", host() + auth
                                + "Content-Type: application/json\r\nContent-Length: 2\r\n", "{}".getBytes(StandardCharsets.UTF_8)));
                    }
                    yield new Hostile(index, kind, "a path out of the web root", get(pick(List.of(
                            "/../../../../etc/passwd", "/..%2f..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                            "/webroot/../../pom.xml", "/js/../../../../../etc/passwd", "/..\\..\\..\\etc\\passwd",
                            "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "/....//....//etc/passwd", "/index.html%00.js")), ""), true);
                }
            };
        }

        Hostile badTokens() {
            String token = switch (random.nextInt(9)) {
                case 0 -> randomToken();
                case 1 -> BadTokens.unsigned(pick(List.of("none", "None", "NONE", "nOnE", "")), random.nextBoolean()
                        ? BadTokens.operatorClaims() : BadTokens.customerClaims(UUID.fromString(customerA)));
                case 2 -> pick(List.of(tokens.expired(UUID.fromString(customerA)), tokens.expired(null),
                        tokens.signedWithOtherKey(UUID.fromString(customerA)), tokens.signedWithOtherKey(null),
                        BadTokens.madeUpSignature(BadTokens.operatorClaims())));
                case 3 -> tokenA.substring(0, tokenA.length() - 1 - random.nextInt(20));
                case 4 -> flipped(random.nextBoolean() ? tokenA : operator);
                case 5 -> pick(badTokens.devSignedWithBadClaims());
                case 6 -> pick(BadTokens.malformed());
                case 7 -> operator.replace('.', '!');
                default -> "";
            };
            String[] target = pick(List.of(
                    new String[] {"GET", "/api/orders/" + orderA, null},
                    new String[] {"GET", "/api/admin/events", null},
                    new String[] {"POST", "/api/orders", validOrder().encode()},
                    new String[] {"POST", "/api/customers", validCustomer().encode()},
                    new String[] {"POST", "/api/orders/" + orderA + "/cancel", null},
                    new String[] {"POST", "/api/admin/rebuild", null}));
            String credential = switch (random.nextInt(5)) {
                case 0 -> "Authorization: " + pick(List.of("Basic b3BlcmF0b3I6b3BlcmF0b3I=", "Token " + operator,
                        "Bearer", "Bearer  ", "Bearer Bearer " + operator, "Bearer " + operator + " " + tokenA,
                        "BearerX " + operator, "Bearer\t" + token)) + "\r\n";
                case 1 -> "Cookie: " + Security.COOKIE + "=" + token + "\r\nOrigin: http://localhost:" + port + "\r\n";
                case 2 -> "Authorization: Bearer " + token + "\r\nAuthorization: Bearer " + tokenA + "\r\n";
                default -> "Authorization: Bearer " + token + "\r\n";
            };
            if (credential.startsWith("Authorization: Bearer " + token + "\r\nAuthorization") && token.isEmpty()) {
                credential = "Authorization: Bearer !\r\nAuthorization: Bearer " + tokenA + "\r\n";
            }
            String what = "token to " + target[0] + " " + target[1];
            if (target[2] == null) {
                return hostile(what, target[0].equals("GET") ? get(target[1], credential)
                        : post(target[1], credential, new byte[0]));
            }
            return hostile(what, post(target[1], credential + "Content-Type: application/json\r\n",
                    target[2].getBytes(StandardCharsets.UTF_8)));
        }

        Hostile foreignOriginCookie() {
            String origin = pick(List.of("", "null", "http://evil.example", "http://localhost:1", "http://127.0.0.1:" + port,
                    "http://localhost:" + port + ".evil.example", "http://localhost.evil.example:" + port,
                    "http://localhost:" + port + "/path", "file://", "chrome-extension://abcdef", "%%%", "http://localhost",
                    "https://evil.example:" + port, "http://[::1]:" + port, "http://localhost:" + port + "@evil.example"));
            String originHeader = origin.isEmpty() ? (random.nextBoolean() ? "" : "Referer: http://localhost:" + port + "/\r\n")
                    : "Origin: " + origin + "\r\n";
            String[] command = switch (random.nextInt(6)) {
                case 0, 1 -> new String[] {"POST", "/api/orders", tokenA, validOrder().encode()};
                case 2 -> new String[] {"POST", "/api/orders/" + orderA + "/cancel", tokenA, null};
                case 3 -> new String[] {"POST", "/api/customers", operator, validCustomer().encode()};
                case 4 -> new String[] {"POST", "/api/admin/rebuild", operator, null};
                default -> new String[] {"DELETE", "/api/session", tokenA, null};
            };
            String headers = "Cookie: " + Security.COOKIE + "=" + command[2] + "\r\n" + originHeader
                    + (command[3] == null ? "" : "Content-Type: application/json\r\n");
            byte[] body = command[3] == null ? new byte[0] : command[3].getBytes(StandardCharsets.UTF_8);
            return hostile(command[0] + " " + command[1] + " by cookie from '" + origin + "'",
                    RawHttp.request(command[0] + " " + command[1] + " HTTP/1.1", host() + headers
                            + "Content-Length: " + body.length + "\r\n", body));
        }

        private String randomToken() {
            String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/";
            StringBuilder token = new StringBuilder();
            int length = 1 + random.nextInt(600);
            for (int i = 0; i < length; i++) {
                token.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            return token.toString();
        }

        /** The token with one character of its payload or of the middle of its signature changed. */
        private String flipped(String token) {
            int firstDot = token.indexOf('.');
            int secondDot = token.indexOf('.', firstDot + 1);
            int at = random.nextBoolean() ? firstDot + 1 + random.nextInt(secondDot - firstDot - 1)
                    : secondDot + 1 + random.nextInt((token.length() - secondDot - 1) / 2);
            char c = token.charAt(at);
            char other = c == 'A' ? 'B' : 'A';
            return token.substring(0, at) + other + token.substring(at + 1);
        }

        private byte[] randomBytes(int size) {
            byte[] bytes = new byte[size];
            random.nextBytes(bytes);
            return bytes;
        }
    }

    /** Polls {@code /health/ready} in the background and keeps every answer that was not 200. */
    private static final class ReadinessPoller {
        final AtomicInteger polls = new AtomicInteger();
        final List<String> notReady = new CopyOnWriteArrayList<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        private final URI uri;
        private Thread thread;

        ReadinessPoller(int port) {
            this.uri = URI.create("http://localhost:" + port + "/health/ready");
        }

        void start() {
            thread = Thread.ofPlatform().name("readiness-poller").daemon().start(() -> {
                while (running.get()) {
                    try {
                        HttpResponse<String> ready = http.send(java.net.http.HttpRequest.newBuilder(uri)
                                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                        if (ready.statusCode() != 200) {
                            notReady.add(ready.statusCode() + " " + ready.body());
                        }
                    } catch (Exception e) {
                        notReady.add("no answer: " + e);
                    }
                    polls.incrementAndGet();
                    HttpProbe.pause(200);
                }
            });
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(15_000);
        }
    }

    // ------------------------------------------------------------------ setup helpers

    private String createCustomer(String name) {
        Answer created = probe.send(Request.post("/api/customers", new JsonObject().put("name", name)
                        .put("creditLimit", new JsonObject().put("amount", "1000.00").put("currency", "EUR")))
                .with("Authorization", TestTokens.bearer(operator)));
        assertThat(created.status()).as("%s", created).isEqualTo(201);
        return created.json().getString("customerId");
    }

    private String placeOrder(String customerId, String token) {
        Answer placed = probe.send(Request.post("/api/orders", new JsonObject().put("customerId", customerId)
                .put("total", new JsonObject().put("amount", "100.00").put("currency", "EUR")))
                .with("Authorization", TestTokens.bearer(token)));
        assertThat(placed.status()).as("%s", placed).isEqualTo(202);
        return placed.json().getString("orderId");
    }

    private void awaitApproved(String orderId) {
        assertThat(HttpProbe.within(Duration.ofSeconds(30), () -> {
            Answer read = probe.send(Request.get("/api/orders/" + orderId).with("Authorization", TestTokens.bearer(operator)));
            return read.status() == 200 && "APPROVED".equals(read.json().getString("status"));
        })).as("order %s APPROVED", orderId).isTrue();
    }

    private long eventCount() {
        return HttpProbe.await(app.commandSide().pool().query("SELECT count(*) FROM events").execute())
                .iterator().next().getLong(0);
    }

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
