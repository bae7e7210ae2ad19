package dev.orders.query.store;

import dev.orders.events.OrderStatus;
import dev.orders.query.model.CustomerView;
import dev.orders.query.model.OrderView;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/** The read side of the read model: every query the HTTP API answers. */
public final class ReadStore {

    /** One page of a keyset-paged list; {@code more} when another page follows the last item. */
    public record Page<T>(List<T> items, boolean more) {
    }

    /** The sort key of a customer's order list: (created_at, order_id), both descending. */
    public record OrderKey(Instant createdAt, UUID orderId) {
    }

    /** The sort key of the customer list: (available credit, customer_id), both descending. */
    public record CreditKey(BigDecimal available, UUID customerId) {
    }

    /** A checkpoint row, for lag. */
    public record CheckpointRow(String topic, int partition, long nextOffset, long lastPosition, Instant lastOccurredAt) {
    }

    private final Pool pool;

    public ReadStore(Pool pool) {
        this.pool = pool;
    }

    public Future<Optional<OrderView>> order(UUID orderId) {
        return pool.preparedQuery(Sql.ORDER_BY_ID).execute(Tuple.of(orderId))
                .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(Rows.order(rows.iterator().next())));
    }

    public Future<Optional<CustomerView>> customer(UUID customerId) {
        return pool.preparedQuery(Sql.CUSTOMER_BY_ID).execute(Tuple.of(customerId))
                .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(Rows.customer(rows.iterator().next())));
    }

    public Future<Boolean> customerExists(UUID customerId) {
        return pool.preparedQuery(Sql.CUSTOMER_EXISTS).execute(Tuple.of(customerId)).map(rows -> rows.size() > 0);
    }

    /** The events of an order stream, oldest first; up to {@code asOf} inclusive when it is given. */
    public Future<List<StoredEvent>> orderEvents(UUID orderId, Instant asOf) {
        var query = asOf == null
                ? pool.preparedQuery(Sql.ORDER_EVENTS).execute(Tuple.of(orderId))
                : pool.preparedQuery(Sql.ORDER_EVENTS_AS_OF).execute(Tuple.of(orderId, Rows.time(asOf)));
        return query.map(rows -> {
            List<StoredEvent> events = new ArrayList<>();
            rows.forEach(row -> events.add(Rows.event(row)));
            return events;
        });
    }

    public Future<Page<OrderView>> ordersOfCustomer(UUID customerId, OrderStatus status, int limit, OrderKey after) {
        Tuple params = Tuple.of(customerId, status == null ? null : status.name(),
                after == null ? null : Rows.time(after.createdAt()), after == null ? null : after.orderId(), limit + 1);
        return pool.preparedQuery(Sql.ORDERS_OF_CUSTOMER).execute(params).map(rows -> {
            List<OrderView> items = new ArrayList<>();
            rows.forEach(row -> items.add(Rows.order(row)));
            return page(items, limit);
        });
    }

    /** Every customer's orders, newest first, optionally of one status (the operators' list). */
    public Future<Page<OrderView>> orders(OrderStatus status, int limit, OrderKey after) {
        Tuple params = Tuple.of(status == null ? null : status.name(),
                after == null ? null : Rows.time(after.createdAt()), after == null ? null : after.orderId(), limit + 1);
        return pool.preparedQuery(Sql.ORDERS_NEWEST_FIRST).execute(params).map(rows -> {
            List<OrderView> items = new ArrayList<>();
            rows.forEach(row -> items.add(Rows.order(row)));
            return page(items, limit);
        });
    }

    /** The number of orders of each status; a status without orders is absent. */
    public Future<Map<String, Long>> orderCountsByStatus() {
        return pool.query(Sql.ORDER_COUNTS_BY_STATUS).execute().map(rows -> {
            Map<String, Long> counts = new TreeMap<>();
            rows.forEach(row -> counts.put(row.getString("status"), row.getLong("orders")));
            return counts;
        });
    }

    public Future<Page<CustomerView>> customersByAvailableCredit(BigDecimal min, String currency, int limit,
                                                                 CreditKey after) {
        Tuple params = Tuple.of(min, currency, after == null ? null : after.available(),
                after == null ? null : after.customerId(), limit + 1);
        return pool.preparedQuery(Sql.CUSTOMERS_BY_AVAILABLE_CREDIT).execute(params).map(rows -> {
            List<CustomerView> items = new ArrayList<>();
            rows.forEach(row -> items.add(Rows.customer(row)));
            return page(items, limit);
        });
    }

    /** Parked records after id {@code after}, oldest first, as the operator endpoint shows them. */
    public Future<Page<JsonObject>> deadLetters(long after, int limit) {
        return pool.preparedQuery(Sql.LIST_DEAD_LETTERS).execute(Tuple.of(after, limit + 1)).map(rows -> {
            List<JsonObject> items = new ArrayList<>();
            rows.forEach(row -> items.add(deadLetterJson(row)));
            return page(items, limit);
        });
    }

    /** Parked records not yet re-driven. */
    public Future<Long> pendingDeadLetters() {
        return pool.query(Sql.PENDING_DEAD_LETTERS).execute().map(rows -> rows.iterator().next().getLong(0));
    }

    public Future<List<CheckpointRow>> checkpoints() {
        return pool.query(Sql.CHECKPOINTS).execute().map(rows -> {
            List<CheckpointRow> result = new ArrayList<>();
            rows.forEach(row -> result.add(new CheckpointRow(row.getString("topic"), row.getInteger("partition"),
                    row.getLong("next_offset"), row.getLong("last_position"),
                    Rows.instant(row.getOffsetDateTime("last_occurred_at")))));
            return result;
        });
    }

    /** Whether the schema exists, and whether it holds the query side's tables. */
    public record SchemaState(boolean present, boolean intact) {
    }

    /** Reads {@link SchemaState}; fails when PostgreSQL does not answer (that is not a lost schema). */
    public Future<SchemaState> schemaState() {
        return pool.query(Sql.SCHEMA_STATE).execute().map(rows -> {
            Row row = rows.iterator().next();
            return new SchemaState(row.getBoolean("present"), row.getBoolean("intact"));
        });
    }

    /** Whether the read model has projected nothing yet (no checkpoint, no event): a new or recreated schema. */
    public Future<Boolean> projectedNothing() {
        return pool.query(Sql.PROJECTED_NOTHING).execute().map(rows -> rows.iterator().next().getBoolean("nothing"));
    }

    /** Succeeds when PostgreSQL answers. */
    public Future<Void> ping() {
        return pool.query(Sql.PING).execute().mapEmpty();
    }

    private static JsonObject deadLetterJson(Row row) {
        JsonObject json = new JsonObject()
                .put("id", row.getLong("id"))
                .put("topic", row.getString("topic"))
                .put("partition", row.getInteger("partition"))
                .put("offset", row.getLong("offset"))
                .put("key", row.getString("key"))
                .put("error", row.getString("error"))
                .put("parkedAt", Rows.instant(row.getOffsetDateTime("parked_at")).toString());
        Instant redriven = Rows.instant(row.getOffsetDateTime("redriven_at"));
        json.put("redrivenAt", redriven == null ? null : redriven.toString());
        Buffer payload = row.getBuffer("payload");
        if (payload != null) {
            byte[] bytes = payload.getBytes();
            try {
                json.put("payload", StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString());
            } catch (CharacterCodingException e) {
                json.put("payloadBase64", Base64.getEncoder().encodeToString(bytes));
            }
        }
        return json;
    }

    private static <T> Page<T> page(List<T> fetched, int limit) {
        boolean more = fetched.size() > limit;
        return new Page<>(more ? List.copyOf(fetched.subList(0, limit)) : List.copyOf(fetched), more);
    }
}
