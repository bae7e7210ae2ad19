package dev.orders.command.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The OpenAPI 3.1 document of the command API, shipped as the resource {@value #RESOURCE} and served
 * at {@value #PATH}. It is read (and checked to be JSON) once, when the routes are built, so a broken
 * document fails the start instead of a request.
 */
public final class OpenApiDocument {

    /** Where the service serves the document. */
    public static final String PATH = "/api/openapi/command-api.json";
    /** The classpath resource holding it. */
    public static final String RESOURCE = "/openapi/command-api.json";

    private final Buffer bytes;

    private OpenApiDocument(Buffer bytes) {
        this.bytes = bytes;
    }

    /** Reads the document from the classpath. */
    public static OpenApiDocument load() {
        try (InputStream in = OpenApiDocument.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the resource " + RESOURCE + " is missing");
            }
            Buffer bytes = Buffer.buffer(in.readAllBytes());
            JsonObject document = new JsonObject(bytes);
            if (!String.valueOf(document.getValue("openapi")).startsWith("3.1")) {
                throw new IllegalStateException(RESOURCE + " is not an OpenAPI 3.1 document");
            }
            return new OpenApiDocument(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        } catch (DecodeException e) {
            throw new IllegalStateException(RESOURCE + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    /** The document, parsed anew (callers may change their copy). */
    public JsonObject json() {
        return new JsonObject(bytes);
    }

    /** Mounts {@code GET} {@value #PATH}. */
    public void mount(Router router) {
        router.get(PATH).handler(ctx -> ctx.response()
                .putHeader("Content-Type", "application/json")
                .putHeader("Cache-Control", "no-cache")
                .end(bytes));
    }
}
