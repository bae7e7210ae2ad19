package dev.orders.command.http;

import dev.orders.testsupport.JsonSchemas;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.json.schema.Validator;

import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An OpenAPI 3.1 document, with every {@code $ref} to {@code #/...} resolved in place ({@link JsonSchemas}), that checks
 * real HTTP responses: the status is documented for the operation, the content type is the documented
 * one, the body is valid against the documented schema (JSON Schema 2020-12, by vertx-json-schema),
 * and every documented required header is present and valid.
 */
final class OpenApiContract {

    private final JsonObject document;

    OpenApiContract(JsonObject document) {
        this.document = JsonSchemas.resolved(document);
    }

    /** The document with its references resolved. */
    JsonObject document() {
        return document;
    }

    /** The operation object of {@code method} on the path template, e.g. {@code /api/orders/{id}/cancel}. */
    JsonObject operation(String method, String pathTemplate) {
        JsonObject path = document.getJsonObject("paths").getJsonObject(pathTemplate);
        assertThat(path).as("the document has the path %s", pathTemplate).isNotNull();
        JsonObject operation = path.getJsonObject(method.toLowerCase(Locale.ROOT));
        assertThat(operation).as("the document has %s %s", method, pathTemplate).isNotNull();
        return operation;
    }

    /** The statuses documented for an operation. */
    Set<Integer> documentedStatuses(String method, String pathTemplate) {
        Set<Integer> statuses = new TreeSet<>();
        for (String status : operation(method, pathTemplate).getJsonObject("responses").fieldNames()) {
            statuses.add(Integer.parseInt(status));
        }
        return statuses;
    }

    /** A validator of a schema of the (resolved) document. */
    static Validator validator(JsonObject schema) {
        return JsonSchemas.validator(schema);
    }

    /** Validates a value against a schema and fails with every error when it is invalid. */
    static void assertValid(JsonObject schema, Object value, String what) {
        JsonSchemas.assertValid(schema, value, what);
    }

    /** Validates the request body that a caller would send against the operation's request schema. */
    void assertValidRequest(String method, String pathTemplate, JsonObject body) {
        JsonObject schema = operation(method, pathTemplate).getJsonObject("requestBody")
                .getJsonObject("content").getJsonObject("application/json").getJsonObject("schema");
        assertValid(schema, body, "the request body of " + method + " " + pathTemplate);
    }

    /** Asserts that a real response is documented for the operation and matches its documentation. */
    void assertConforms(String method, String pathTemplate, HttpResponse<Buffer> response) {
        String what = method + " " + pathTemplate + " answering " + response.statusCode();
        JsonObject responses = operation(method, pathTemplate).getJsonObject("responses");
        JsonObject documented = responses.getJsonObject(Integer.toString(response.statusCode()));
        assertThat(documented).as("%s: the status is documented (documented: %s); body: %s", what,
                responses.fieldNames(), response.bodyAsString()).isNotNull();

        JsonObject headers = documented.getJsonObject("headers", new JsonObject());
        for (String name : headers.fieldNames()) {
            JsonObject header = headers.getJsonObject(name);
            String value = response.getHeader(name);
            if (value == null) {
                assertThat(header.getBoolean("required", false)).as("%s: the required header %s is present", what, name)
                        .isFalse();
                continue;
            }
            assertValid(header.getJsonObject("schema"), value, what + ": header " + name);
        }

        JsonObject content = documented.getJsonObject("content");
        if (content == null || content.isEmpty()) {
            assertThat(response.body() == null || response.body().length() == 0)
                    .as("%s: no body is documented, so none is sent", what).isTrue();
            return;
        }
        String contentType = response.getHeader("Content-Type");
        assertThat(contentType).as("%s: has a content type", what).isNotNull();
        String mediaType = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        assertThat(content.fieldNames()).as("%s: the content type is documented", what).contains(mediaType);
        JsonObject schema = content.getJsonObject(mediaType).getJsonObject("schema");
        Object body = response.bodyAsBuffer() == null ? null : io.vertx.core.json.Json.decodeValue(response.bodyAsBuffer());
        assertValid(schema, body, what + ": the body");
    }
}
