package dev.orders.query.push;

import dev.orders.service.http.ProblemException;
import dev.orders.service.http.StrictUuid;
import dev.orders.service.security.Caller;
import io.vertx.core.http.HttpServerRequest;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/** What a stream request or a WebSocket message says: the watched id, the resume id, how long its caller may stay. */
final class PushRequests {

    private PushRequests() {
    }

    static UUID uuid(String text) {
        return StrictUuid.parse(text).orElseThrow(() -> ProblemException.badRequest("'" + text + "' is not a UUID"));
    }

    /** A resume id: absent (null), or a non-negative decimal position; anything else is a 400. */
    static Long parseEventId(String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        if (text.length() > 19 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw ProblemException.badRequest("Last-Event-ID must be a position (a non-negative integer), was '"
                    + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "'");
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("Last-Event-ID is out of range");
        }
    }

    /** A stream's resume id: the {@code Last-Event-ID} header, else the {@code lastEventId} parameter. */
    static Long resumeId(HttpServerRequest request) {
        String header = request.getHeader("Last-Event-ID");
        return parseEventId(header != null && !header.isBlank() ? header : request.getParam("lastEventId"));
    }

    /** Milliseconds until the caller's token expires; at least 1, so that an expired one ends at once. */
    static long untilExpiry(Caller caller) {
        return Math.max(1, Duration.between(Instant.now(), caller.expiresAt()).toMillis());
    }
}
