package dev.orders.app.faults;

import dev.orders.events.StreamType;
import dev.orders.events.Topics;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;

/**
 * The audit every fault scenario ends with, once the load has stopped and the system has gone quiet:
 * <ul>
 *   <li>every acknowledged command's events are in the store exactly once, and no reaction happened twice;</li>
 *   <li>every stored event is in Kafka;</li>
 *   <li>the read model equals a fold of the store;</li>
 *   <li>every order is APPROVED, REJECTED or CANCELLED, and none timed out;</li>
 *   <li>no customer's reserved credit ever exceeded its limit, and, once quiet, it equals the sum of its approved
 *       orders (the wait for quiet lasts until it does: a cancelled order's release may come after its cancel is
 *       pushed; what still differs when the wait ends is a finding, with the orders that hold credit they should not);</li>
 *   <li>every SSE client saw every change of its orders exactly once, in order (one whose change log was
 *       lost, and that was told so by a reset, exactly once in order up to the reset and from the state
 *       the reset sent);</li>
 *   <li>no client got a 5xx other than 503, a 503 without Retry-After, or no answer.</li>
 * </ul>
 */
final class Audit {

    private static final Duration QUIET_TIMEOUT = Duration.ofSeconds(120);
    private static final Set<String> TERMINAL = Set.of("OrderApproved", "OrderRejected", "OrderCancelled");

    private final Connection db;
    private final String kafkaBootstrap;
    private final String topicPrefix;
    private final List<String> failures = new ArrayList<>();

    /** One stored event, as the audit needs it. */
    record Event(UUID eventId, String streamType, UUID streamId, int version, String type, JsonObject data,
                 Long globalPosition) {
    }

    /** An order folded from the store. */
    record FoldedOrder(UUID customerId, BigDecimal total, String status, String reason, int version) {
    }

    /** A customer folded from the store. */
    record FoldedCustomer(BigDecimal limit, BigDecimal reserved, int version) {
    }

    Audit(Connection db, String kafkaBootstrap, String topicPrefix) {
        this.db = db;
        this.kafkaBootstrap = kafkaBootstrap;
        this.topicPrefix = topicPrefix;
    }

    /**
     * Waits until the system is quiet (every order settled and its credit with it, every event published, projected
     * and pushed to its watcher), then checks everything; fails with every finding at once. Nothing seen while
     * waiting is a finding.
     */
    void check(SteadyLoad load, List<SseWatcher> watchers, ServiceClient client) throws Exception {
        long deadline = System.nanoTime() + QUIET_TIMEOUT.toNanos();
        while (!quiet(watchers) && System.nanoTime() < deadline) {
            Thread.sleep(250);
        }
        List<Event> events = events();
        Map<UUID, FoldedOrder> orders = foldOrders(events);
        checkAcknowledged(load, events);
        checkNoDuplicateEffects(events);
        checkInKafka(events);
        checkReadModel(orders, foldCustomers(events, orders, failures));
        checkSettled(orders);
        checkSse(watchers, orders);
        client.problems().forEach(p -> failures.add("client: " + p));
        if (!failures.isEmpty()) {
            throw new AssertionError(failures.size() + " audit findings:\n  " + String.join("\n  ",
                    failures.subList(0, Math.min(60, failures.size()))));
        }
    }

    private boolean quiet(List<SseWatcher> watchers) throws SQLException {
        List<Event> events = events();
        if (events.stream().anyMatch(e -> e.globalPosition() == null)) {
            return false;
        }
        Map<UUID, FoldedOrder> orders = foldOrders(events);
        if (orders.values().stream().anyMatch(o -> o.status().equals("PENDING"))) {
            return false;
        }
        // once quiet, every order's credit is settled (DESIGN.md, invariant 5): a release may still be on its way
        List<String> credit = new ArrayList<>();
        Map<UUID, FoldedCustomer> customers = foldCustomers(events, orders, credit);
        if (!credit.isEmpty() || !readModelDifferences(orders, customers).isEmpty()) {
            return false;
        }
        return watchers.stream().allMatch(w -> orders.entrySet().stream()
                .filter(o -> o.getValue().customerId().equals(w.customerId()))
                .allMatch(o -> w.lastVersion(o.getKey()) == o.getValue().version()));
    }

