package dev.orders.query.http;

import dev.orders.service.http.ContractDocument;

/**
 * The OpenAPI 3.1 document of the query API (queries, live streams, the WebSocket, the operators' routes),
 * shipped as the resource {@value #RESOURCE} and served without a token at {@value #PATH}.
 */
public final class QueryApiDocument {

    public static final String PATH = "/api/openapi/query-api.json";
    public static final String RESOURCE = "/openapi/query-api.json";

    private QueryApiDocument() {
    }

    /** The document as {@link ContractDocument} reads it: a broken one fails the start. */
    public static ContractDocument load() {
        return ContractDocument.openApi(RESOURCE, PATH);
    }
}
