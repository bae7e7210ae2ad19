package dev.orders.service.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.util.UUID;

/**
 * A request's JSON body, read strictly: JSON content type only (else 415), well-formed, one object,
 * nested at most {@value #MAX_DEPTH} deep, no duplicate keys (else 400), which no JSON Schema can see. Which
 * fields it holds, and their values, are the OpenAPI document's to check ({@link ContractRequests}); field
 * accessors then check types and answer 400 with the field's name.
 */
public final class JsonRequest {

    public static final int MAX_DEPTH = 16;
    private static final ObjectMapper STRICT = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH)
                    .maxStringLength(65_536).maxNumberLength(40).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private final ObjectNode body;

    private JsonRequest(ObjectNode body) {
        this.body = body;
    }

    /**
     * Reads the body of a request that passed a {@code BodyHandler} strictly, and leaves which fields it holds,
     * and their values, to the API's contract ({@link ContractRequests}).
     *
     * @throws ProblemException 415, or 400 with a detail that says what is wrong
     */
    public static JsonRequest readObject(RoutingContext ctx) {
        String contentType = ctx.request().getHeader("Content-Type");
        if (contentType == null || !isJson(contentType)) {
            throw new ProblemException(415, "Unsupported media type",
                    "the request body must be application/json, was " + (contentType == null ? "absent" : contentType));
        }
        Buffer buffer = ctx.body().buffer();
        if (buffer == null || buffer.length() == 0) {
            throw ProblemException.badRequest("the request body is empty; a JSON object is expected");
        }
        return parse(buffer.getBytes());
    }

    /** Parses bytes as a body: well-formed JSON, one object, no duplicate keys, at most {@value #MAX_DEPTH} deep. */
    private static JsonRequest parse(byte[] bytes) {
        JsonNode node;
        try {
            node = STRICT.readTree(bytes);
        } catch (StreamConstraintsException e) {
            throw ProblemException.badRequest("the JSON is nested too deeply or too large");
        } catch (JsonProcessingException e) {
            throw ProblemException.badRequest("malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ProblemException.badRequest("unreadable JSON body");
        }
        if (!(node instanceof ObjectNode object)) {
            throw ProblemException.badRequest("the request body must be a JSON object");
        }
        return new JsonRequest(object);
    }

    /**
     * The body in a canonical form (insignificant white space removed) for telling whether two
     * requests are the same; bytes that are not JSON are returned as they are.
     */
    public static byte[] canonical(byte[] bytes) {
        try {
            return STRICT.readTree(bytes).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException notJson) {
            return bytes;
        }
    }

    static boolean isJson(String contentType) {
        String mediaType = contentType.split(";", 2)[0].trim().toLowerCase();
        return mediaType.equals("application/json");
    }

    /** A required string that must hold a UUID. */
    public UUID uuid(String field) {
        JsonNode value = required(field);
        if (!value.isTextual()) {
            throw wrongType(field, "a UUID string");
        }
        return StrictUuid.parse(value.asText()).orElseThrow(() ->
                ProblemException.badRequest("'" + field + "' must be a UUID"));
    }

    public boolean has(String field) {
        return body.has(field);
    }

    /** The raw JSON, for hashing a request (idempotency) or logging. */
    public ObjectNode json() {
        return body;
    }

    private JsonNode required(String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            throw ProblemException.badRequest("'" + field + "' is required");
        }
        return value;
    }

    private ProblemException wrongType(String field, String expected) {
        return ProblemException.badRequest("'" + field + "' must be " + expected);
    }
}
