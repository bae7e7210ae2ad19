package dev.orders.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The load generator's HTTP side: its own Vert.x instance (one event loop, so that it takes a bounded
 * share of the two cores) with a keep-alive pool for commands and a separate one for SSE streams. Every
 * request carries the operator's bearer token: operators may act for any customer, watch any stream and
 * are not rate limited, so the load is the service's, not the rate limiter's.
 */
final class Http implements AutoCloseable {

    /** An answer: status and body. */
    record Answer(int status, Buffer body) {
        JsonObject json() {
            return body.toJsonObject();
        }
    }

    private final Vertx vertx;
    private final HttpClientAgent commands;
    private final HttpClientAgent streams;
    private final io.vertx.core.Context context;
    private final String authorization;

    /** @param token the operator token every request presents ({@code Authorization: Bearer <token>}) */
    Http(String host, int port, String token) {
        this.authorization = "Bearer " + token;
        this.vertx = Vertx.vertx(new io.vertx.core.VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2));
        this.context = vertx.getOrCreateContext();
        HttpClientOptions options = new HttpClientOptions().setDefaultHost(host).setDefaultPort(port)
                .setKeepAlive(true).setTcpNoDelay(true);
        this.commands = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(64).setMaxWaitQueueSize(-1));
        this.streams = vertx.createHttpClient(new HttpClientOptions(options).setIdleTimeout(0),
                new PoolOptions().setHttp1MaxSize(256));
    }

    Vertx vertx() {
        return vertx;
    }

    /** The one context all load is generated on. */
    io.vertx.core.Context context() {
        return context;
    }

    /** The id of the thread all load is generated on (the one event loop of this client's Vert.x). */
    long threadId() throws Exception {
        java.util.concurrent.CompletableFuture<Long> id = new java.util.concurrent.CompletableFuture<>();
        context.runOnContext(ignored -> id.complete(Thread.currentThread().threadId()));
        return id.get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Every request's deadline unless its caller gives one: a stuck request ends as a failure, never a hang. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** The deadline of {@code POST /api/orders}: an order not answered by then counts as failed. */
    static final Duration ORDER_TIMEOUT = Duration.ofSeconds(10);
    /** The deadline for an SSE stream's response headers; once open, a stream has no deadline. */
    static final Duration STREAM_OPEN_TIMEOUT = Duration.ofSeconds(10);

    Future<Answer> send(HttpMethod method, String uri, String body) {
        return send(method, uri, body, REQUEST_TIMEOUT);
    }

    /**
     * One request with a deadline over all of it: waiting for a pooled connection, connecting, sending
     * and reading the whole body. When the deadline passes first, the request is reset and the answer
     * fails with a {@link java.util.concurrent.TimeoutException}.
     */
    Future<Answer> send(HttpMethod method, String uri, String body, Duration timeout) {
        RequestOptions request = new RequestOptions().setMethod(method).setURI(uri)
                .putHeader("Authorization", authorization)
                .setConnectTimeout(timeout.toMillis());
        if (body != null) {
            request.putHeader("Content-Type", "application/json");
        }
        return withDeadline(timeout, method + " " + uri, commands.request(request), req ->
                (body == null ? req.send() : req.send(Buffer.buffer(body)))
                        .compose(response -> response.body().map(b -> new Answer(response.statusCode(), b))));
    }

    /**
     * Runs {@code exchange} on the request once it is granted, and fails the result when {@code timeout}
     * passes first (resetting the request, if it was granted, so that its connection is not left waiting).
     */
    private <T> Future<T> withDeadline(Duration timeout, String what, Future<HttpClientRequest> granted,
                                       java.util.function.Function<HttpClientRequest, Future<T>> exchange) {
        Promise<T> result = Promise.promise();
        java.util.concurrent.atomic.AtomicReference<HttpClientRequest> requestRef =
                new java.util.concurrent.atomic.AtomicReference<>();
        long timer = vertx.setTimer(timeout.toMillis(), id -> {
            if (result.tryFail(new java.util.concurrent.TimeoutException(what + ": no answer within "
                    + timeout.toMillis() + " ms"))) {
                HttpClientRequest req = requestRef.get();
                if (req != null) {
                    req.reset();
                }
            }
        });
        granted.compose(req -> {
            requestRef.set(req);
            if (result.future().isComplete()) {
                req.reset(); // the deadline passed while waiting for a connection
                return Future.failedFuture("too late");
            }
            return exchange.apply(req);
        }).onComplete(answer -> {
            vertx.cancelTimer(timer);
            if (answer.succeeded()) {
                result.tryComplete(answer.result());
            } else {
                result.tryFail(answer.cause());
            }
        });
        return result.future();
    }

    Future<Answer> placeOrder(UUID customerId, String amount) {
        return send(HttpMethod.POST, "/api/orders", "{\"customerId\":\"" + customerId
                + "\",\"total\":{\"amount\":\"" + amount + "\",\"currency\":\"EUR\"}}", ORDER_TIMEOUT);
    }

    /** Creates customers with the largest credit limit the API takes, and waits until the query side knows them. */
    List<UUID> createCustomers(int count, String namePrefix) throws Exception {
        return createCustomers(count, namePrefix, true);
    }

    /**
     * Creates customers with the largest credit limit the API takes; with {@code awaitProjected}, waits until the
     * query side knows them (nothing projects them on an API-only node).
     */
    List<UUID> createCustomers(int count, String namePrefix, boolean awaitProjected) throws Exception {
        List<Future<UUID>> created = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            created.add(send(HttpMethod.POST, "/api/customers", "{\"name\":\"" + namePrefix + "-" + i
                    + "\",\"creditLimit\":{\"amount\":\"1000000000.00\",\"currency\":\"EUR\"}}")
                    .map(answer -> {
                        if (answer.status() != 201) {
                            throw new IllegalStateException("POST /api/customers answered " + answer.status() + ": "
                                    + answer.body());
                        }
                        return UUID.fromString(answer.json().getString("customerId"));
                    }));
        }
        List<UUID> ids = new ArrayList<>();
        for (Future<UUID> future : created) {
            ids.add(await(future, Duration.ofSeconds(60)));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (UUID id : awaitProjected ? ids : List.<UUID>of()) {
            while (!projected(id)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("customer " + id + " was not projected within 60 s");
                }
                Thread.sleep(50);
            }
        }
        return ids;
    }

    /**
     * True once the read model knows the customer. A read that gets no answer within 10 s (its deadline)
     * counts as "not yet": a lost poll must not end a benchmark.
     */
    private boolean projected(UUID id) throws Exception {
        try {
            return await(send(HttpMethod.GET, "/api/customers/" + id, null, Duration.ofSeconds(10)),
                    Duration.ofSeconds(15)).status() == 200;
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException lost) {
            System.out.println("    (a read of customer " + id + " failed: " + lost.getMessage() + "; asking again)");
            return false;
        }
    }

    /**
     * Opens {@code GET /api/customers/{id}/orders/stream} and hands every {@code event: order} data line
     * (the order's view as JSON text) to {@code onOrder}, on the client's event loop.
     */
    Future<HttpClientResponse> openStream(UUID customerId, Consumer<String> onOrder) {
        return openStream(customerId, onOrder, null);
    }

    /**
     * As {@link #openStream(UUID, Consumer)}; {@code onEnd}, if given, hears when the stream ends or fails
     * after it opened. The opening (up to the response headers) has a deadline of
     * {@link #STREAM_OPEN_TIMEOUT}; a stream that does not open in time fails with a timeout.
     */
    Future<HttpClientResponse> openStream(UUID customerId, Consumer<String> onOrder, Runnable onEnd) {
        RequestOptions request = new RequestOptions().setMethod(HttpMethod.GET)
                .setURI("/api/customers/" + customerId + "/orders/stream")
                .putHeader("Accept", "text/event-stream")
                .putHeader("Authorization", authorization)
                .setConnectTimeout(STREAM_OPEN_TIMEOUT.toMillis())
                .setIdleTimeout(0);
        return withDeadline(STREAM_OPEN_TIMEOUT, "stream of " + customerId, streams.request(request),
                req -> req.send().map(response -> {
                    if (response.statusCode() != 200) {
                        throw new IllegalStateException("stream of " + customerId + " answered " + response.statusCode());
                    }
                    SseParser parser = new SseParser(onOrder);
                    response.handler(parser::feed);
                    if (onEnd != null) {
                        java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
                        response.endHandler(v -> {
                            if (ended.compareAndSet(false, true)) {
                                onEnd.run();
                            }
                        });
                        response.exceptionHandler(e -> {
                            if (ended.compareAndSet(false, true)) {
                                onEnd.run();
                            }
                        });
                    }
                    return response;
                }));
    }

    static <T> T await(Future<T> future, Duration timeout) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        try {
            await(vertx.close(), Duration.ofSeconds(20));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            System.out.println("[bench] the load generator's Vert.x did not close cleanly: " + e);
        }
    }

    /** A minimal SSE reader: events end with a blank line; of each {@code event: order}, the data is passed on. */
    static final class SseParser {
        private final Consumer<String> onOrder;
        private final StringBuilder pending = new StringBuilder();

        SseParser(Consumer<String> onOrder) {
            this.onOrder = onOrder;
        }

        void feed(Buffer chunk) {
            pending.append(chunk.toString());
            int end;
            while ((end = pending.indexOf("\n\n")) >= 0) {
                String event = pending.substring(0, end);
                pending.delete(0, end + 2);
                String type = null;
                StringBuilder data = new StringBuilder();
                for (String line : event.split("\n")) {
                    if (line.startsWith("event:")) {
                        type = line.substring(6).strip();
                    } else if (line.startsWith("data:")) {
                        data.append(line.substring(line.startsWith("data: ") ? 6 : 5));
                    }
                }
                if ("order".equals(type)) {
                    onOrder.accept(data.toString());
                }
            }
        }
    }
}
