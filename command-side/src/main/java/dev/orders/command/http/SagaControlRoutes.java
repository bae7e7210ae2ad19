package dev.orders.command.http;

import dev.orders.command.saga.SagaVerticle;
import dev.orders.service.http.CorrelationIds;
import dev.orders.service.http.ProblemException;
import dev.orders.service.http.Problems;
import dev.orders.service.security.Caller;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/**
 * An operator's brake on the saga: {@code POST} {@value #PAUSE} stops this instance's saga from handling
 * records (they wait in Kafka and in its queues, uncommitted, and the lag grows; orders stay {@code PENDING}),
 * {@code POST} {@value #RESUME} lets it go on where it stopped. Both answer {@code {"paused": true|false}}.
 * For holding the saga's commands back while something it depends on is repaired. Operators only. A process
 * that runs no saga ({@code command.workers=false}) answers {@code 409}: the saga is paused where it runs.
 */
public final class SagaControlRoutes {

    private static final Logger LOG = LoggerFactory.getLogger(SagaControlRoutes.class);
    public static final String PAUSE = "/api/admin/saga/pause";
    public static final String RESUME = "/api/admin/saga/resume";

    /** This process's saga; null where it runs none. */
    private final SagaVerticle saga;

    public SagaControlRoutes(SagaVerticle saga) {
        this.saga = saga;
    }

    public void mount(Router router) {
        // lambdas, not saga::pauseConsumer: where no saga runs there is none to bind, and the answer is a 409
        router.post(PAUSE).handler(ctx -> control(ctx, "pause", () -> saga.pauseConsumer()))
                .failureHandler(Problems.failureHandler());
        router.post(RESUME).handler(ctx -> control(ctx, "resume", () -> saga.resumeConsumer()))
                .failureHandler(Problems.failureHandler());
    }

    private void control(RoutingContext ctx, String what, Supplier<Future<Void>> action) {
        Caller.of(ctx).requireOperator(what + " the saga");
        if (saga == null) {
            throw ProblemException.conflict("this process runs no saga (command.workers=false); " + what
                    + " it on a process that runs it");
        }
        LOG.warn("an operator asked the saga to {} [correlationId={}]", what, CorrelationIds.of(ctx));
        action.get().onSuccess(ignored -> ctx.json(new JsonObject().put("paused", saga.paused())))
                .onFailure(ctx::fail);
    }
}
