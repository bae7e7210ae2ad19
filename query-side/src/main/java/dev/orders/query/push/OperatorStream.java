package dev.orders.query.push;

import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.LongConsumer;

/**
 * One operator's stream of every order change, on its connection's context. Like a customer's
 * {@link Subscription} it is registered for live changes before the first read, delivers only changes
 * after the position that read was taken at, and writes strictly increasing ids. Unlike it, its rate is
 * capped: every change waits in a map of the latest state per order (a change replaces the order's
 * waiting one, and takes its place in position order), written oldest position first while the
 * connection's token bucket has tokens. When more orders wait than the bound, the oldest waiting one
 * is dropped and counted; before the next order event the client gets {@code event: skipped} with how
 * many, so that it knows its picture is incomplete (and can re-read counts or lists). So 1,000 orders/s
 * cost a connection at most its rate and its bounded map, never a growing queue.
 */
final class OperatorStream {

    private enum Phase { STARTING, LIVE, CLOSED }

    final Context context;
    private final Vertx vertx;
    private final OperatorStreamSettings settings;
    private final PushSettings push;
    private final PushMetrics metrics;
    private final Runnable onClosed;
    private PushSink sink;
    private LongConsumer skippedNotice;
    private Phase phase = Phase.STARTING;
    private List<ChangeRow> backlog = new ArrayList<>();
    private boolean backlogOverflow;
    private final Map<UUID, ChangeRow> waiting = new LinkedHashMap<>();
    private long skipped;
    private long accepted;
    private int tokens;
    private long tickTimer = -1;
    private long heartbeatTimer = -1;
    private long stalledSince = -1;

    OperatorStream(Context context, Vertx vertx, OperatorStreamSettings settings, PushSettings push,
                   PushMetrics metrics, Runnable onClosed) {
        this.context = context;
        this.vertx = vertx;
        this.settings = settings;
        this.push = push;
        this.metrics = metrics;
        this.onClosed = onClosed;
        this.tokens = settings.ratePerSecond();
    }

    boolean isClosed() {
        return phase == Phase.CLOSED;
    }

    /** Live changes, in position order. */
    void offer(List<ChangeRow> changes) {
        switch (phase) {
            case CLOSED -> {
            }
            case STARTING -> {
                if (!backlogOverflow) {
                    backlog.addAll(changes);
                    if (backlog.size() > settings.maxBacklog()) {
                        backlogOverflow = true;
                        backlog = new ArrayList<>();
                    }
                }
            }
            case LIVE -> {
                changes.forEach(this::accept);
                flush();
            }
        }
    }

    /**
     * Sends {@code changes} (the recent ones or a replay) after an optional reset, then goes live after
     * {@code asOf}; {@code skipped} tells the client how many changes the rate cap dropped.
     */
    void start(PushSink transport, LongConsumer skipped, boolean reset, List<ChangeRow> changes, long asOf) {
        if (phase != Phase.STARTING) {
            return;
        }
        sink = transport;
        skippedNotice = skipped;
        sink.drainHandler(ignored -> flush());
        if (reset) {
            metrics.reset();
            sink.reset();
        }
        changes.forEach(this::enqueue);
        phase = Phase.LIVE;
        flush();
        List<ChangeRow> buffered = backlog;
        backlog = null;
        if (backlogOverflow) {
            metrics.dropped();
            close();
            return;
        }
        accepted = asOf;
        buffered.forEach(this::accept);
        flush();
        tickTimer = vertx.setPeriodic(settings.tick().toMillis(), id -> tick());
        long every = push.heartbeat().toMillis();
        heartbeatTimer = vertx.setPeriodic(every, every, id -> {
            if (!sink.writeQueueFull()) {
                sink.heartbeat();
            }
        });
    }

    void close() {
        if (sink != null) {
            sink.close();
        }
        closed();
    }

    void expire() {
        if (phase != Phase.CLOSED && sink != null) {
            sink.expired();
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
        waiting.clear();
        if (tickTimer >= 0) {
            vertx.cancelTimer(tickTimer);
        }
        if (heartbeatTimer >= 0) {
            vertx.cancelTimer(heartbeatTimer);
        }
        onClosed.run();
    }

    private void accept(ChangeRow change) {
        if (change.position() > accepted) {
            accepted = change.position();
            enqueue(change);
        }
    }

    /** Waits in position order: a newer change of a waiting order replaces it at the end. */
    private void enqueue(ChangeRow change) {
        if (waiting.remove(change.orderId()) != null) {
            metrics.coalesced();
        }
        waiting.put(change.orderId(), change);
        if (waiting.size() > settings.maxPending()) {
            Iterator<ChangeRow> oldest = waiting.values().iterator();
            oldest.next();
            oldest.remove();
            skipped++;
        }
    }

    private void tick() {
        tokens = Math.min(settings.ratePerSecond(), tokens + settings.tokensPerTick());
        flush();
    }

    private void flush() {
        if (phase != Phase.LIVE) {
            return;
        }
        if (sink.writeQueueFull()) {
            long now = System.nanoTime();
            if (stalledSince < 0) {
                stalledSince = now;
            } else if (now - stalledSince > push.stallTimeout().toNanos()) {
                metrics.dropped();
                close();
            }
            return;
        }
        stalledSince = -1;
        if (skipped > 0 && !waiting.isEmpty()) {
            skippedNotice.accept(skipped);
            skipped = 0;
        }
        Iterator<ChangeRow> next = waiting.values().iterator();
        while (tokens > 0 && next.hasNext() && !sink.writeQueueFull()) {
            ChangeRow change = next.next();
            next.remove();
            tokens--;
            sink.order(change);
            metrics.pushed(change.changedAt() == null ? 0 : System.currentTimeMillis() - change.changedAt().toEpochMilli());
        }
    }
}
