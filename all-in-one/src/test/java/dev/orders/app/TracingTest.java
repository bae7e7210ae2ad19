package dev.orders.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.orders.service.tracing.Tracing;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import dev.orders.testsupport.TestTokens;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Isolated;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One order, one trace: the system runs with an OpenTelemetry SDK whose spans go to an in-memory exporter,
 * a caller places an order with its own {@code traceparent}, two clients follow the customer's orders on
 * SSE streams, and every span of the order's journey (the HTTP command, its append, the relay's publish,
 * the saga's reactions and their appends, the projector and each client's push) is found in the caller's
 * trace, each under the step that caused it, across Kafka and PostgreSQL. The journey's log lines carry
 * the correlation id and the trace id as structured fields.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("Tracing one order")
@Isolated("reads what the JVM logs")
class TracingTest {

    private static final long EVENTUALLY_MS = 30_000;
    private static final String JOURNEY_LOGGER = "dev.orders.command.http.CommandRoutes";

    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private OpenTelemetrySdk sdk;
    private OrdersApp app;
    private Vertx vertx;
    private WebClient client;
    private String operator;
    private final ListAppender<ILoggingEvent> journey = new ListAppender<>();
    private Level journeyLevel;

    @BeforeAll
    void start(TestInfrastructure infra) {
        sdk = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                        .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();
        app = OrdersApp.start(infra.isolatedConfig(), Tracing.with(sdk));
        vertx = Vertx.vertx();
        client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("localhost").setDefaultPort(app.port()));
        operator = new TestTokens(vertx).operator();
        Logger logger = (Logger) LoggerFactory.getLogger(JOURNEY_LOGGER);
        journeyLevel = logger.getLevel();
        logger.setLevel(Level.DEBUG);
        journey.start();
        logger.addAppender(journey);
    }

    @AfterAll
    void stop() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(JOURNEY_LOGGER);
        logger.detachAppender(journey);
        logger.setLevel(journeyLevel);
        try {
            await(vertx.close());
        } finally {
            app.close();
            sdk.close();
        }
    }

    @Test
    void placing_an_order_yields_one_connected_trace_from_the_http_command_to_the_push_to_each_client() throws Exception {
        String customerId = createCustomer();
        HttpClient http = vertx.createHttpClient();
        StringBuffer first = new StringBuffer();
        StringBuffer second = new StringBuffer();
        follow(http, customerId, first);
        follow(http, customerId, second);

        String traceId = hex(32);
        String callerSpanId = hex(16);
        String correlationId = "trace-test-" + UUID.randomUUID();
        HttpResponse<Buffer> placed = await(client.post("/api/orders").bearerTokenAuthentication(operator)
                .putHeader("traceparent", "00-" + traceId + "-" + callerSpanId + "-01")
                .putHeader("X-Correlation-Id", correlationId)
                .sendJsonObject(new JsonObject().put("customerId", customerId)
                        .put("total", new JsonObject().put("amount", "10.00").put("currency", "EUR"))));
        assertThat(placed.statusCode()).isEqualTo(202);
        String orderId = placed.bodyAsJsonObject().getString("orderId");

        eventually("both clients were pushed the approved order", () -> first.toString().contains("APPROVED")
                && second.toString().contains("APPROVED"));
        // the push spans end right after the write; the saga's last consumer span may end a moment later
        try {
            eventually("the journey's last spans ended", () -> count(spansOf(traceId), "push sse") == 4
                    && spansOf(traceId).stream().anyMatch(named("saga OrderApproved")));
        } catch (AssertionError missing) {
            throw new AssertionError(missing.getMessage() + ", in the trace:\n" + tree(spansOf(traceId), callerSpanId)
                    + "\namong all spans: " + exporter.getFinishedSpanItems().stream()
                    .map(span -> span.getName() + " " + span.getTraceId() + "/" + span.getParentSpanId()).toList(), missing);
        }
        List<SpanData> trace = spansOf(traceId);
        System.out.println("The trace of order " + orderId + ", as the in-memory exporter saw it:\n" + tree(trace, callerSpanId));

        Map<String, SpanData> byId = trace.stream().collect(Collectors.toMap(SpanData::getSpanId, span -> span));
        assertThat(trace).as("every span's parent is in the trace, but the caller's own")
                .allSatisfy(span -> assertThat(span.getParentSpanId().equals(callerSpanId)
                        || byId.containsKey(span.getParentSpanId())).as(span.getName()).isTrue());
        SpanData server = one(trace, span -> span.getKind() == SpanKind.SERVER && span.getParentSpanId().equals(callerSpanId));
        assertThat(server.getName()).contains("POST");

        SpanData createOrder = childOf(trace, server, "append CreateOrder");
        SpanData orderCreated = publishOf(trace, createOrder, "OrderCreated");
        SpanData sagaCreated = reactionTo(trace, createOrder, orderCreated, "saga OrderCreated");
        assertThat(sagaCreated.getKind()).isEqualTo(SpanKind.CONSUMER);
        SpanData reserve = childOf(trace, sagaCreated, "append ReserveCredit");
        SpanData creditReserved = publishOf(trace, reserve, "CreditReserved");
        SpanData approve = childOf(trace, reactionTo(trace, reserve, creditReserved, "saga CreditReserved"),
                "append ApproveOrder");
        SpanData orderApproved = publishOf(trace, approve, "OrderApproved");
        reactionTo(trace, approve, orderApproved, "saga OrderApproved");

        SpanData projectCreated = childOf(trace, orderCreated, "project OrderCreated");
        assertThat(projectCreated.getKind()).isEqualTo(SpanKind.CONSUMER);
        childOf(trace, creditReserved, "project CreditReserved");
        SpanData projectApproved = childOf(trace, orderApproved, "project OrderApproved");
        assertThat(children(trace, projectCreated, "push sse")).as("the pending order pushed to each client").hasSize(2);
        assertThat(children(trace, projectApproved, "push sse")).as("the approved order pushed to each client").hasSize(2);

        ILoggingEvent accepted = journey.list.stream()
                .filter(line -> line.getFormattedMessage().startsWith("CreateOrder accepted"))
                .filter(line -> correlationId.equals(field(line, "correlationId")))
                .findFirst().orElseThrow(() -> new AssertionError("no journey line of the order among " + journey.list));
        assertThat(field(accepted, "traceId")).isEqualTo(traceId);
        assertThat(field(accepted, "spanId")).as("the server span, under which it was appended").isEqualTo(server.getSpanId());
        assertThat(accepted.getFormattedMessage()).as("the ids are fields, not text").doesNotContain(correlationId, traceId);
        await(http.close());
    }

    // ---- the trace ------------------------------------------------------------------------------------

    private List<SpanData> spansOf(String traceId) {
        return exporter.getFinishedSpanItems().stream().filter(span -> span.getTraceId().equals(traceId)).toList();
    }

    private static long count(List<SpanData> spans, String name) {
        return spans.stream().filter(named(name)).count();
    }

    private static Predicate<SpanData> named(String name) {
        return span -> span.getName().equals(name);
    }

    private static SpanData one(List<SpanData> spans, Predicate<SpanData> which) {
        List<SpanData> found = spans.stream().filter(which).toList();
        assertThat(found).as("exactly one such span among %s", names(spans)).hasSize(1);
        return found.getFirst();
    }

    private static List<SpanData> children(List<SpanData> spans, SpanData parent, String name) {
        return spans.stream().filter(named(name)).filter(span -> span.getParentSpanId().equals(parent.getSpanId())).toList();
    }

    private static SpanData childOf(List<SpanData> spans, SpanData parent, String name) {
        List<SpanData> found = children(spans, parent, name);
        assertThat(found).as("a span %s under %s among %s", name, parent.getName(), names(spans)).hasSize(1);
        return found.getFirst();
    }

    /**
     * The saga's span of an event: under the append that committed it, where the saga took the event at its commit
     * ({@code saga.commit-handoff}), else under the publish its Kafka record came from; one, either way.
     */
    private static SpanData reactionTo(List<SpanData> spans, SpanData append, SpanData publish, String name) {
        List<SpanData> found = new ArrayList<>(children(spans, append, name));
        found.addAll(children(spans, publish, name));
        assertThat(found).as("a span %s under %s or %s among %s", name, append.getName(), publish.getName(),
                names(spans)).hasSize(1);
        return found.getFirst();
    }

    /** The relay's producer span of an event, under the append that stored it. */
    private static SpanData publishOf(List<SpanData> spans, SpanData append, String eventType) {
        List<SpanData> found = spans.stream()
                .filter(span -> span.getParentSpanId().equals(append.getSpanId()) && span.getName().startsWith("publish "))
                .filter(span -> eventType.equals(span.getAttributes().get(io.opentelemetry.api.common.AttributeKey
                        .stringKey("orders.event_type"))))
                .toList();
        assertThat(found).as("the publish of %s under %s among %s", eventType, append.getName(), names(spans)).hasSize(1);
        assertThat(found.getFirst().getKind()).isEqualTo(SpanKind.PRODUCER);
        return found.getFirst();
    }

    private static List<String> names(List<SpanData> spans) {
        return spans.stream().map(SpanData::getName).sorted().toList();
    }

    /** The trace as an indented tree: each span with its kind, its start after the root's, and its duration. */
    private static String tree(List<SpanData> spans, String rootParent) {
        Map<String, List<SpanData>> byParent = new HashMap<>();
        spans.forEach(span -> byParent.computeIfAbsent(span.getParentSpanId(), id -> new ArrayList<>()).add(span));
        byParent.values().forEach(list -> list.sort(Comparator.comparingLong(SpanData::getStartEpochNanos)));
        long origin = spans.stream().mapToLong(SpanData::getStartEpochNanos).min().orElse(0);
        StringBuilder out = new StringBuilder();
        appendTree(out, byParent, rootParent, 0, origin);
        return out.toString();
    }

    private static void appendTree(StringBuilder out, Map<String, List<SpanData>> byParent, String parent, int depth,
                                   long origin) {
        for (SpanData span : byParent.getOrDefault(parent, List.of())) {
            String label = "  ".repeat(depth) + span.getName();
            out.append(String.format("%-60s %-8s +%7.1f ms %7.1f ms%n", label, span.getKind(),
                    (span.getStartEpochNanos() - origin) / 1e6, (span.getEndEpochNanos() - span.getStartEpochNanos()) / 1e6));
            appendTree(out, byParent, span.getSpanId(), depth + 1, origin);
        }
    }

    private static String field(ILoggingEvent line, String key) {
        List<KeyValuePair> pairs = line.getKeyValuePairs();
        return pairs == null ? null : pairs.stream().filter(pair -> pair.key.equals(key))
                .map(pair -> String.valueOf(pair.value)).findFirst().orElse(null);
    }

    private static String hex(int digits) {
        String random = UUID.randomUUID().toString().replace("-", "") + UUID.randomUUID().toString().replace("-", "");
        return random.substring(0, digits);
    }

    // ---- the system under test -------------------------------------------------------------------------

    private String createCustomer() throws Exception {
        HttpResponse<Buffer> created = await(client.post("/api/customers").bearerTokenAuthentication(operator)
                .sendJsonObject(new JsonObject().put("name", "Traced")
                        .put("creditLimit", new JsonObject().put("amount", "1000.00").put("currency", "EUR"))));
        assertThat(created.statusCode()).isEqualTo(201);
        String customerId = created.bodyAsJsonObject().getString("customerId");
        eventually("the customer is projected", () -> await(client.get("/api/customers/" + customerId)
                .bearerTokenAuthentication(operator).send()).statusCode() == 200);
        return customerId;
    }

    private void follow(HttpClient http, String customerId, StringBuffer received) throws Exception {
        HttpClientResponse stream = await(http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("localhost")
                        .setPort(app.port()).setURI("/api/customers/" + customerId + "/orders/stream")
                        .putHeader("Accept", "text/event-stream").putHeader("Authorization", TestTokens.bearer(operator)))
                .compose(request -> request.send()));
        assertThat(stream.statusCode()).isEqualTo(200);
        stream.handler(chunk -> received.append(chunk.toString(StandardCharsets.UTF_8)));
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void eventually(String what, Condition condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(EVENTUALLY_MS);
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + EVENTUALLY_MS / 1000 + " s: " + what);
            }
            Thread.sleep(100);
        }
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
