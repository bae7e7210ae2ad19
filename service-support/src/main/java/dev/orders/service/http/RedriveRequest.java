package dev.orders.service.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;

/**
 * An operator's request to re-drive a dead letter ({@code POST .../dead-letters/:id/redrive}), read alike by
 * every side that parks records: the dead letter's number from the path, and optionally a corrected event
 * envelope sent as {@code {"payload": {...}}} (the body read strictly by {@link JsonRequest}). Anything else
 * is a 400.
 *
 * @param replacement the corrected envelope's bytes, or null to re-drive the stored ones
 */
public record RedriveRequest(long id, byte[] replacement) {

    public static RedriveRequest read(RoutingContext ctx) {
        String raw = ctx.pathParam("id");
        long id;
        try {
            id = Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("'id' must be a dead letter's number, was '" + raw + "'");
        }
        byte[] replacement = null;
        if (ctx.body() != null && ctx.body().buffer() != null && ctx.body().buffer().length() > 0) {
            JsonNode payload = JsonRequest.read(ctx, "payload").json().get("payload");
            if (payload == null || !payload.isObject()) {
                throw ProblemException.badRequest("'payload' must be the corrected event envelope, a JSON object");
            }
            replacement = payload.toString().getBytes(StandardCharsets.UTF_8);
        }
        return new RedriveRequest(id, replacement);
    }
}
