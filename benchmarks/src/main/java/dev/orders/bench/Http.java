package dev.orders.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
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

    Future<Answer> send(HttpMethod method, String uri, String body) {
        RequestOptions request = new RequestOptions().setMethod(method).setURI(uri)
                .putHeader("Authorization", authorization);
        if (body != null) {
            request.putHeader("Content-Type", "application/json");
        }
        return commands.request(request)
                .compose(req -> body == null ? req.send() : req.send(Buffer.buffer(body)))
                .compose(response -> response.body().map(b -> new Answer(response.statusCode(), b)));
    }

    Future<Answer> placeOrder(UUID customerId, String amount) {
        return send(HttpMethod.POST, "/api/orders", "{\"customerId\":\"" + customerId
                + "\",\"total\":{\"amount\":\"" + amount + "\",\"currency\":\"EUR\"}}");
    }

    /** Creates customers with the largest credit limit the API takes, and waits until the query side knows them. */
    List<UUID> createCustomers(int count, String namePrefix) throws Exception {
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
        for (UUID id : ids) {
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
     * True once the read model knows the customer. A read that gets no answer within 10 s counts as "not
     * yet": this client now and then never completes a request the service did answer (seen only here,
     * under load; not understood yet), and a lost poll must not end a benchmark.
     */
    private boolean projected(UUID id) throws Exception {
        try {
            return await(send(HttpMethod.GET, "/api/customers/" + id, null), Duration.ofSeconds(10)).status() == 200;
        } catch (java.util.concurrent.TimeoutException lost) {
            System.out.println("    (a read of customer " + id + " got no answer in 10 s; asking again)");
            return false;
        }
    }

    /**
     * Opens {@code GET /api/customers/{id}/orders/stream} and hands every {@code event: order} data line
     * (the order's view as JSON text) to {@code onOrder}, on the client's event loop.
     */
    Future<HttpClientResponse> openStream(UUID customerId, Consumer<String> onOrder) {
        RequestOptions request = new RequestOptions().setMethod(HttpMethod.GET)
                .setURI("/api/customers/" + customerId + "/orders/stream")
                .putHeader("Accept", "text/event-stream")
                .putHeader("Authorization", authorization)
                .setIdleTimeout(0);
        return streams.request(request).compose(req -> req.send()).map(response -> {
            if (response.statusCode() != 200) {
                throw new IllegalStateException("stream of " + customerId + " answered " + response.statusCode());
            }
            SseParser parser = new SseParser(onOrder);
            response.handler(parser::feed);
            return response;
        });
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
