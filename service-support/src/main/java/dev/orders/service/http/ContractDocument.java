package dev.orders.service.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * A contract of the service (an OpenAPI or AsyncAPI document), shipped as a classpath resource and served
 * without a token: it describes the interfaces, it reveals no data. It is read (and checked to be a JSON
 * document of its kind) once, when the routes are built, so a broken document fails the start instead of
 * a request.
 */
public final class ContractDocument {

    /** Where the AsyncAPI document (Kafka topics, SSE and WebSocket messages) is served. */
    public static final String ASYNCAPI_PATH = "/api/asyncapi.json";
    /** The classpath resource of the AsyncAPI document (module shared-events ships it). */
    public static final String ASYNCAPI_RESOURCE = "/contracts/asyncapi.json";
    private static final String OPENAPI_PREFIX = "/api/openapi/";

    private final String path;
    private final Buffer bytes;

    private ContractDocument(String path, Buffer bytes) {
        this.path = path;
        this.bytes = bytes;
    }

    /** Whether a request is for a contract document, which every caller may read. */
    public static boolean isContract(HttpMethod method, String path) {
        return (method == HttpMethod.GET || method == HttpMethod.HEAD)
                && (path.startsWith(OPENAPI_PREFIX) || path.equals(ASYNCAPI_PATH));
    }

    /** An OpenAPI 3.1 document served under {@code /api/openapi/}. */
    public static ContractDocument openApi(String resource, String path) {
        if (!path.startsWith(OPENAPI_PREFIX)) {
            throw new IllegalArgumentException("OpenAPI documents are served under " + OPENAPI_PREFIX + ", not " + path);
        }
        return load(resource, path, "openapi", "3.1");
    }

    /** The AsyncAPI 3 document. */
    public static ContractDocument asyncApi() {
        return load(ASYNCAPI_RESOURCE, ASYNCAPI_PATH, "asyncapi", "3.");
    }

    private static ContractDocument load(String resource, String path, String kind, String versionPrefix) {
        try (InputStream in = ContractDocument.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the resource " + resource + " is missing");
            }
            Buffer bytes = Buffer.buffer(in.readAllBytes());
            JsonObject document = new JsonObject(bytes);
            if (!String.valueOf(document.getValue(kind)).startsWith(versionPrefix)) {
                throw new IllegalStateException(resource + " is not an " + kind + " " + versionPrefix + "x document");
            }
            return new ContractDocument(path, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        } catch (DecodeException e) {
            throw new IllegalStateException(resource + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    /** The path it is served at. */
    public String path() {
        return path;
    }

    /** The document, parsed anew (callers may change their copy). */
    public JsonObject json() {
        return new JsonObject(bytes);
    }

    /** Mounts {@code GET} of the document at its path. */
    public void mount(Router router) {
        router.get(path).handler(ctx -> ctx.response()
                .putHeader("Content-Type", "application/json")
                .putHeader("Cache-Control", "no-cache")
                .end(bytes));
    }
}
