package dev.orders.app;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A blocking client for the security tests: any method, headers and body (JDK HTTP client, with a hard
 * timeout, so that a request the server leaves unanswered fails rather than hangs); an event stream
 * answered by mistake is read for a moment and closed, so that what it would have leaked shows; streams
 * and WebSockets (Vert.x) that stay open and collect what they receive.
 */
final class HttpProbe implements AutoCloseable {

    /** How long a one-off request reads an event stream before closing it. */
    static final Duration STREAM_WINDOW = Duration.ofMillis(800);

    /** A request: method, URI, headers (in order), body (null: none). */
    record Request(HttpMethod method, String uri, Map<String, String> headers, String body) {

        static Request get(String uri) {
            return new Request(HttpMethod.GET, uri, Map.of(), null);
        }

        static Request post(String uri, JsonObject body) {
            return body == null ? new Request(HttpMethod.POST, uri, Map.of(), null)
                    : new Request(HttpMethod.POST, uri, Map.of("Content-Type", "application/json"), body.encode());
        }

        static Request of(HttpMethod method, String uri) {
            return new Request(method, uri, Map.of(), null);
        }

        /** This request with one more header (replacing one of the same name). */
        Request with(String name, String value) {
            Map<String, String> headers = new LinkedHashMap<>(this.headers);
            headers.put(name, value);
            return new Request(method, uri, headers, body);
        }

        Request with(Map<String, String> more) {
            Request request = this;
            for (var header : more.entrySet()) {
                request = request.with(header.getKey(), header.getValue());
            }
            return request;
        }

        @Override
        public String toString() {
            return method + " " + uri + (body == null ? "" : " " + body);
        }
    }

    /** An answer: status, headers and body (for an event stream, what arrived within the window). */
    record Answer(int status, MultiMap headers, String body) {

        String header(String name) {
            return headers.get(name);
        }

        /** The body as JSON, or null when it is not a JSON object. */
        JsonObject json() {
            try {
                return body == null || body.isBlank() ? null : new JsonObject(body);
            } catch (DecodeException | ClassCastException notJson) {
                return null;
            }
        }

        boolean is2xx() {
            return status >= 200 && status < 300;
        }

        @Override
        public String toString() {
            String text = body == null ? "" : body.length() > 400 ? body.substring(0, 400) + "..." : body;
            return status + " " + text;
        }
    }

    private final Vertx vertx = Vertx.vertx();
    private final WebSocketClient webSockets;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final int port;

    HttpProbe(int port) {
        this.port = port;
        this.webSockets = vertx.createWebSocketClient();
    }

