package dev.orders.testsupport;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The schemas of a contract document (OpenAPI, AsyncAPI) checked against real values: every {@code $ref}
 * to {@code #/...} resolved in place, then JSON Schema 2020-12 validation by vertx-json-schema.
 */
public final class JsonSchemas {

    private static final JsonSchemaOptions OPTIONS = new JsonSchemaOptions()
            .setDraft(Draft.DRAFT202012).setBaseUri("app:///").setOutputFormat(OutputFormat.Basic);

    private JsonSchemas() {
    }

    /** The document with every local reference replaced by a copy of its (resolved) target. */
    public static JsonObject resolved(JsonObject document) {
        return (JsonObject) resolve(document, document, new ArrayDeque<>());
    }

    /** A validator of a (resolved) schema. */
    public static Validator validator(JsonObject schema) {
        return Validator.create(JsonSchema.of(schema.copy()), OPTIONS);
    }

    /** Whether a value is valid against a (resolved) schema. */
    public static boolean isValid(JsonObject schema, Object value) {
        return validator(schema).validate(value).getValid();
    }

    /** Validates a value against a (resolved) schema and fails with every error when it is invalid. */
    public static void assertValid(JsonObject schema, Object value, String what) {
        OutputUnit result = validator(schema).validate(value);
        assertThat(result.getValid())
                .as("%s is valid against its documented schema; errors: %s; value: %s", what,
                        result.getErrors() == null ? "none" : result.getErrors().stream()
                                .map(e -> e.getInstanceLocation() + " " + e.getKeywordLocation() + ": " + e.getError())
                                .toList(), value)
                .isTrue();
    }

    /** Replaces every {"$ref": "#/..."} by a copy of its (resolved) target; siblings of $ref are kept. */
    private static Object resolve(Object node, JsonObject root, Deque<String> resolving) {
        if (node instanceof JsonObject object) {
            Object ref = object.getValue("$ref");
            if (ref instanceof String pointer) {
                assertThat(pointer).as("only local references are used").startsWith("#/");
                assertThat(resolving).as("no reference cycle through %s", pointer).doesNotContain(pointer);
                resolving.push(pointer);
                Object target = resolve(lookUp(root, pointer), root, resolving);
                resolving.pop();
                JsonObject resolved = target instanceof JsonObject found ? found.copy() : new JsonObject();
                for (Map.Entry<String, Object> sibling : object) {
                    if (!sibling.getKey().equals("$ref")) {
                        resolved.put(sibling.getKey(), resolve(sibling.getValue(), root, resolving));
                    }
                }
                return resolved;
            }
            JsonObject copy = new JsonObject();
            for (Map.Entry<String, Object> entry : object) {
                copy.put(entry.getKey(), resolve(entry.getValue(), root, resolving));
            }
            return copy;
        }
        if (node instanceof JsonArray array) {
            JsonArray copy = new JsonArray();
            for (Object item : array) {
                copy.add(resolve(item, root, resolving));
            }
            return copy;
        }
        return node;
    }

    private static Object lookUp(JsonObject root, String pointer) {
        Object node = root;
        for (String token : pointer.substring(2).split("/")) {
            String key = token.replace("~1", "/").replace("~0", "~");
            assertThat(node).as("%s resolves", pointer).isInstanceOf(JsonObject.class);
            node = ((JsonObject) node).getValue(key);
            assertThat(node).as("%s resolves (at %s)", pointer, key).isNotNull();
        }
        return node;
    }
}
