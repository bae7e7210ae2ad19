package dev.orders.service.http;

import java.util.Optional;
import java.util.UUID;

/**
 * The one reading of a UUID in a request (a path, a body field, a message): the canonical 8-4-4-4-12 hex
 * form only, in either case; {@link UUID#fromString} alone would also take {@code 1-2-3-4-5}. Each caller
 * answers a miss with its own problem.
 */
public final class StrictUuid {

    private StrictUuid() {
    }

    /** @return the UUID {@code text} spells in canonical form, or empty (also for null) */
    public static Optional<UUID> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        try {
            UUID id = UUID.fromString(text);
            return id.toString().equalsIgnoreCase(text) ? Optional.of(id) : Optional.empty();
        } catch (IllegalArgumentException notUuid) {
            return Optional.empty();
        }
    }
}
