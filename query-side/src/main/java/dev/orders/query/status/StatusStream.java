package dev.orders.query.status;

import dev.orders.events.OrderStatus;
import dev.orders.query.push.PushMetrics;
import dev.orders.query.push.SseWriter;
import dev.orders.query.store.ReadStore;
import dev.orders.service.http.Problems;
import dev.orders.service.security.Caller;
import dev.orders.service.security.OriginPolicy;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * {@code GET /api/admin/status/stream} (operators only): {@code event: status} about once a second with
 * what this node knows of the pipeline: each stage's lag (relay, saga, projector per partition, push),
 * dead letters, push connections, recent command-to-push latency percentiles and the orders per status.
 * <p>
 * A query node knows its own figures; the command side's (relay and saga) it knows only when it runs in
 * the same process (the all-in-one mode plugs them in with {@link #commandSide}). Otherwise those stages
 * say {@code "known": false} and why, and their figures are on the command side's {@code /health/ready}
 * and {@code /metrics}. One sampler per node feeds every connection, and runs only while one is open;
 * counting orders per status scans the order view, so it runs at most once a second and less often when
 * the count itself takes long (at most about 5% of the time).
 */
public final class StatusStream {

    public static final String PATH = "/api/admin/status/stream";
    static final long EVERY_MS = 1_000;
    static final long LATENCY_WINDOW_MS = 60_000;
    static final String NOT_HERE = "this node runs the query side only: the command side's relay and saga figures"
            + " are on its /health/ready and /metrics";

    private final Vertx vertx;
    private final ReadStore reads;
    private final Supplier<Future<JsonObject>> projectionLag;
    private final PushMetrics push;
    private final LatencyWindow latency;
    private final OriginPolicy origins;
    private final Map<SseWriter, Context> clients = new ConcurrentHashMap<>();
    private volatile Supplier<JsonObject> commandSide;
    private long timer = -1;
    private boolean sampling;
    private JsonObject counts = new JsonObject();
    private long countsAt;
    private long countNanos;
    private volatile String last;

    public StatusStream(Vertx vertx, ReadStore reads, Supplier<Future<JsonObject>> projectionLag, PushMetrics push,
                        LatencyWindow latency, OriginPolicy origins) {
        this.vertx = vertx;
        this.reads = reads;
        this.projectionLag = projectionLag;
        this.push = push;
        this.latency = latency;
        this.origins = origins;
    }

    /** The command side's figures in this process: {@code {"relay": {...}, "saga": {...}}}. */
    public StatusStream commandSide(Supplier<JsonObject> figures) {
        this.commandSide = figures;
        return this;
    }

    public void mount(Router router) {
        router.get(PATH).handler(this::stream).failureHandler(Problems.failureHandler());
    }

    public void close() {
        clients.keySet().forEach(SseWriter::end);
        clients.clear();
        synchronized (this) {
            stopSampling();
        }
    }

    private void stream(RoutingContext ctx) {
        Caller caller = Caller.of(ctx);
        caller.requireOperator("watch the system's status");
        origins.requireStreamOrigin(ctx.request());
        SseWriter writer = SseWriter.start(ctx.response(), 3_000);
        Context context = vertx.getOrCreateContext();
        clients.put(writer, context);
        long expiry = vertx.setTimer(Math.max(1, caller.expiresAt().toEpochMilli() - System.currentTimeMillis()), id -> {
            writer.event("expired", null, "{\"type\":\"expired\"}");
            writer.end();
        });
        ctx.response().closeHandler(ignored -> {
            vertx.cancelTimer(expiry);
            clients.remove(writer);
        });
        String latest = last;
        if (latest != null) {
            writer.event("status", null, latest);
        }
        synchronized (this) {
            if (timer < 0) {
                timer = vertx.setPeriodic(0, EVERY_MS, id -> sample());
            }
        }
    }

    private synchronized void stopSampling() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
    }

    /** One sample for every connection; skipped while the previous one is still being read. */
    private synchronized void sample() {
        if (clients.isEmpty()) {
            stopSampling();
            return;
        }
        if (sampling) {
            return;
        }
        sampling = true;
        Future.all(projectionLag.get(), reads.pendingDeadLetters(), orderCounts()).onComplete(done -> {
            synchronized (this) {
                sampling = false;
            }
            JsonObject status = done.succeeded()
                    ? status(done.result().resultAt(0), done.result().resultAt(1), done.result().resultAt(2))
                    : new JsonObject().put("at", Instant.now().toString())
                            .put("error", "the figures could not be read: " + done.cause().getMessage());
            broadcast(status.encode());
        });
    }

    private JsonObject status(JsonObject projection, long deadLetters, JsonObject orders) {
        JsonObject stages = new JsonObject();
        Supplier<JsonObject> command = commandSide;
        JsonObject commandFigures = command == null ? null : command.get();
        stages.put("relay", known(commandFigures == null ? null : commandFigures.getJsonObject("relay")));
        stages.put("saga", known(commandFigures == null ? null : commandFigures.getJsonObject("saga")));
        stages.put("projector", projection.copy().put("known", true));
        stages.put("push", new JsonObject().put("known", true).put("connections", push.openConnections())
                .put("followerPosition", push.followerPosition()).put("pushedTotal", push.pushed())
                .put("dropped", push.droppedCount()));
        JsonObject parked = new JsonObject().put("projector", deadLetters);
        if (commandFigures != null) {
            parked.put("saga", commandFigures.getJsonObject("saga").getLong("deadLetters", 0L));
        }
        return new JsonObject()
                .put("at", Instant.now().toString())
                .put("stages", stages)
                .put("deadLetters", parked)
                .put("pushConnections", push.openConnections())
                .put("latency", latency.summary(LATENCY_WINDOW_MS))
                .put("orders", orders);
    }

    private static JsonObject known(JsonObject figures) {
        return figures == null ? new JsonObject().put("known", false).put("reason", NOT_HERE)
                : figures.copy().put("known", true);
    }

    /** The orders per status, counted again once the last count is older than 20 times its own cost (and 1 s). */
    private Future<JsonObject> orderCounts() {
        long now = System.nanoTime();
        if (now - countsAt < Math.max(EVERY_MS * 1_000_000 - 50_000_000, 20 * countNanos)) {
            return Future.succeededFuture(counts);
        }
        return reads.orderCountsByStatus().map(byStatus -> {
            long end = System.nanoTime();
            synchronized (this) {
                countNanos = end - now;
                countsAt = end;
                JsonObject fresh = new JsonObject();
                for (OrderStatus status : OrderStatus.values()) {
                    fresh.put(status.name(), byStatus.getOrDefault(status.name(), 0L));
                }
                counts = fresh;
            }
            return counts;
        });
    }

    private void broadcast(String status) {
        last = status;
        clients.forEach((writer, context) -> context.runOnContext(ignored -> {
            if (!writer.writeQueueFull()) {
                writer.event("status", null, status);
            }
        }));
    }
}
