package dev.orders.testsupport;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;
import io.vertx.openapi.contract.OpenAPIVersion;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An OpenAPI 3.1 document, with every {@code $ref} to {@code #/...} resolved in place ({@link JsonSchemas}), that checks
 * real HTTP responses: the status is documented for the operation, the content type is the documented
 * one, the body is valid against the documented schema (JSON Schema 2020-12, by vertx-json-schema),
 * and every documented required header is present and valid. A {@code text/event-stream} body is read as
 * server-sent events, each checked against the event of its name in the media type's {@code x-sse-events}.
 */
public final class OpenApiContract {

    /** The media type of server-sent events. */
    public static final String EVENT_STREAM = "text/event-stream";
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

    private final JsonObject document;

    public OpenApiContract(JsonObject document) {
        this.document = JsonSchemas.resolved(document);
    }

    /** One server-sent event: its name, its id (null when it has no {@code id:} line) and its data. */
    public record SseEvent(String event, String id, String data) {
    }

    /**
     * Asserts that a document is valid against the OpenAPI 3.1 schema (the one vertx-openapi ships and checks
     * contracts with); blocks the calling thread, a test's, for at most 30 s.
     */
    public static void assertValidOpenApi31(Vertx vertx, JsonObject document) {
        OutputUnit result;
        try {
            result = OpenAPIVersion.V3_1.getRepository(vertx, "app:///")
                    .compose(schemas -> OpenAPIVersion.V3_1.validateContract(vertx, schemas, document))
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the OpenAPI 3.1 schema check did not run", e);
        }
        assertThat(result.getValid()).as("valid OpenAPI 3.1; errors: %s", result.getErrors()).isTrue();
    }

    /** The document with its references resolved. */
    public JsonObject document() {
        return document;
    }

    /** Every operation of the document, as "METHOD /path/{template}". */
    public Set<String> operations() {
        Set<String> operations = new TreeSet<>();
        JsonObject paths = document.getJsonObject("paths");
        for (String path : paths.fieldNames()) {
            for (String method : paths.getJsonObject(path).fieldNames()) {
                if (METHODS.contains(method)) {
                    operations.add(method.toUpperCase(Locale.ROOT) + " " + path);
                }
            }
        }
        return operations;
    }

    /** The operation object of {@code method} on the path template, e.g. {@code /api/orders/{id}/cancel}. */
    public JsonObject operation(String method, String pathTemplate) {
        JsonObject path = document.getJsonObject("paths").getJsonObject(pathTemplate);
        assertThat(path).as("the document has the path %s", pathTemplate).isNotNull();
        JsonObject operation = path.getJsonObject(method.toLowerCase(Locale.ROOT));
        assertThat(operation).as("the document has %s %s", method, pathTemplate).isNotNull();
        return operation;
    }

    /** The statuses documented for an operation. */
    public Set<Integer> documentedStatuses(String method, String pathTemplate) {
        Set<Integer> statuses = new TreeSet<>();
        for (String status : operation(method, pathTemplate).getJsonObject("responses").fieldNames()) {
            statuses.add(Integer.parseInt(status));
        }
        return statuses;
    }

    /**
     * Asserts that, for each operation ("METHOD /path/{template}"), the statuses a test provoked are exactly the
     * documented ones, but those provoked by other tests.
     *
     * @param provoked each case's operation and the status it answered
     */
    public void assertEveryStatusProvoked(Collection<String> operations, Collection<Map.Entry<String, Integer>> provoked,
                                          Set<Integer> provokedElsewhere) {
        Map<String, Set<Integer>> byOperation = new TreeMap<>();
        for (Map.Entry<String, Integer> answered : provoked) {
            byOperation.computeIfAbsent(answered.getKey(), p -> new TreeSet<>()).add(answered.getValue());
        }
        for (String operation : operations) {
            String[] methodAndPath = operation.split(" ", 2);
            Set<Integer> documented = new TreeSet<>(documentedStatuses(methodAndPath[0], methodAndPath[1]));
            documented.removeAll(provokedElsewhere);
            assertThat(byOperation.get(operation)).as("statuses provoked for %s", operation).isEqualTo(documented);
        }
    }

    /** The documented answer of an operation with this status. */
    public JsonObject response(String method, String pathTemplate, int status) {
        JsonObject responses = operation(method, pathTemplate).getJsonObject("responses");
        JsonObject documented = responses.getJsonObject(Integer.toString(status));
        assertThat(documented).as("%s %s documents the status %s (documented: %s)", method, pathTemplate, status,
                responses.fieldNames()).isNotNull();
        return documented;
    }

    /** A validator of a schema of the (resolved) document. */
    public static Validator validator(JsonObject schema) {
        return JsonSchemas.validator(schema);
    }

    /** Validates a value against a schema and fails with every error when it is invalid. */
    public static void assertValid(JsonObject schema, Object value, String what) {
        JsonSchemas.assertValid(schema, value, what);
    }

    /** Validates the request body that a caller would send against the operation's request schema. */
    public void assertValidRequest(String method, String pathTemplate, JsonObject body) {
        JsonObject schema = operation(method, pathTemplate).getJsonObject("requestBody")
                .getJsonObject("content").getJsonObject("application/json").getJsonObject("schema");
        assertValid(schema, body, "the request body of " + method + " " + pathTemplate);
    }

    /** Asserts that a real response is documented for the operation and matches its documentation. */
    public void assertConforms(String method, String pathTemplate, HttpResponse<Buffer> response) {
        assertConforms(method, pathTemplate, response.statusCode(), response::getHeader, response.bodyAsBuffer());
    }

    /**
     * Asserts that a real answer (its status, headers by name, and body, or what was read of a stream's body)
     * is documented for the operation and matches its documentation.
     *
     * @return the server-sent events of a {@code text/event-stream} body (checked), else an empty list
     */
    public List<SseEvent> assertConforms(String method, String pathTemplate, int status, Function<String, String> header,
                                         Buffer body) {
        String what = method + " " + pathTemplate + " answering " + status;
        JsonObject documented = response(method, pathTemplate, status);

        JsonObject headers = documented.getJsonObject("headers", new JsonObject());
        for (String name : headers.fieldNames()) {
            JsonObject headerSpec = headers.getJsonObject(name);
            String value = header.apply(name);
            if (value == null) {
                assertThat(headerSpec.getBoolean("required", false)).as("%s: the required header %s is present", what, name)
                        .isFalse();
                continue;
            }
            assertValid(headerSpec.getJsonObject("schema"), value, what + ": header " + name);
        }

        JsonObject content = documented.getJsonObject("content");
        if (content == null || content.isEmpty()) {
            assertThat(body == null || body.length() == 0)
                    .as("%s: no body is documented, so none is sent; was %s", what, body).isTrue();
            return List.of();
        }
        String contentType = header.apply("Content-Type");
        assertThat(contentType).as("%s: has a content type", what).isNotNull();
        String mediaType = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        assertThat(content.fieldNames()).as("%s: the content type is documented", what).contains(mediaType);
        if (mediaType.equals(EVENT_STREAM)) {
            return assertEvents(content.getJsonObject(EVENT_STREAM).getJsonObject("x-sse-events"),
                    body == null ? "" : body.toString(), what);
        }
        JsonObject schema = content.getJsonObject(mediaType).getJsonObject("schema");
        Object value = body == null ? null : Json.decodeValue(body);
        assertValid(schema, value, what + ": the body");
        return List.of();
    }

    /** Checks every complete event of a stream's text against the documented event of its name. */
    private static List<SseEvent> assertEvents(JsonObject documented, String text, String what) {
        assertThat(documented).as("%s: the stream documents its events (x-sse-events)", what).isNotNull();
        List<SseEvent> events = parseEvents(text);
        for (SseEvent event : events) {
            JsonObject spec = documented.getJsonObject(event.event());
            assertThat(spec).as("%s: the event %s is documented (documented: %s)", what, event.event(),
                    documented.fieldNames()).isNotNull();
            assertThat(event.id() != null).as("%s: event %s has an id: line exactly when the document says so", what,
                    event.event()).isEqualTo(spec.containsKey("id"));
            assertValid(spec.getJsonObject("data"), Json.decodeValue(event.data()), what + ": event " + event.event());
        }
        return events;
    }

    /**
     * The complete events of a stream's text (those followed by a blank line), in order; comments and the
     * {@code retry:} hint are no events.
     */
    public static List<SseEvent> parseEvents(String text) {
        List<SseEvent> events = new ArrayList<>();
        String normalized = text.replace("\r\n", "\n");
        int end = normalized.lastIndexOf("\n\n");
        if (end < 0) {
            return events;
        }
        for (String block : normalized.substring(0, end).split("\n\n")) {
            String event = null;
            String id = null;
            List<String> data = new ArrayList<>();
            for (String line : block.split("\n")) {
                if (line.startsWith("event:")) {
                    event = line.substring(6).trim();
                } else if (line.startsWith("id:")) {
                    id = line.substring(3).trim();
                } else if (line.startsWith("data:")) {
                    data.add(line.substring(5).startsWith(" ") ? line.substring(6) : line.substring(5));
                }
            }
            if (!data.isEmpty()) {
                events.add(new SseEvent(event == null ? "message" : event, id, String.join("\n", data)));
            }
        }
        return events;
    }
}
