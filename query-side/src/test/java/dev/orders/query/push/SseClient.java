package dev.orders.query.push;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** A real HTTP client reading a server-sent event stream into events, as a browser's EventSource parses it. */
final class SseClient {

    record Event(String event, String id, String data) {
        JsonObject json() {
            return new JsonObject(data);
        }

        int version() {
            return json().getInteger("version");
        }
    }

    final List<Event> events = new CopyOnWriteArrayList<>();
    private final Consumer<Event> listener;
    private final StringBuilder pending = new StringBuilder();
    /** EventSource's last event id: set by every {@code id:} field, with data or alone; empty: none. */
    private volatile String lastEventId;
    private volatile HttpClientResponse response;
    private volatile Future<Buffer> body;
    volatile boolean ended;

    private SseClient(Consumer<Event> listener) {
        this.listener = listener == null ? events::add : listener;
    }

    /** Opens the stream; succeeds with the client once the response head arrived (any status). */
    static Future<SseClient> open(HttpClient http, int port, String path, MultiMap headers) {
        return open(http, port, path, headers, null);
    }

    /**
     * Opens the stream handing each event to {@code listener} (on the connection's event loop) instead of
     * keeping it in {@link #events}: for load tests, whose clients must not hold every event.
     */
    static Future<SseClient> open(HttpClient http, int port, String path, MultiMap headers, Consumer<Event> listener) {
        SseClient client = new SseClient(listener);
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost("localhost").setPort(port)
                .setURI(path).setHeaders(headers);
        return http.request(options)
                .compose(request -> request.send())
                .map(response -> {
                    client.response = response;
                    if (response.statusCode() != 200) {
                        client.body = response.body();
                        return client;
                    }
                    response.handler(client::onData);
                    response.endHandler(ignored -> client.ended = true);
                    response.exceptionHandler(ignored -> client.ended = true);
                    return client;
                });
    }

    int status() {
        return response.statusCode();
    }

    HttpClientResponse response() {
        return response;
    }

    /** The body of a response other than 200 (a problem document). */
    Future<Buffer> body() {
        return body;
    }

    /** Cuts the connection, as a network failure would. */
    void cut() {
        response.request().connection().close();
    }

    List<Event> orders() {
        return events.stream().filter(e -> "order".equals(e.event())).toList();
    }

    /** The id this client would resume with, as EventSource keeps it; null if none. */
    String lastId() {
        String id = lastEventId;
        return id == null || id.isEmpty() ? null : id;
    }

    private synchronized void onData(Buffer chunk) {
        pending.append(chunk.toString());
        int end;
        while ((end = pending.indexOf("\n\n")) >= 0) {
            String block = pending.substring(0, end);
            pending.delete(0, end + 2);
            String event = null;
            String id = null;
            StringBuilder data = null;
            for (String line : block.split("\n")) {
                if (line.startsWith(":")) {
                    continue;
                }
                int colon = line.indexOf(':');
                String field = colon < 0 ? line : line.substring(0, colon);
                String value = colon < 0 ? "" : line.substring(colon + 1).replaceFirst("^ ", "");
                switch (field) {
                    case "event" -> event = value;
                    case "id" -> id = value;
                    case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                    default -> {
                    }
                }
            }
            if (id != null) {
                lastEventId = id;
            }
            if (data != null) {
                listener.accept(new Event(event == null ? "message" : event, id, data.toString()));
            }
        }
    }
}
