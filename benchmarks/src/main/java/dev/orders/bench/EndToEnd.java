package dev.orders.bench;

import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Command to browser, open loop: order {@code i} is due at {@code start + i / rate}, fixed in advance; its
 * latency runs from that due time (not from when it was actually sent, which may be later when the
 * generator or the client pool falls behind: no coordinated omission) to the arrival of its
 * APPROVED/REJECTED state on the customer's SSE stream. Each run counts what was accepted ({@code 202})
 * and what settled (its outcome seen on the stream), and reads the stored timestamps of its orders to
 * say where the time went, hop by hop.
 */
final class EndToEnd {

    /** A rate is sustained when every accepted order settles within this long of its scheduled send... */
    static final long SETTLE_WITHIN_MILLIS = 2_000;
    /** ...and the p99 from the scheduled send to the outcome on the stream stays under this. */
    static final long P99_UNDER_MILLIS = 1_000;

    /** The hops of an approved order, in order; each from the stored or observed time of the one before. */
    static final String[] HOPS = {
            "scheduled send -> POST handed to the client (generator lag)",
            "POST sent -> OrderCreated occurred_at (command received and decided)",
            "OrderCreated -> CreditReserved (commit, saga: ReserveCredit; or relay, Kafka, saga)",
            "CreditReserved -> OrderApproved (commit, saga: ApproveOrder; or relay, Kafka, saga)",
            "OrderApproved -> change-log row changed_at (relay, Kafka, projector)",
            "change-log row -> SSE arrival at the client (push hub, client)",
            "total: scheduled send -> APPROVED on the stream"};

    /** p50 and p99 of one hop over a run's approved orders, in milliseconds. */
    record Hop(double p50, double p99, int orders) {
    }

    /** One open-loop run at one rate. */
    record Run(String kind, int rate, int seconds, int customers, long scheduled, long accepted, long failed,
               long settled, long approved, long rejectedTimeout, long rejectedLimit, long rejectedOther,
               long unsettled, long settledLate, double settledPerSecond, double acceptedPerSecond,
               double settleSpanSeconds, Histogram endToEnd, Histogram command, Histogram baseline,
               double abortedAfterSeconds, long streamsEnded, Hop[] hops, double dbClockOffsetMillis,
               double dbClockUncertaintyMillis, int tailSeconds, CpuUse.PerOrder cpu) {

        boolean aborted() {
            return abortedAfterSeconds > 0;
        }

        /** Every accepted order settled within 2 s of its scheduled send, p99 under 1 s, nothing failed. */
        boolean sustained() {
            return whyNotSustained().isEmpty();
        }

        /** Why the rate was not sustained in this run; empty when it was. */
        String whyNotSustained() {
            List<String> why = new ArrayList<>();
            if (aborted()) {
                why.add(String.format(java.util.Locale.ROOT, "overloaded, stopped after %.1f s", abortedAfterSeconds));
            }
            if (failed > 0) {
                why.add(failed + " POSTs failed");
            }
            if (unsettled > 0) {
                why.add(unsettled + " not settled within the " + tailSeconds + " s tail");
            }
            if (settledLate > 0) {
                why.add(settledLate + " settled later than " + SETTLE_WITHIN_MILLIS / 1000 + " s");
            }
            double p99 = Benchmarks.ms(endToEnd, 99);
            if (!(p99 < P99_UNDER_MILLIS)) {
                why.add(String.format(java.util.Locale.ROOT, "p99 %.0f ms", p99));
            }
            if (streamsEnded > 0) {
                why.add(streamsEnded + " streams ended by the service");
            }
            return String.join("; ", why);
        }

        long rejected() {
            return rejectedTimeout + rejectedLimit + rejectedOther;
        }
    }

    private static final long HIGHEST = TimeUnit.SECONDS.toNanos(120);
    /** Wall-clock epoch nanoseconds minus {@link System#nanoTime()}: client times become comparable with stored ones. */
    private static final long WALL_OFFSET_NANOS = wallOffset();
    /** Every customer any run used: a run must never reuse one whose stream grew in an earlier run. */
    private static final Set<UUID> USED_CUSTOMERS = ConcurrentHashMap.newKeySet();

    private final SystemUnderTest system;
    private final Http http;
    private final CpuUse cpu;

