package dev.orders.service.security;

import dev.orders.service.http.ContractDocument;
import dev.orders.service.http.ContractRequests;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * The OpenAPI 3.1 document of the session routes ({@link SessionRoutes}), which every service mounts: shipped as
 * the resource {@value #RESOURCE}, served without a token at {@value #PATH} by the command side, the query side
 * and the all-in-one alike, and the contract the development sign-in's body is checked against.
 */
public final class SessionApi {

    /** Where every service serves the document. */
    public static final String PATH = "/api/openapi/session-api.json";
    /** The classpath resource holding it. */
    public static final String RESOURCE = "/openapi/session-api.json";

    private SessionApi() {
    }

    /** Reads the document from the classpath; a broken one fails here, at the start. */
    public static ContractDocument document() {
        return ContractDocument.openApi(RESOURCE, PATH);
    }

    /**
     * The document's request checks, for {@link Security#protect}: loaded once per process when it starts,
     * before its routers are built (a document vertx-openapi cannot load fails the start).
     */
    public static Future<ContractRequests> load(Vertx vertx) {
        return ContractRequests.load(vertx, document());
    }
}