    List<Event> events() throws SQLException {
        List<Event> events = new ArrayList<>();
        try (Statement statement = db.createStatement();
             ResultSet rows = statement.executeQuery("SELECT e.event_id, e.stream_type, e.stream_id, e.version, e.event_type,"
                     + " e.data::text, p.global_position FROM command.events e"
                     + " LEFT JOIN command.event_positions p ON p.id = e.id ORDER BY e.stream_id, e.version")) {
            while (rows.next()) {
                long position = rows.getLong(7);
                Long positioned = rows.wasNull() ? null : position; // of the column read last: ask before any other
                events.add(new Event(rows.getObject(1, UUID.class), rows.getString(2), rows.getObject(3, UUID.class),
                        rows.getInt(4), rows.getString(5), new JsonObject(rows.getString(6)), positioned));
            }
        }
        return events;
    }

    static Map<UUID, FoldedOrder> foldOrders(List<Event> events) {
        Map<UUID, FoldedOrder> orders = new LinkedHashMap<>();
        for (Event e : events) {
            FoldedOrder before = orders.get(e.streamId());
            switch (e.type()) {
                case "OrderCreated" -> orders.put(e.streamId(), new FoldedOrder(
                        UUID.fromString(e.data().getString("customerId")), amount(e.data().getJsonObject("total")),
                        "PENDING", null, e.version()));
                case "OrderApproved" -> orders.put(e.streamId(), with(before, "APPROVED", null, e.version()));
                case "OrderRejected" -> orders.put(e.streamId(), with(before, "REJECTED", e.data().getString("reason"), e.version()));
                case "OrderCancelled" -> orders.put(e.streamId(), with(before, "CANCELLED", before.reason(), e.version()));
                default -> {
                    // a customer's event
                }
            }
        }
        return orders;
    }

    private static FoldedOrder with(FoldedOrder before, String status, String reason, int version) {
        return new FoldedOrder(before.customerId(), before.total(), status, reason, version);
    }

    /**
     * Folds the customers, adding to {@code findings} each moment their reserved credit exceeded the limit and each
     * customer whose reserved credit is not the total of its approved orders (the latter only holds once quiet).
     */
    static Map<UUID, FoldedCustomer> foldCustomers(List<Event> events, Map<UUID, FoldedOrder> orders,
                                                   List<String> findings) {
        Map<UUID, FoldedCustomer> customers = new LinkedHashMap<>();
        for (Event e : events) {
            FoldedCustomer before = customers.get(e.streamId());
            FoldedCustomer after = switch (e.type()) {
                case "CustomerCreated" -> new FoldedCustomer(amount(e.data().getJsonObject("creditLimit")), BigDecimal.ZERO.setScale(2),
                        e.version());
                case "CreditReserved" -> new FoldedCustomer(before.limit(),
                        before.reserved().add(amount(e.data().getJsonObject("amount"))), e.version());
                case "CreditReleased" -> new FoldedCustomer(before.limit(),
                        before.reserved().subtract(amount(e.data().getJsonObject("amount"))), e.version());
                case "CreditLimitExceeded" -> new FoldedCustomer(before.limit(), before.reserved(), e.version());
                default -> null;
            };
            if (after != null) {
                if (after.reserved().compareTo(after.limit()) > 0) {
                    findings.add("customer " + e.streamId() + " reserved " + after.reserved() + " over its limit "
                            + after.limit() + " at version " + e.version());
                }
                customers.put(e.streamId(), after);
            }
        }
        customers.forEach((id, customer) -> {
            BigDecimal approved = orders.values().stream()
                    .filter(o -> o.customerId().equals(id) && o.status().equals("APPROVED"))
                    .map(FoldedOrder::total).reduce(BigDecimal.ZERO, BigDecimal::add);
            if (customer.reserved().compareTo(approved) != 0) {
                findings.add("customer " + id + " reserves " + customer.reserved() + " but its approved orders total "
                        + approved + creditTrails(id, events, orders));
            }
        });
        return customers;
    }

    /**
     * The orders of a customer whose credit does not match their state (reserved and not approved, or approved and
     * not reserved), each with the customer's events about it and its own, in the order they were stored.
     */
    private static String creditTrails(UUID customerId, List<Event> events, Map<UUID, FoldedOrder> orders) {
        Map<UUID, BigDecimal> held = new LinkedHashMap<>();
        Map<UUID, List<String>> trails = new LinkedHashMap<>();
        List<Event> stored = new ArrayList<>(events);
        stored.sort(java.util.Comparator.comparing(e -> e.globalPosition() == null ? Long.MAX_VALUE : e.globalPosition()));
        for (Event e : stored) {
            UUID order = e.streamId().equals(customerId) && e.data().containsKey("orderId")
                    ? UUID.fromString(e.data().getString("orderId"))
                    : orders.containsKey(e.streamId()) && orders.get(e.streamId()).customerId().equals(customerId)
                    ? e.streamId() : null;
            if (order == null) {
                continue;
            }
            trails.computeIfAbsent(order, k -> new ArrayList<>()).add(e.type() + " v" + e.version() + " @" + e.globalPosition());
            switch (e.type()) {
                case "CreditReserved" -> held.merge(order, amount(e.data().getJsonObject("amount")), BigDecimal::add);
                case "CreditReleased" -> held.merge(order, amount(e.data().getJsonObject("amount")).negate(), BigDecimal::add);
                default -> { }
            }
        }
        StringBuilder out = new StringBuilder();
        held.forEach((order, amount) -> {
            FoldedOrder folded = orders.get(order);
            boolean approved = folded != null && folded.status().equals("APPROVED");
            if (approved ? amount.compareTo(folded.total()) != 0 : amount.signum() != 0) {
                out.append("; order ").append(order).append(' ').append(folded == null ? "unknown" : folded.status())
                        .append(" holds ").append(amount).append(": ").append(trails.get(order));
            }
        });
        return out.toString();
    }

