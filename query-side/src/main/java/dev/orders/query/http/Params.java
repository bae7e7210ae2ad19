package dev.orders.query.http;

import dev.orders.events.OrderStatus;
import dev.orders.service.http.ProblemException;
import dev.orders.service.http.StrictUuid;
import io.vertx.ext.web.RoutingContext;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Reads path and query parameters strictly; anything malformed is a 400 that names the parameter. The
 * requests are first checked against the served OpenAPI document ({@code ContractRequests}), which holds the
 * numbers' bounds; what stays here is what the document cannot say or vertx-openapi reads otherwise: a
 * parameter given twice (the validator takes the first), a number written other than in digits
 * ({@code +1}, {@code 1e2} pass as integers), a value ending in a line break (the validator's patterns are
 * Java's, whose {@code $} matches before it), an instant as {@link Instant#parse} reads it, and the cursors.
 */
final class Params {

    static final int DEFAULT_LIMIT = 50;
    private static final Pattern AMOUNT = Pattern.compile("\\d{1,10}(\\.\\d{1,2})?");
    private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");
    private static final Pattern POSITIVE = Pattern.compile("[1-9]\\d{0,9}");

    private Params() {
    }

    static UUID pathUuid(RoutingContext ctx, String name) {
        String value = ctx.pathParam(name);
        return StrictUuid.parse(value).orElseThrow(() ->
                ProblemException.badRequest("'" + name + "' must be a UUID, was '" + value + "'"));
    }

    /** A query parameter given at most once, or null. */
    static String single(RoutingContext ctx, String name) {
        List<String> values = ctx.queryParam(name);
        if (values.size() > 1) {
            throw ProblemException.badRequest("'" + name + "' is given more than once");
        }
        return values.isEmpty() ? null : values.get(0);
    }

    static Long positiveLong(RoutingContext ctx, String name) {
        String value = single(ctx, name);
        if (value == null) {
            return null;
        }
        return Long.parseLong(digits(name, value));
    }

    static Instant instant(RoutingContext ctx, String name) {
        String value = single(ctx, name);
        if (value == null) {
            return null;
        }
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw ProblemException.badRequest("'" + name + "' must be an ISO-8601 UTC instant such as "
                    + "2025-03-01T12:00:00Z, was '" + value + "'");
        }
    }

    static int limit(RoutingContext ctx) {
        String value = single(ctx, "limit");
        if (value == null) {
            return DEFAULT_LIMIT;
        }
        return Integer.parseInt(digits("limit", value));
    }

    /** A whole number from 1 written in digits; its upper bound is the document's, checked before. */
    private static String digits(String name, String value) {
        if (!POSITIVE.matcher(value).matches()) {
            throw ProblemException.badRequest("'" + name + "' must be a whole number from 1 written in digits, was '"
                    + value + "'");
        }
        return value;
    }

    static OrderStatus status(RoutingContext ctx) {
        String value = single(ctx, "status");
        if (value == null) {
            return null;
        }
        try {
            return OrderStatus.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest("'status' must be one of PENDING, APPROVED, REJECTED, CANCELLED, was '"
                    + value + "'");
        }
    }

    /** A non-negative decimal amount with at most 2 fraction digits. */
    static BigDecimal amount(RoutingContext ctx, String name) {
        String value = single(ctx, name);
        if (value == null) {
            return null;
        }
        if (!AMOUNT.matcher(value).matches()) {
            throw ProblemException.badRequest("'" + name + "' must be a decimal amount with at most 2 fraction digits,"
                    + " like 250.00, was '" + value + "'");
        }
        return new BigDecimal(value);
    }

    static String currency(RoutingContext ctx) {
        String value = single(ctx, "currency");
        if (value != null && !CURRENCY.matcher(value).matches()) {
            throw ProblemException.badRequest("'currency' must be three capital letters, was '" + value + "'");
        }
        return value;
    }

    /** The parts of an opaque cursor ({@code after}): base64url of the sort key's parts joined by '|'. */
    static String[] cursor(RoutingContext ctx, int parts) {
        String value = single(ctx, "after");
        if (value == null) {
            return null;
        }
        try {
            String decoded = new String(Base64.getUrlDecoder().decode(value), StandardCharsets.UTF_8);
            String[] split = decoded.split("\\|", -1);
            if (split.length == parts) {
                return split;
            }
        } catch (IllegalArgumentException ignored) {
            // falls through to the 400
        }
        throw badCursor();
    }

    static String encodeCursor(String... parts) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString(String.join("|", parts).getBytes(StandardCharsets.UTF_8));
    }

    static ProblemException badCursor() {
        return ProblemException.badRequest("'after' is not a cursor this API gave out");
    }
}
