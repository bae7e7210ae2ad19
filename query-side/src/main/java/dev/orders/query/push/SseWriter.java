package dev.orders.query.push;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerResponse;

/**
 * Server-sent events on a chunked HTTP response: Vert.x 5 has no SSE handler, so this is the project's
 * own (the format of the WHATWG HTML standard, "Server-sent events"). It sets the headers that keep
 * proxies from buffering or caching the stream, and writes whole events: {@code event:}, {@code id:},
 * one {@code data:} line per line of data, a blank line; {@code retry:} hints and {@code :} comments.
 */
public final class SseWriter {

    public static final String CONTENT_TYPE = "text/event-stream; charset=utf-8";
    private final HttpServerResponse response;

    private SseWriter(HttpServerResponse response) {
        this.response = response;
    }

    /** Starts the stream: status 200, the SSE headers, a {@code retry:} hint, and an opening comment. */
    public static SseWriter start(HttpServerResponse response, long retryMillis) {
        response.setStatusCode(200)
                .setChunked(true)
                .putHeader("Content-Type", CONTENT_TYPE)
                .putHeader("Cache-Control", "no-store")
                .putHeader("X-Accel-Buffering", "no");
        SseWriter writer = new SseWriter(response);
        writer.write("retry: " + retryMillis + "\n: connected\n\n");
        return writer;
    }

    /** Writes one event; {@code id} may be null (no id field) or empty (clears the client's last id). */
    public Future<Void> event(String event, String id, String data) {
        StringBuilder text = new StringBuilder(data.length() + 48);
        if (event != null) {
            text.append("event: ").append(singleLine(event)).append('\n');
        }
        if (id != null) {
            text.append(id.isEmpty() ? "id:" : "id: " + singleLine(id)).append('\n');
        }
        int start = 0;
        while (true) {
            int end = data.indexOf('\n', start);
            String line = end < 0 ? data.substring(start) : data.substring(start, end);
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            text.append("data: ").append(line).append('\n');
            if (end < 0) {
                break;
            }
            start = end + 1;
        }
        return write(text.append('\n').toString());
    }

    /**
     * An {@code id:} field alone: per the standard the client's last event id becomes {@code id} although no
     * event is dispatched (its data is empty).
     */
    public Future<Void> id(String id) {
        return write("id: " + singleLine(id) + "\n\n");
    }

    /** A comment line, ignored by clients: keeps idle connections (and the proxies between) open. */
    public Future<Void> comment(String text) {
        return write(": " + singleLine(text) + "\n\n");
    }

    public boolean writeQueueFull() {
        return response.writeQueueFull();
    }

    public SseWriter drainHandler(Handler<Void> handler) {
        response.drainHandler(handler);
        return this;
    }

    public SseWriter closeHandler(Handler<Void> handler) {
        response.closeHandler(handler);
        return this;
    }

    /** Ends the stream cleanly: the response is complete, the connection stays usable. */
    public void end() {
        if (!response.ended() && !response.closed()) {
            response.end();
        }
    }

    /** Cuts the stream: the connection is reset. */
    public void close() {
        if (!response.ended() && !response.closed()) {
            response.reset();
        }
    }

    private Future<Void> write(String text) {
        if (response.ended() || response.closed()) {
            return Future.failedFuture("the stream is closed");
        }
        return response.write(text);
    }

    private static String singleLine(String value) {
        return value.replace('\r', ' ').replace('\n', ' ');
    }
}