    private void checkAcknowledged(SteadyLoad load, List<Event> events) {
        Map<UUID, Map<String, Integer>> counts = new HashMap<>();
        events.forEach(e -> counts.computeIfAbsent(e.streamId(), k -> new HashMap<>()).merge(e.type(), 1, Integer::sum));
        for (SteadyLoad.PlacedOrder order : load.placed) {
            int created = counts.getOrDefault(order.orderId(), Map.of()).getOrDefault("OrderCreated", 0);
            if (created != 1) {
                failures.add("acknowledged order " + order.orderId() + " has " + created + " OrderCreated events");
            }
        }
        for (UUID order : load.cancelled) {
            int cancelled = counts.getOrDefault(order, Map.of()).getOrDefault("OrderCancelled", 0);
            if (cancelled != 1) {
                failures.add("acknowledged cancel of " + order + " has " + cancelled + " OrderCancelled events");
            }
        }
    }

    /** Each reaction once: per order one outcome and at most one cancel; per customer and order one of each credit event. */
    private void checkNoDuplicateEffects(List<Event> events) {
        Map<String, Integer> effects = new HashMap<>();
        for (Event e : events) {
            String key = switch (e.type()) {
                case "OrderApproved", "OrderRejected" -> e.streamId() + " outcome";
                case "CreditReserved", "CreditLimitExceeded", "CreditReleased" ->
                        e.streamId() + " " + e.type() + " " + e.data().getString("orderId");
                default -> e.streamId() + " " + e.type();
            };
            effects.merge(key, 1, Integer::sum);
        }
        effects.forEach((effect, count) -> {
            if (count > 1) {
                failures.add(count + " times: " + effect);
            }
        });
    }

