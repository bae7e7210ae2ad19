package dev.orders.command.http;

import dev.orders.service.http.ContractDocument;

/** The OpenAPI 3.1 document of the command API, shipped as the resource {@value #RESOURCE} and served at {@value #PATH}. */
public final class OpenApiDocument {

    /** Where the service serves the document. */
    public static final String PATH = "/api/openapi/command-api.json";
    /** The classpath resource holding it. */
    public static final String RESOURCE = "/openapi/command-api.json";

    private OpenApiDocument() {
    }

    /** Reads the document from the classpath; a broken one fails here, at the start. */
    public static ContractDocument load() {
        return ContractDocument.openApi(RESOURCE, PATH);
    }
}
