package dev.orders.service.http;

import java.util.Map;

/**
 * A failure that the HTTP edge answers as an RFC 9457 {@code application/problem+json} document.
 * Throw it (or fail a future with it) anywhere in a request's handling.
 */
public class ProblemException extends RuntimeException {

    private static final String TYPE_BASE = "https://orders.dev/problems/";

    private final int status;
    private final String title;
    private final Map<String, String> headers;
    private final String typeName;

    public ProblemException(int status, String title, String detail) {
        this(status, title, detail, Map.of());
    }

    public ProblemException(int status, String title, String detail, Map<String, String> headers) {
        this(status, title, detail, headers, null);
    }

    private ProblemException(int status, String title, String detail, Map<String, String> headers, String typeName) {
        super(detail, null, false, false);
        this.status = status;
        this.title = title;
        this.headers = Map.copyOf(headers);
        this.typeName = typeName;
    }

    /**
     * The same problem with a type of its own, e.g. {@code order-not-cancellable}, so that a client can tell
     * one rejection from another of the same status without reading the detail.
     */
    public ProblemException withType(String name) {
        if (name == null || !name.matches("[a-z][a-z0-9-]*")) {
            throw new IllegalArgumentException("a problem type name is lower-case words joined by '-', was " + name);
        }
        return new ProblemException(status, title, detail(), headers, name);
    }

    public static ProblemException badRequest(String detail) {
        return new ProblemException(400, "Bad request", detail);
    }

    /** 401 with {@code WWW-Authenticate: Bearer}: no token, or one that is not valid (any more). */
    public static ProblemException unauthorized(String detail) {
        return new ProblemException(401, "Unauthorized", detail, Map.of("WWW-Authenticate", "Bearer"));
    }

    /** 403: the caller is known but the action is not its to take (an operator route, a forged origin). */
    public static ProblemException forbidden(String detail) {
        return new ProblemException(403, "Forbidden", detail);
    }

    /** 429 with {@code Retry-After}. */
    public static ProblemException tooManyRequests(String detail, int retryAfterSeconds) {
        return new ProblemException(429, "Too many requests", detail,
                Map.of("Retry-After", Integer.toString(retryAfterSeconds)));
    }

    public static ProblemException notFound(String detail) {
        return new ProblemException(404, "Not found", detail);
    }

    public static ProblemException conflict(String detail) {
        return new ProblemException(409, "Conflict", detail);
    }

    public static ProblemException unprocessable(String detail) {
        return new ProblemException(422, "Unprocessable content", detail);
    }

    public static ProblemException unavailable(String detail, int retryAfterSeconds) {
        return new ProblemException(503, "Service unavailable", detail,
                Map.of("Retry-After", Integer.toString(retryAfterSeconds)));
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public String detail() {
        return getMessage();
    }

    /** Extra response headers, such as {@code Retry-After}. */
    public Map<String, String> headers() {
        return headers;
    }

    /** The problem type URI: the name given by {@link #withType}, else a stable, documented name per status. */
    public String type() {
        if (typeName != null) {
            return TYPE_BASE + typeName;
        }
        return TYPE_BASE + switch (status) {
            case 400 -> "bad-request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not-found";
            case 409 -> "conflict";
            case 413 -> "payload-too-large";
            case 415 -> "unsupported-media-type";
            case 422 -> "unprocessable-content";
            case 429 -> "too-many-requests";
            case 503 -> "service-unavailable";
            default -> "status-" + status;
        };
    }
}