    private void checkInKafka(List<Event> events) {
        Set<UUID> published = new HashSet<>();
        List<String> topics = List.of(Topics.of(topicPrefix, StreamType.ORDER), Topics.of(topicPrefix, StreamType.CUSTOMER));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = topics.stream()
                    .flatMap(t -> consumer.partitionsFor(t, Duration.ofSeconds(30)).stream()
                            .map(p -> new TopicPartition(t, p.partition()))).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    Header id = record.headers().lastHeader(Topics.HEADER_EVENT_ID);
                    published.add(UUID.fromString(new String(id.value(), StandardCharsets.UTF_8)));
                }
            }
        }
        long missing = events.stream().filter(e -> !published.contains(e.eventId())).count();
        if (missing > 0) {
            failures.add(missing + " of " + events.size() + " stored events are not in Kafka");
        }
    }

    private void checkReadModel(Map<UUID, FoldedOrder> orders, Map<UUID, FoldedCustomer> customers) throws SQLException {
        failures.addAll(readModelDifferences(orders, customers));
    }

    private List<String> readModelDifferences(Map<UUID, FoldedOrder> orders, Map<UUID, FoldedCustomer> customers)
            throws SQLException {
        List<String> differences = new ArrayList<>();
        Map<UUID, String> orderViews = new HashMap<>();
        try (Statement statement = db.createStatement();
             ResultSet rows = statement.executeQuery("SELECT order_id, customer_id, status, reason, version, total_amount"
                     + " FROM query.order_view")) {
            while (rows.next()) {
                orderViews.put(rows.getObject(1, UUID.class), rows.getObject(2) + " " + rows.getString(3) + " "
                        + rows.getString(4) + " v" + rows.getInt(5) + " " + rows.getBigDecimal(6).setScale(2));
            }
        }
        Map<UUID, String> folded = new HashMap<>();
        orders.forEach((id, o) -> folded.put(id, o.customerId() + " " + o.status() + " " + o.reason() + " v" + o.version()
                + " " + o.total().setScale(2)));
        differences.addAll(diff("order", folded, orderViews));
        Map<UUID, String> customerViews = new HashMap<>();
        try (Statement statement = db.createStatement();
             ResultSet rows = statement.executeQuery("SELECT customer_id, credit_limit, credit_reserved, version FROM query.customer_view")) {
            while (rows.next()) {
                customerViews.put(rows.getObject(1, UUID.class), rows.getBigDecimal(2).setScale(2) + " "
                        + rows.getBigDecimal(3).setScale(2) + " v" + rows.getInt(4));
            }
        }
        Map<UUID, String> foldedCustomers = new HashMap<>();
        customers.forEach((id, c) -> foldedCustomers.put(id, c.limit().setScale(2) + " " + c.reserved().setScale(2) + " v" + c.version()));
        differences.addAll(diff("customer", foldedCustomers, customerViews));
        return differences;
    }

    private static List<String> diff(String what, Map<UUID, String> store, Map<UUID, String> view) {
        List<String> differences = new ArrayList<>();
        Set<UUID> ids = new HashSet<>(store.keySet());
        ids.addAll(view.keySet());
        for (UUID id : ids) {
            if (!Objects.equals(store.get(id), view.get(id))) {
                differences.add(what + " " + id + ": store folds to " + store.get(id) + ", read model has " + view.get(id));
            }
        }
        return differences;
    }

    private void checkSettled(Map<UUID, FoldedOrder> orders) {
        orders.forEach((id, o) -> {
            if (o.status().equals("PENDING")) {
                failures.add("order " + id + " is still PENDING");
            }
            if ("CREDIT_CHECK_TIMEOUT".equals(o.reason())) {
                failures.add("order " + id + " was rejected with CREDIT_CHECK_TIMEOUT");
            }
        });
    }

    private void checkSse(List<SseWatcher> watchers, Map<UUID, FoldedOrder> orders) {
        for (SseWatcher watcher : watchers) {
            int before = failures.size();
            watcher.problems.forEach(p -> failures.add("SSE client of " + watcher.customerId() + ": " + p));
            orders.forEach((id, o) -> {
                if (!o.customerId().equals(watcher.customerId())) {
                    return;
                }
                List<Integer> expected = IntStream.rangeClosed(1, o.version()).boxed().toList();
                List<Integer> seen = watcher.versions.getOrDefault(id, List.of());
                if (watcher.resetsExpected()) {
                    checkAcrossReset(watcher, id, seen, o.version());
                } else if (!seen.equals(expected)) {
                    failures.add("SSE client of " + watcher.customerId() + " saw order " + id + " as versions " + seen
                            + ", not " + expected + "; the change log holds " + changePositions(id));
                }
            });
            if (failures.size() > before) {
                failures.add("SSE client of " + watcher.customerId() + " connected (oldest first): "
                        + String.join(" | ", watcher.journal()));
            }
        }
    }

    /** Where the order-change log holds an order's versions ({@code version@position}), to set beside a client's ids. */
    private String changePositions(UUID order) {
        try (PreparedStatement changes = db.prepareStatement(
                "SELECT version, position FROM query.order_changes WHERE order_id = ? ORDER BY position")) {
            changes.setObject(1, order);
            List<String> held = new ArrayList<>();
            try (ResultSet rows = changes.executeQuery()) {
                while (rows.next()) {
                    held.add("v" + rows.getInt(1) + "@" + rows.getLong(2));
                }
            }
            return held.toString();
        } catch (SQLException e) {
            return "(not read: " + e.getMessage() + ")";
        }
    }

    /**
     * A client that may have been sent a reset: up to its stream's last fresh start, versions 1..k exactly once in
     * order; from the state sent then, the version the order had (at least k) and every later one, exactly once
     * in order.
     */
    private void checkAcrossReset(SseWatcher watcher, UUID order, List<Integer> seen, int version) {
        int before = Math.min(seen.size(), watcher.seenBeforeRestart.getOrDefault(order, 0));
        List<Integer> upToReset = seen.subList(0, before);
        List<Integer> fromReset = seen.subList(before, seen.size());
        int first = fromReset.isEmpty() ? -1 : fromReset.get(0);
        if (!upToReset.equals(IntStream.rangeClosed(1, before).boxed().toList()) || first < Math.max(1, before)
                || !fromReset.equals(IntStream.rangeClosed(first, version).boxed().toList())) {
            failures.add("SSE client of " + watcher.customerId() + " saw order " + order + " as versions " + upToReset
                    + " before its reset and " + fromReset + " from it, not 1.." + before + " and then s.." + version
                    + " with s >= " + Math.max(1, before));
        }
    }

    private static BigDecimal amount(JsonObject money) {
        return new BigDecimal(money.getString("amount")).setScale(2);
    }
}
