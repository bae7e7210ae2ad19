package dev.orders.bench;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Command to browser, open loop: order {@code i} is due at {@code start + i / rate}, fixed in advance; its
 * latency runs from that due time (not from when it was actually sent, which may be later when the
 * generator or the client pool falls behind: no coordinated omission) to the arrival of its
 * APPROVED/REJECTED state on the customer's SSE stream.
 */
final class EndToEnd {

    /** One open-loop run at one rate. */
    record Run(int rate, int seconds, long scheduled, long delivered, long failed, long missing,
               Histogram endToEnd, Histogram command, Histogram baseline, double abortedAfterSeconds,
               double[] stagesMillis) {
        boolean aborted() {
            return abortedAfterSeconds > 0;
        }
    }

    private static final long HIGHEST = TimeUnit.SECONDS.toNanos(120);

    private final SystemUnderTest system;
    private final Http http;

    EndToEnd(SystemUnderTest system, Http http) {
        this.system = system;
        this.http = http;
    }

    /**
     * The same-run baseline: the round trip of {@code GET /health/live} through the same server, router
     * and client, open loop at 100/s for {@code seconds}, also measured from the due time.
     */
    Histogram baseline(int seconds) throws Exception {
        Histogram histogram = new SynchronizedHistogram(HIGHEST, 3);
        int rate = 100;
        long total = (long) rate * seconds;
        AtomicLong left = new AtomicLong(total);
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
        for (long i = 0; i < total; i++) {
            long due = start + i * 1_000_000_000L / rate;
            parkUntil(due);
            http.context().runOnContext(v -> http.send(HttpMethod.GET, "/health/live", null).onComplete(answer -> {
                histogram.recordValue(Math.min(System.nanoTime() - due, HIGHEST));
                left.decrementAndGet();
            }));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (left.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return histogram;
    }

    Run run(int rate, int seconds, int customerCount) throws Exception {
        List<UUID> customers = http.createCustomers(customerCount, "e2e-" + rate);
        Histogram endToEnd = new SynchronizedHistogram(HIGHEST, 3);
        Histogram command = new SynchronizedHistogram(HIGHEST, 3);
        Map<UUID, Long> dueOf = new ConcurrentHashMap<>();
        Map<UUID, Long> earlyArrival = new ConcurrentHashMap<>();
        AtomicLong delivered = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicLong answered = new AtomicLong();
        List<HttpClientResponse> streams = new ArrayList<>();
        for (UUID customer : customers) {
            streams.add(Http.await(http.openStream(customer, data -> {
                long now = System.nanoTime();
                JsonObject view = new JsonObject(data);
                String status = view.getString("status");
                if (!"APPROVED".equals(status) && !"REJECTED".equals(status)) {
                    return;
                }
                UUID orderId = UUID.fromString(view.getString("orderId"));
                Long due = dueOf.remove(orderId);
                if (due != null) {
                    endToEnd.recordValue(Math.min(now - due, HIGHEST));
                    delivered.incrementAndGet();
                } else {
                    earlyArrival.put(orderId, now); // pushed before the command's answer reached us
                }
            }), Duration.ofSeconds(30)));
        }
        Histogram baseline = baseline(Math.max(2, Math.min(5, seconds / 2)));
        long planned = (long) rate * seconds;
        long total = planned;
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        long overload = Math.max(200, 2L * rate);
        double abortedAfter = 0;
        for (long i = 0; i < planned; i++) {
            long due = start + i * 1_000_000_000L / rate;
            // more than 2 s of orders unanswered, or answered but not yet pushed: the system cannot sustain the rate
            if (i - answered.get() > overload || i - delivered.get() - failed.get() > overload) {
                total = i;
                abortedAfter = (System.nanoTime() - start) / 1e9;
                break;
            }
            UUID customer = customers.get((int) (i % customers.size()));
            parkUntil(due);
            http.context().runOnContext(v -> http.placeOrder(customer, "1.00").onComplete(answer -> {
                long now = System.nanoTime();
                answered.incrementAndGet();
                if (answer.failed() || answer.result().status() != 202) {
                    failed.incrementAndGet();
                    return;
                }
                command.recordValue(Math.min(now - due, HIGHEST));
                UUID orderId = UUID.fromString(answer.result().json().getString("orderId"));
                Long early = earlyArrival.remove(orderId);
                if (early != null) {
                    endToEnd.recordValue(Math.min(early - due, HIGHEST));
                    delivered.incrementAndGet();
                } else {
                    dueOf.put(orderId, due);
                }
            }));
        }
        // the tail: wait for every answer and every pushed outcome, at most 60 s after the last send
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.min(60, 10 + 2L * seconds));
        while ((answered.get() < total || delivered.get() + failed.get() < total) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        long missing = total - delivered.get() - failed.get();
        for (HttpClientResponse stream : streams) {
            stream.request().connection().close();
        }
        system.awaitQuiet(180_000);
        double[] stages = stages(customers);
        return new Run(rate, seconds, total, delivered.get(), failed.get(), missing, endToEnd, command, baseline,
                abortedAfter, stages);
    }

    /** Names of {@link #stages}' figures, in order. */
    static final String[] STAGES = {
            "OrderCreated to CreditReserved (relay, Kafka, saga: ReserveCredit)",
            "CreditReserved to OrderApproved (relay, Kafka, saga: ApproveOrder)",
            "OrderApproved to its row in the change log (relay, Kafka, projector)"};

    /**
     * Where the time went, from the stored timestamps of this run's orders (one clock: the same machine):
     * the median of each saga and projection hop, in milliseconds.
     */
    private double[] stages(List<UUID> customers) {
        StringBuilder ids = new StringBuilder();
        for (UUID id : customers) {
            ids.append(ids.isEmpty() ? "" : ",").append('\'').append(id).append("'::uuid");
        }
        String sql = "with c as (select stream_id o, occurred_at t0 from command.events where event_type = 'OrderCreated'"
                + " and (data->>'customerId')::uuid in (" + ids + ")),"
                + " r as (select (data->>'orderId')::uuid o, occurred_at t1 from command.events"
                + " where event_type = 'CreditReserved' and stream_id in (" + ids + ")),"
                + " a as (select e.stream_id o, e.occurred_at t2 from command.events e join c on c.o = e.stream_id"
                + " where e.event_type = 'OrderApproved'),"
                + " v as (select order_id o, min(changed_at) t3 from query.order_changes where customer_id in (" + ids + ")"
                + " and view->>'status' = 'APPROVED' group by order_id)"
                + " select concat_ws(' ',"
                + " percentile_cont(0.5) within group (order by extract(epoch from t1 - t0) * 1000),"
                + " percentile_cont(0.5) within group (order by extract(epoch from t2 - t1) * 1000),"
                + " percentile_cont(0.5) within group (order by extract(epoch from t3 - t2) * 1000))"
                + " from c join r using (o) join a using (o) join v using (o)";
        try {
            String[] parts = system.text(sql).split(" ");
            double[] values = new double[STAGES.length];
            for (int i = 0; i < values.length; i++) {
                values[i] = i < parts.length && !parts[i].isBlank() ? Double.parseDouble(parts[i]) : Double.NaN;
            }
            return values;
        } catch (Exception e) {
            double[] unknown = new double[STAGES.length];
            java.util.Arrays.fill(unknown, Double.NaN);
            return unknown;
        }
    }

    static void parkUntil(long due) {
        long wait;
        while ((wait = due - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
    }

    static Future<Void> none() {
        return Future.succeededFuture();
    }
}
