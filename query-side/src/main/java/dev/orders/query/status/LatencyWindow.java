package dev.orders.query.status;

import dev.orders.events.Instants;
import dev.orders.query.push.ChangeRow;
import io.vertx.core.json.JsonObject;

import java.time.Clock;
import java.util.Arrays;
import java.util.List;

/**
 * The recent command-to-push latencies seen by this node: for each order's first decision (the change
 * to version 2, APPROVED or REJECTED) the time from the order's {@code createdAt} (the command side's
 * clock when it accepted the command) to the moment this node's push hub read the change, which is
 * when it is written to the browsers watching it. Kept in a ring of the latest {@value #CAPACITY}
 * samples; percentiles are over those of the last {@code window}. Across two nodes the figure includes
 * their clocks' difference. Thread-safe.
 */
public final class LatencyWindow {

    static final int CAPACITY = 8_192;

    private final Clock clock;
    private final long[] at = new long[CAPACITY];
    private final long[] millis = new long[CAPACITY];
    private int next;
    private int size;

    /** @param clock this node's clock: when a change is read, and where the window ends */
    public LatencyWindow(Clock clock) {
        this.clock = clock;
    }

    /** Observes a batch of changes read by the push hub. */
    public void observe(List<ChangeRow> changes) {
        long now = clock.millis();
        for (ChangeRow change : changes) {
            if (change.version() == 2) {
                JsonObject view = new JsonObject(change.view());
                String status = view.getString("status");
                if ("APPROVED".equals(status) || "REJECTED".equals(status)) {
                    record(now, now - Instants.parse(view.getString("createdAt")).toEpochMilli());
                }
            }
        }
    }

    synchronized void record(long whenMillis, long latencyMillis) {
        at[next] = whenMillis;
        millis[next] = Math.max(0, latencyMillis);
        next = (next + 1) % CAPACITY;
        size = Math.min(CAPACITY, size + 1);
    }

    /** {@code {"windowSeconds", "count", "p50", "p90", "p99", "max"}} in milliseconds; no percentiles when empty. */
    public JsonObject summary(long windowMillis) {
        long[] recent;
        synchronized (this) {
            long since = clock.millis() - windowMillis;
            recent = new long[size];
            int n = 0;
            for (int i = 0; i < size; i++) {
                if (at[i] >= since) {
                    recent[n++] = millis[i];
                }
            }
            recent = Arrays.copyOf(recent, n);
        }
        Arrays.sort(recent);
        JsonObject json = new JsonObject().put("windowSeconds", windowMillis / 1000).put("count", recent.length);
        if (recent.length > 0) {
            json.put("p50", percentile(recent, 50)).put("p90", percentile(recent, 90))
                    .put("p99", percentile(recent, 99)).put("max", recent[recent.length - 1]);
        }
        return json;
    }

    private static long percentile(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }
}
