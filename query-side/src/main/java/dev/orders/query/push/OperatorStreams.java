package dev.orders.query.push;

import dev.orders.service.http.ContractRequests;
import dev.orders.service.http.ProblemException;
import dev.orders.service.http.Problems;
import dev.orders.service.security.Caller;
import dev.orders.service.security.OriginPolicy;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code GET /api/orders/stream}: every order change of every customer, for operators (403 for a
 * customer). It follows the node's {@link PushHub} (one follower per node, observed here), with the
 * ids, resume and coalescing of a customer's stream: a fresh connection gets the newest
 * {@link OperatorStreamSettings#recent()} changes of the log and then every later one; {@code Last-Event-ID}
 * replays exactly the changes after it, or, when it is too old or the replay too long, {@code reset}
 * and the recent changes. Each connection's rate is capped ({@link OperatorStream}).
 */
public final class OperatorStreams {

    public static final String PATH = "/api/orders/stream";

    private final Vertx vertx;
    private final OperatorStore store;
    private final PushSettings push;
    private final PushMetrics metrics;
    private final OperatorStreamSettings settings;
    private final OriginPolicy origins;
    private final Set<OperatorStream> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger streams = new AtomicInteger();

    public OperatorStreams(Vertx vertx, Pool pool, PushHub hub, PushSettings push, OperatorStreamSettings settings) {
        this.vertx = vertx;
        this.store = new OperatorStore(pool);
        this.push = push;
        this.metrics = hub.metrics();
        this.settings = settings;
        this.origins = new OriginPolicy(push.allowedOrigins());
        hub.observe(this::fanOut);
    }

    /**
     * Mount before {@code /api/orders/:orderId}, which would take "stream" for an id.
     *
     * @param contract the served query document, whose {@code streamAllOrders} states the parameters
     */
    public void mount(Router router, ContractRequests contract) {
        ContractRequests.Check operation = contract.operation("streamAllOrders");
        router.get(PATH).handler(ctx -> stream(ctx, operation)).failureHandler(Problems.failureHandler());
    }

    public Future<Void> close() {
        for (OperatorStream stream : List.copyOf(open)) {
            stream.context.runOnContext(ignored -> stream.close());
        }
        return Future.succeededFuture();
    }

    private void stream(RoutingContext ctx, ContractRequests.Check operation) {
        HttpServerRequest request = ctx.request();
        Caller caller = Caller.of(ctx);
        caller.requireOperator("watch every customer's orders");
        origins.requireStreamOrigin(request);
        operation.check(ctx);
        Long lastEventId = PushRequests.resumeId(request);
        if (streams.incrementAndGet() > settings.maxStreams()) {
            streams.decrementAndGet();
            throw ProblemException.unavailable("this node serves its maximum of " + settings.maxStreams()
                    + " operator streams; retry later", 5);
        }
        metrics.connectionOpened();
        Context context = vertx.getOrCreateContext();
        OperatorStream[] self = new OperatorStream[1];
        long expiry = vertx.setTimer(PushRequests.untilExpiry(caller), id -> {
            metrics.expired();
            self[0].expire();
            Problems.send(ctx, ProblemException.unauthorized("the token expired; sign in again, then resume"));
        });
        OperatorStream stream = new OperatorStream(context, vertx, settings, push, metrics, () -> {
            open.remove(self[0]);
            vertx.cancelTimer(expiry);
            streams.decrementAndGet();
            metrics.connectionClosed();
        });
        self[0] = stream;
        open.add(stream);
        ctx.response().closeHandler(ignored -> stream.closed());
        firstRead(lastEventId).onSuccess(start -> {
            if (!stream.isClosed()) {
                SseSink sink = new SseSink(SseWriter.start(ctx.response(), push.retryHint().toMillis()));
                stream.start(sink, sink::skipped, start.reset(), start.changes(), start.asOf());
            }
        }).onFailure(error -> {
            stream.closed();
            if (!ctx.response().headWritten()) {
                ctx.fail(error);
            }
        });
    }

    /** What a new connection sends before it goes live: a replay after its last id, or the recent changes. */
    private Future<Start> firstRead(Long lastEventId) {
        return store.recent(settings.recent()).compose(snapshot -> {
            Start recent = new Start(lastEventId != null, snapshot.latest(), snapshot.asOf());
            if (lastEventId == null) {
                return Future.succeededFuture(recent);
            }
            if (lastEventId > snapshot.asOf() || lastEventId < snapshot.minRetained() && snapshot.asOf() > 0) {
                return Future.succeededFuture(recent);
            }
            return store.replay(lastEventId, snapshot.asOf(), settings.maxReplay() + 1)
                    .map(changes -> changes.size() > settings.maxReplay() ? recent
                            : new Start(false, changes, snapshot.asOf()));
        });
    }

    private record Start(boolean reset, List<ChangeRow> changes, long asOf) {
    }

    /** On the follower's context: every operator stream gets every change, on its own context. */
    private void fanOut(List<ChangeRow> changes) {
        for (OperatorStream stream : open) {
            stream.context.runOnContext(ignored -> stream.offer(changes));
        }
    }
}
