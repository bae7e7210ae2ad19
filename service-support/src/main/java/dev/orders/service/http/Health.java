package dev.orders.service.http;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * {@code GET /health/live} (the process answers) and {@code GET /health/ready} (every dependency
 * answers). Each check is a named future that succeeds with details or fails with the reason; a check
 * that has not answered within {@link #CHECK_DEADLINE_MILLIS} is DOWN (a broker that is gone or a
 * database that does not answer must make readiness say so at once, not hang it).
 */
public final class Health {

    /** The liveness probe's path: the process answers. */
    public static final String LIVE = "/health/live";
    /** The readiness probe's path: every dependency answers. */
    public static final String READY = "/health/ready";
    /** How long a check may take before it counts as DOWN. */
    public static final long CHECK_DEADLINE_MILLIS = 3_000;

    private final Map<String, Supplier<Future<JsonObject>>> checks = new LinkedHashMap<>();
    /** Set when the process begins to stop: readiness answers 503 from then on. */
    private volatile boolean draining;

    /** The process begins to stop: readiness answers {@code 503 DRAINING}, so balancers send nothing new. */
    public void drain() {
        draining = true;
    }

    /** Adds a readiness check; the name shows in the readiness detail. */
    public Health check(String name, Supplier<Future<JsonObject>> check) {
        checks.put(name, check);
        return this;
    }

    public void mount(Router router) {
        router.get(LIVE).handler(ctx -> ctx.json(new JsonObject().put("status", "UP")));
        router.get(READY).handler(ctx -> ready().onComplete(done -> {
            JsonObject body = done.result();
            ctx.response().setStatusCode("UP".equals(body.getString("status")) ? 200 : 503);
            ctx.json(body);
        }));
    }

    /** Runs every check; never fails: a failing check shows as DOWN with its reason. */
    public Future<JsonObject> ready() {
        if (draining) {
            return Future.succeededFuture(new JsonObject().put("status", "DRAINING"));
        }
        List<String> names = List.copyOf(checks.keySet());
        List<Future<JsonObject>> results = names.stream()
                .map(name -> run(checks.get(name)))
                .toList();
        return Future.join(results).transform(ignored -> {
            JsonObject details = new JsonObject();
            boolean up = true;
            for (int i = 0; i < names.size(); i++) {
                Future<JsonObject> result = results.get(i);
                if (result.succeeded()) {
                    details.put(names.get(i), new JsonObject().put("status", "UP").mergeIn(result.result()));
                } else {
                    up = false;
                    details.put(names.get(i), new JsonObject().put("status", "DOWN")
                            .put("error", String.valueOf(result.cause().getMessage())));
                }
            }
            return Future.succeededFuture(new JsonObject().put("status", up ? "UP" : "DOWN").put("checks", details));
        });
    }

    private static Future<JsonObject> run(Supplier<Future<JsonObject>> check) {
        try {
            return check.get().timeout(CHECK_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
                    .recover(failure -> Future.failedFuture(failure instanceof TimeoutException
                            ? new TimeoutException("no answer within " + CHECK_DEADLINE_MILLIS + " ms") : failure));
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
    }
}