    EndToEnd(SystemUnderTest system, Http http) throws Exception {
        this.system = system;
        this.http = http;
        this.cpu = CpuUse.of(system, http);
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
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (left.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return histogram;
    }

    /** An accepted order, as the client saw it (nanoTime). */
    private record Accepted(long due, long sent, long answered) {
    }

    /** An outcome seen on a stream: when, and what the view said. */
    private record Outcome(long arrival, String status, String reason) {
    }

    /**
     * One open-loop run: {@code rate} orders/s for {@code seconds}, round-robin over {@code customerCount}
     * customers created for this run only, one SSE stream each.
     *
     * @param kind what the run is for, as the report names it ("quiet", "search")
     */
    Run run(String kind, int rate, int seconds, int customerCount) throws Exception {
        List<UUID> customers = http.createCustomers(customerCount, "e2e-" + kind + "-" + rate);
        checkFresh(customers);
        Histogram command = new SynchronizedHistogram(HIGHEST, 3);
        Map<UUID, Accepted> accepted = new ConcurrentHashMap<>();
        Map<UUID, Outcome> outcomes = new ConcurrentHashMap<>();
        AtomicLong settledLive = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicLong answered = new AtomicLong();
        AtomicLong lastAnswer = new AtomicLong();
        AtomicLong streamsEnded = new AtomicLong();
        boolean[] closing = new boolean[1];
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
                if (outcomes.putIfAbsent(orderId, new Outcome(now, status, view.getString("reason"))) == null) {
                    settledLive.incrementAndGet();
                }
            }, () -> {
                if (!closing[0]) {
                    streamsEnded.incrementAndGet();
                }
            }), Http.STREAM_OPEN_TIMEOUT.plusSeconds(5)));
        }
        Histogram baseline = baseline(Math.max(2, Math.min(5, seconds / 2)));
        long planned = (long) rate * seconds;
        long total = planned;
        CpuUse.Sample cpuFrom = cpu.sample();
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        long overload = Math.max(200, 2L * rate);
        double abortedAfter = 0;
        for (long i = 0; i < planned; i++) {
            long due = start + i * 1_000_000_000L / rate;
            // more than 2 s of orders unanswered, or answered but not yet settled: the system cannot sustain the rate
            if (i - answered.get() > overload || i - settledLive.get() - failed.get() > overload) {
                total = i;
                abortedAfter = (System.nanoTime() - start) / 1e9;
                break;
            }
            UUID customer = customers.get((int) (i % customers.size()));
            parkUntil(due);
            http.context().runOnContext(v -> {
                long sent = System.nanoTime();
                http.placeOrder(customer, "1.00").onComplete(answer -> {
                    long now = System.nanoTime();
                    answered.incrementAndGet();
                    lastAnswer.accumulateAndGet(now, Math::max);
                    if (answer.failed() || answer.result().status() != 202) {
                        failed.incrementAndGet();
                        return;
                    }
                    command.recordValue(Math.min(now - due, HIGHEST));
                    accepted.put(UUID.fromString(answer.result().json().getString("orderId")), new Accepted(due, sent, now));
                });
            });
        }
        // the tail: wait for every answer and every accepted order's outcome, at most this long after the last send
        int tailSeconds = (int) Math.min(60, 10 + 2L * seconds);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(tailSeconds);
        while ((answered.get() < total || !outcomes.keySet().containsAll(accepted.keySet()))
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        CpuUse.Sample cpuTo = cpu.sample();
        closing[0] = true;
        for (HttpClientResponse stream : streams) {
            stream.request().connection().close();
        }
        system.awaitQuiet(180_000);

        // what settled, from the client's records
        Histogram endToEnd = new Histogram(HIGHEST, 3);
        long settled = 0;
        long approved = 0;
        long late = 0;
        long lastArrival = start;
        Map<UUID, Outcome> settledOf = new HashMap<>();
        for (Map.Entry<UUID, Accepted> order : accepted.entrySet()) {
            Outcome outcome = outcomes.get(order.getKey());
            if (outcome == null) {
                continue;
            }
            settled++;
            settledOf.put(order.getKey(), outcome);
            long latency = outcome.arrival() - order.getValue().due();
            endToEnd.recordValue(Math.max(0, Math.min(latency, HIGHEST)));
            if (latency > TimeUnit.MILLISECONDS.toNanos(SETTLE_WITHIN_MILLIS)) {
                late++;
            }
            if ("APPROVED".equals(outcome.status())) {
                approved++;
            }
            lastArrival = Math.max(lastArrival, outcome.arrival());
        }
        Stored stored = stored(customers, accepted.keySet());
        long rejectedTimeout = 0;
        long rejectedLimit = 0;
        long rejectedOther = 0;
        for (Map.Entry<UUID, Outcome> order : settledOf.entrySet()) {
            if (!"REJECTED".equals(order.getValue().status())) {
                continue;
            }
            String reason = order.getValue().reason() != null ? order.getValue().reason()
                    : stored.rejectionReason().get(order.getKey());
            switch (String.valueOf(reason)) {
                case "CREDIT_CHECK_TIMEOUT" -> rejectedTimeout++;
                case "CREDIT_LIMIT_EXCEEDED" -> rejectedLimit++;
                default -> rejectedOther++;
            }
        }
        double span = (lastArrival - start) / 1e9;
        double intakeSpan = (Math.max(lastAnswer.get(), start) - start) / 1e9;
        Hop[] hops = hops(accepted, settledOf, stored);
        return new Run(kind, rate, seconds, customers.size(), total, accepted.size(), failed.get() + (total - answered.get()),
                settled, approved, rejectedTimeout, rejectedLimit, rejectedOther, accepted.size() - settled, late,
                span > 0 ? settled / span : 0, intakeSpan > 0 ? accepted.size() / intakeSpan : 0, span, endToEnd, command,
                baseline, abortedAfter, streamsEnded.get(), hops, stored.dbOffsetNanos() / 1e6,
                stored.dbOffsetUncertaintyNanos() / 1e6, tailSeconds, CpuUse.PerOrder.between(cpuFrom, cpuTo, settled));
    }

    /**
     * Fails unless every customer is new to this harness and its stream holds only its CustomerCreated:
     * a run on customers whose streams grew in earlier runs would measure their history, not the rate.
     */
    private void checkFresh(List<UUID> customers) throws Exception {
        for (UUID customer : customers) {
            if (!USED_CUSTOMERS.add(customer)) {
                throw new IllegalStateException("customer " + customer + " was already used by an earlier run");
            }
        }
        long grown = system.rows("select count(*) from command.events where stream_id = any(?) and version > 1",
                row -> row.getLong(1), (Object) customers.toArray(UUID[]::new)).getFirst();
        if (grown > 0) {
            throw new IllegalStateException(grown + " events after CustomerCreated on this run's new customers");
        }
    }

    /** The stored times (epoch nanoseconds, this JVM's clock) of a run's orders, and their rejection reasons. */
    private record Stored(Map<UUID, Long> created, Map<UUID, Long> reserved, Map<UUID, Long> approvedAt,
                          Map<UUID, Long> changed, Map<UUID, String> rejectionReason, long dbOffsetNanos,
                          long dbOffsetUncertaintyNanos) {
    }

    private static final String MICROS = "(extract(epoch from %s) * 1000000)::bigint";

    /**
     * Reads the run's orders' events (occurred_at: stamped by the command side with this JVM's clock when
     * it decided) and their first APPROVED/REJECTED row in the order-change log (changed_at: {@code now()}
     * of the projector's transaction, PostgreSQL's clock, brought onto this JVM's clock with the offset
     * measured here once per run).
     */
    private Stored stored(List<UUID> customers, Set<UUID> orders) throws Exception {
        UUID[] customerIds = customers.toArray(UUID[]::new);
        UUID[] orderIds = orders.toArray(UUID[]::new);
        long[] offset = dbClockOffset();
        Map<UUID, Long> created = new HashMap<>();
        Map<UUID, Long> approvedAt = new HashMap<>();
        Map<UUID, String> reasons = new HashMap<>();
        system.rows("select stream_id, event_type, " + MICROS.formatted("occurred_at") + ", data->>'reason'"
                        + " from command.events where stream_id = any(?) and event_type in ('OrderCreated', 'OrderApproved', 'OrderRejected')",
                row -> {
                    UUID order = row.getObject(1, UUID.class);
                    long at = row.getLong(3) * 1000;
                    switch (row.getString(2)) {
                        case "OrderCreated" -> created.put(order, at);
                        case "OrderApproved" -> approvedAt.put(order, at);
                        default -> reasons.put(order, row.getString(4));
                    }
                    return null;
                }, (Object) orderIds);
        Map<UUID, Long> reserved = new HashMap<>();
        system.rows("select data->>'orderId', " + MICROS.formatted("occurred_at") + " from command.events"
                        + " where stream_id = any(?) and event_type = 'CreditReserved'",
                row -> reserved.put(UUID.fromString(row.getString(1)), row.getLong(2) * 1000), (Object) customerIds);
        Map<UUID, Long> changed = new HashMap<>();
        system.rows("select order_id, min(" + MICROS.formatted("changed_at") + ") from query.order_changes"
                        + " where customer_id = any(?) and view->>'status' in ('APPROVED', 'REJECTED') group by order_id",
                row -> changed.put(row.getObject(1, UUID.class), row.getLong(2) * 1000 - offset[0]), (Object) customerIds);
        return new Stored(created, reserved, approvedAt, changed, reasons, offset[0], offset[1]);
    }

    /**
     * PostgreSQL's clock minus this JVM's, in nanoseconds, and its uncertainty (half the round trip of the
     * best of five readings of {@code clock_timestamp()}). The same machine: it should be about zero.
     */
    private long[] dbClockOffset() throws Exception {
        long best = Long.MAX_VALUE;
        long offset = 0;
        for (int i = 0; i < 5; i++) {
            long before = wallNanos(System.nanoTime());
            long db = system.scalar("select " + MICROS.formatted("clock_timestamp()")) * 1000;
            long after = wallNanos(System.nanoTime());
            if (after - before < best) {
                best = after - before;
                offset = db - (before + after) / 2;
            }
        }
        return new long[] {offset, best / 2};
    }

    /** Each hop's p50 and p99 over the run's approved orders that have every timestamp. */
    private static Hop[] hops(Map<UUID, Accepted> accepted, Map<UUID, Outcome> settled, Stored stored) {
        List<long[]> values = new ArrayList<>();
        for (int i = 0; i < HOPS.length; i++) {
            values.add(new long[settled.size()]);
        }
        int n = 0;
        for (Map.Entry<UUID, Outcome> order : settled.entrySet()) {
            UUID id = order.getKey();
            Outcome outcome = order.getValue();
            Long created = stored.created().get(id);
            Long reserved = stored.reserved().get(id);
            Long approved = stored.approvedAt().get(id);
            Long changed = stored.changed().get(id);
            if (!"APPROVED".equals(outcome.status()) || created == null || reserved == null || approved == null
                    || changed == null) {
                continue;
            }
            Accepted a = accepted.get(id);
            long due = wallNanos(a.due());
            long sent = wallNanos(a.sent());
            long arrival = wallNanos(outcome.arrival());
            long[] chain = {due, sent, created, reserved, approved, changed, arrival};
            for (int hop = 0; hop < HOPS.length - 1; hop++) {
                values.get(hop)[n] = chain[hop + 1] - chain[hop];
            }
            values.get(HOPS.length - 1)[n] = arrival - due;
            n++;
        }
        Hop[] hops = new Hop[HOPS.length];
        for (int hop = 0; hop < HOPS.length; hop++) {
            long[] sorted = Arrays.copyOf(values.get(hop), n);
            Arrays.sort(sorted);
            hops[hop] = new Hop(percentile(sorted, 50) / 1e6, percentile(sorted, 99) / 1e6, n);
        }
        return hops;
    }

    private static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    /** A {@link System#nanoTime()} reading as wall-clock epoch nanoseconds. */
    static long wallNanos(long nanoTime) {
        return nanoTime + WALL_OFFSET_NANOS;
    }

    /** The offset read with the smallest gap between two nanoTime readings around one Instant.now(). */
    private static long wallOffset() {
        long best = Long.MAX_VALUE;
        long offset = 0;
        for (int i = 0; i < 200; i++) {
            long before = System.nanoTime();
            Instant now = Instant.now();
            long after = System.nanoTime();
            if (after - before < best) {
                best = after - before;
                offset = now.getEpochSecond() * 1_000_000_000L + now.getNano() - (before + after) / 2;
            }
        }
        return offset;
    }

    static void parkUntil(long due) {
        long wait;
        while ((wait = due - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
    }

    /** How many customers the harness has used so far, all different. */
    static int customersUsed() {
        return new HashSet<>(USED_CUSTOMERS).size();
    }
}
