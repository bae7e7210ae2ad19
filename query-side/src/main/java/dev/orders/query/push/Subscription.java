package dev.orders.query.push;

import dev.orders.service.tracing.TraceAttributes;
import dev.orders.service.tracing.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * One client's stream of one {@link Watch}, independent of the transport (SSE or WebSocket). Every
 * method runs on the connection's context; the hub's fan-out hops onto it.
 * <p>
 * Lifecycle: created and registered for live changes BEFORE the current state is read; changes that
 * arrive meanwhile wait in a bounded backlog. {@link #send} writes the state (or the replay) read as of
 * position {@code asOf}; {@link #goLive} then delivers only changes after {@code asOf}: no window,
 * no duplicate. Ids written are strictly increasing, so a client's last id always means "I have the
 * effect of everything up to here".
 * <p>
 * Who sees what: a subscription with an {@code owner} (its caller is that customer) writes only that
 * customer's orders, whatever reaches it (state, replay, live); so an order stream of a customer that
 * names another's order writes nothing, as for an order that never comes.
 * <p>
 * Backpressure: while the transport's write queue is full, changes are coalesced to the latest per
 * order in a map of at most {@code maxPendingOrders} entries, flushed oldest position first on drain.
 * A client stalled past {@code stallTimeout}, or with more stalled orders than the bound, is closed and
 * resumes with its last id. So a connection never holds more than its bounded backlog or pending map.
 */
final class Subscription {

    private enum Phase { STARTING, LIVE, CLOSED }

    private static final Comparator<ChangeRow> BY_POSITION = Comparator.comparingLong(ChangeRow::position);

    final Watch watch;
    /** The only customer whose orders this subscription may write, or null for all (an operator's). */
    private final UUID owner;
    final Context context;
    private final Vertx vertx;
    private final Tracing tracing;
    private final PushSettings settings;
    private final PushMetrics metrics;
    private final Runnable onClosed;

    private Phase phase = Phase.STARTING;
    private PushSink sink;
    private UUID customerId;
    private List<ChangeRow> backlog = new ArrayList<>();
    private boolean backlogOverflow;
    private final Map<UUID, ChangeRow> pending = new LinkedHashMap<>();
    private long accepted;
    /** The highest id this client holds: the one it resumed with, then the position of each change written. */
    private long shown = -1;
    private long stallTimer = -1;
    private long heartbeatTimer = -1;

    Subscription(Watch watch, UUID owner, Context context, Vertx vertx, PushSettings settings, PushMetrics metrics,
                 Runnable onClosed) {
        this.watch = watch;
        this.owner = owner;
        this.context = context;
        this.vertx = vertx;
        this.tracing = Tracing.of(vertx);
        this.settings = settings;
        this.metrics = metrics;
        this.onClosed = onClosed;
    }

    UUID customerId() {
        return customerId;
    }

    void customerId(UUID customerId) {
        this.customerId = customerId;
    }

    boolean isClosed() {
        return phase == Phase.CLOSED;
    }

    /** Live changes from the follower, in position order. */
    void offer(List<ChangeRow> changes) {
        switch (phase) {
            case CLOSED -> {
            }
            case STARTING -> {
                if (backlogOverflow) {
                    return;
                }
                backlog.addAll(changes);
                if (backlog.size() > settings.maxBacklog()) {
                    backlogOverflow = true;
                    backlog = new ArrayList<>();
                }
            }
            case LIVE -> changes.forEach(this::accept);
        }
    }

    /** Attaches the transport; from now on the client's connection carries this subscription. */
    void attach(PushSink sink) {
        this.sink = sink;
        sink.drainHandler(ignored -> drain());
    }

    void reset() {
        if (phase != Phase.CLOSED) {
            metrics.reset();
            sink.reset();
        }
    }

    /** Sends state or replayed changes (oldest first), under the same backpressure as live ones. */
    void send(List<ChangeRow> changes) {
        changes.forEach(this::enqueue);
    }

    /**
     * Everything up to {@code asOf} has been sent (or superseded): gives the client {@code asOf} as its resume id
     * when it holds a lower one (its state or replay ends below it, or is empty) and nothing waits to be written,
     * then delivers the buffered and live changes after it. Without that id a client cut before any change of
     * its own would come back as a new one and be sent only the state: each change in between would be lost.
     *
     * @param resumedFrom the id the client resumed with, or -1 (a new client, or one sent a reset)
     */
    void goLive(long asOf, long resumedFrom) {
        if (phase != Phase.STARTING) {
            return;
        }
        phase = Phase.LIVE;
        List<ChangeRow> buffered = backlog;
        backlog = null;
        if (backlogOverflow) {
            drop();
            return;
        }
        shown = Math.max(shown, resumedFrom);
        if (asOf > shown && pending.isEmpty() && !sink.writeQueueFull()) {
            sink.position(asOf);
            shown = asOf;
        }
        accepted = asOf;
        buffered.forEach(this::accept);
        long every = settings.heartbeat().toMillis();
        heartbeatTimer = vertx.setPeriodic(every, every, id -> heartbeat());
    }

    /** Closes the connection, which calls {@link #closed}. */
    void close() {
        if (sink != null) {
            sink.close();
        }
        closed();
    }

    /** The caller's token expired: an attached transport tells its client and ends, then everything is released. */
    void expire() {
        endWith(PushSink::expired);
    }

    /** This node shuts down: an attached transport tells its client to reconnect elsewhere and ends. */
    void moveOn() {
        endWith(PushSink::moveOn);
    }

    private void endWith(Consumer<PushSink> lastWords) {
        if (phase == Phase.CLOSED) {
            return;
        }
        if (sink != null) {
            lastWords.accept(sink);
        }
        closed();
    }

    /** The transport is gone: release everything. Idempotent. */
    void closed() {
        if (phase == Phase.CLOSED) {
            return;
        }
        phase = Phase.CLOSED;
        backlog = null;
        pending.clear();
        cancelStall();
        if (heartbeatTimer >= 0) {
            vertx.cancelTimer(heartbeatTimer);
        }
        onClosed.run();
    }

    private void accept(ChangeRow change) {
        if (change.position() <= accepted) {
            return;
        }
        accepted = change.position();
        enqueue(change);
    }

    private void enqueue(ChangeRow change) {
        if (phase == Phase.CLOSED || owner != null && !owner.equals(change.customerId())) {
            return;
        }
        if (pending.isEmpty() && !sink.writeQueueFull()) {
            write(change);
            return;
        }
        if (pending.put(change.orderId(), change) != null) {
            metrics.coalesced();
        }
        if (pending.size() > settings.maxPendingOrders()) {
            drop();
            return;
        }
        startStall();
    }

    private void write(ChangeRow change) {
        // in the order's trace when this process projected the change (else the trace ends at the projector)
        String projected = tracing.enabled() ? tracing.takeOver(ChangeRow.traceKey(change.orderId(), change.version())) : null;
        Span span = projected == null ? Span.getInvalid()
                : tracing.start(sink instanceof SseSink ? "push sse" : "push websocket", SpanKind.PRODUCER, projected);
        if (span.isRecording()) {
            span.setAttribute(TraceAttributes.STREAM_ID, change.orderId().toString());
            span.setAttribute(TraceAttributes.STREAM_VERSION, (long) change.version());
        }
        sink.order(change);
        shown = Math.max(shown, change.position());
        span.end();
        if (change.changedAt() != null) {
            metrics.pushed(System.currentTimeMillis() - change.changedAt().toEpochMilli());
        } else {
            metrics.pushed(0);
        }
    }

    private void drain() {
        if (phase == Phase.CLOSED) {
            return;
        }
        if (!pending.isEmpty()) {
            List<ChangeRow> ordered = new ArrayList<>(pending.values());
            ordered.sort(BY_POSITION);
            pending.clear();
            for (ChangeRow change : ordered) {
                if (pending.isEmpty() && !sink.writeQueueFull()) {
                    write(change);
                } else {
                    pending.put(change.orderId(), change);
                }
            }
        }
        if (pending.isEmpty() && !sink.writeQueueFull()) {
            cancelStall();
        }
    }

    private void heartbeat() {
        if (phase != Phase.LIVE) {
            return;
        }
        if (sink.writeQueueFull()) {
            startStall();
        } else {
            sink.heartbeat();
        }
    }

    private void startStall() {
        if (stallTimer < 0) {
            stallTimer = vertx.setTimer(settings.stallTimeout().toMillis(), id -> {
                stallTimer = -1;
                if (phase != Phase.CLOSED && (!pending.isEmpty() || sink.writeQueueFull())) {
                    drop();
                }
            });
        }
    }

    private void cancelStall() {
        if (stallTimer >= 0) {
            vertx.cancelTimer(stallTimer);
            stallTimer = -1;
        }
    }

    private void drop() {
        metrics.dropped();
        close();
    }
}
