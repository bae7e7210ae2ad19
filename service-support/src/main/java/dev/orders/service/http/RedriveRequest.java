package dev.orders.service.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;

/**
 * An operator's request to re-drive a dead letter ({@code POST .../dead-letters/:id/redrive}), read alike by
 * every side that parks records: the dead letter's number from the path, and optionally a corrected event
 * envelope sent as {@code {"payload": {...}}}. The body is read strictly ({@link JsonRequest}), then the
 * request is checked against the side's operation ({@link ContractRequests}: the body holds {@code payload}
 * only, a JSON object); anything else is a 400.
 *
 * @param replacement the corrected envelope's bytes, or null to re-drive the stored ones
 */
public record RedriveRequest(long id, byte[] replacement) {

    /**
     * @param operation the side's re-drive operation, which states what the body may hold
     * @throws ProblemException 400 (or 415) for a request that is not a re-drive
     */
    public static RedriveRequest read(RoutingContext ctx, ContractRequests.Check operation) {
        boolean hasBody = ctx.body() != null && ctx.body().buffer() != null && ctx.body().buffer().length() > 0;
        JsonRequest body = hasBody ? JsonRequest.readObject(ctx) : null;
        operation.check(ctx);
        String raw = ctx.pathParam("id");
        long id;
        try {
            id = Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("'id' must be a dead letter's number, was '" + raw + "'");
        }
        // the document requires the payload, an object, in a body
        JsonNode payload = body == null ? null : body.json().get("payload");
        return new RedriveRequest(id, payload == null ? null : payload.toString().getBytes(StandardCharsets.UTF_8));
    }
}