    /** Sends the request and waits for its answer (at most 30 s: a request the server leaves unanswered fails). */
    Answer send(Request request) {
        HttpResponse<InputStream> response = exchange(request.method().name(), request.uri(), request.headers(),
                request.body());
        String type = response.headers().firstValue("Content-Type").orElse("");
        if (!type.startsWith("text/event-stream")) {
            try (InputStream in = response.body()) {
                return new Answer(response.statusCode(), headers(response), new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new AssertionError("the body of " + request + " was cut: " + e, e);
            }
        }
        try (LiveStream stream = new LiveStream(response)) {
            pause(STREAM_WINDOW.toMillis());
            return new Answer(response.statusCode(), headers(response), stream.text());
        }
    }

    private HttpResponse<InputStream> exchange(String method, String uri, Map<String, String> headers, String body) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create("http://localhost:" + port + uri))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(builder::header);
        try {
            return http.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new AssertionError("no answer to " + method + " " + uri + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static MultiMap headers(HttpResponse<?> response) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        response.headers().map().forEach(headers::add);
        return headers;
    }

    /** A stream that stays open and keeps what it receives (or the body of its refusal) until {@link #close()}. */
    static final class LiveStream implements AutoCloseable {
        private final StringBuilder text = new StringBuilder();
        private final HttpResponse<InputStream> response;
        private final Thread reader;

        private LiveStream(HttpResponse<InputStream> response) {
            this.response = response;
            this.reader = Thread.ofVirtual().name("stream-reader").start(() -> {
                byte[] buffer = new byte[8192];
                try (InputStream in = response.body()) {
                    for (int n; (n = in.read(buffer)) >= 0; ) {
                        append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException closed) {
                    // closed by close(), or by the server
                }
            });
        }

        int status() {
            return response.statusCode();
        }

        String contentType() {
            return response.headers().firstValue("Content-Type").orElse(null);
        }

        synchronized String text() {
            return text.toString();
        }

        private synchronized void append(String chunk) {
            text.append(chunk);
        }

        /** The data of every {@code event: order} received so far, as JSON. */
        List<JsonObject> orders() {
            List<JsonObject> orders = new ArrayList<>();
            for (String block : text().replace("\r\n", "\n").split("\n\n")) {
                String event = null;
                StringBuilder data = new StringBuilder();
                for (String line : block.split("\n")) {
                    if (line.startsWith("event:")) {
                        event = line.substring(6).trim();
                    } else if (line.startsWith("data:")) {
                        data.append(line.substring(5).trim());
                    }
                }
                if ("order".equals(event) && !data.isEmpty()) {
                    orders.add(new JsonObject(data.toString()));
                }
            }
            return orders;
        }

        @Override
        public void close() {
            try {
                response.body().close();
                reader.join(5_000);
            } catch (IOException e) {
                // already closed
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    LiveStream stream(String uri, Map<String, String> headers) {
        Map<String, String> all = new LinkedHashMap<>(headers);
        all.putIfAbsent("Accept", "text/event-stream");
        return new LiveStream(exchange("GET", uri, all, null));
    }

    /** A WebSocket on {@code /api/ws}, or the refusal of its handshake. */
    static final class Socket implements AutoCloseable {
        final List<String> frames = new CopyOnWriteArrayList<>();
        private WebSocket socket;
        private int refusedStatus;
        private String refusedBody = "";
        private MultiMap refusedHeaders = MultiMap.caseInsensitiveMultiMap();

        /** 101 when the handshake succeeded, else the status it was refused with. */
        int status() {
            return socket != null ? 101 : refusedStatus;
        }

        /** The answer that refused the handshake (status, headers, body), or null when it succeeded. */
        Answer refusal() {
            return socket != null ? null : new Answer(refusedStatus, refusedHeaders, refusedBody);
        }

        void send(JsonObject message) {
            await(socket.writeTextMessage(message.encode()));
        }

        /** The frames received so far, parsed. */
        List<JsonObject> messages() {
            return frames.stream().map(JsonObject::new).toList();
        }

        @Override
        public void close() {
            if (socket != null && !socket.isClosed()) {
                socket.close();
            }
        }
    }

    Socket webSocket(Map<String, String> headers) {
        Socket result = new Socket();
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("localhost").setPort(port).setURI("/api/ws");
        headers.forEach(options::addHeader);
        Future<Void> connected = webSockets.connect(options).map(socket -> {
            socket.textMessageHandler(result.frames::add);
            result.socket = socket;
            return (Void) null;
        }).recover(failure -> {
            if (failure instanceof UpgradeRejectedException refused) {
                result.refusedStatus = refused.getStatus();
                result.refusedBody = refused.getBody() == null ? "" : refused.getBody().toString();
                if (refused.getHeaders() != null) {
                    result.refusedHeaders = refused.getHeaders();
                }
                return Future.succeededFuture();
            }
            return Future.failedFuture(failure);
        });
        await(connected);
        return result;
    }

    /** Waits until the condition holds, at most this long; false if it never did. */
    static boolean within(Duration limit, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            pause(50);
        }
        return condition.getAsBoolean();
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } catch (Exception e) {
            throw new AssertionError("no answer: " + e, e);
        }
    }

    @Override
    public void close() {
        await(vertx.close());
    }
}
