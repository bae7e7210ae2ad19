package dev.orders.query.store;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.EventTypes;
import dev.orders.events.Money;
import dev.orders.events.OrderStatus;
import dev.orders.events.RejectionReason;
import dev.orders.query.model.CustomerView;
import dev.orders.query.model.OrderChange;
import dev.orders.query.model.OrderView;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntFunction;

/** Maps rows to views and views to parameters. */
final class Rows {

    /** The decodable events of one stream read from the event log, by kind of aggregate, oldest first. */
    record StreamEvents(List<EventEnvelope> orderEvents, List<EventEnvelope> customerEvents) {
    }

    /**
     * Decodes the rows of one stream's events; an event that no longer decodes is logged with
     * {@code what} and left out, so the fold goes on with the others.
     */
    static StreamEvents streamEvents(Iterable<Row> rows, UUID streamId, org.slf4j.Logger log, String what) {
        List<EventEnvelope> orderEvents = new java.util.ArrayList<>();
        List<EventEnvelope> customerEvents = new java.util.ArrayList<>();
        for (Row row : rows) {
            StoredEvent stored = event(row);
            try {
                EventEnvelope e = stored.toEnvelope();
                (e.streamType() == dev.orders.events.StreamType.ORDER ? orderEvents : customerEvents).add(e);
            } catch (dev.orders.events.EventFormatException failure) {
                log.warn("{}: event {} of {} does not decode: {}", what, stored.eventId(), streamId, failure.getMessage());
            }
        }
        return new StreamEvents(orderEvents, customerEvents);
    }

    private Rows() {
    }

    static OrderView order(Row row) {
        String currency = row.getString("currency");
        String reason = row.getString("reason");
        return new OrderView(row.getUUID("order_id"), row.getUUID("customer_id"),
                OrderStatus.valueOf(row.getString("status")),
                new Money(row.getBigDecimal("total_amount"), currency),
                reason == null ? null : RejectionReason.valueOf(reason),
                row.getInteger("version"), instant(row.getOffsetDateTime("created_at")),
                instant(row.getOffsetDateTime("updated_at")), row.getBoolean("needs_attention"));
    }

    static CustomerView customer(Row row) {
        String currency = row.getString("currency");
        return new CustomerView(row.getUUID("customer_id"), row.getString("name"),
                new Money(row.getBigDecimal("credit_limit"), currency),
                new Money(row.getBigDecimal("credit_reserved"), currency), row.getInteger("version"));
    }

    static StoredEvent event(Row row) {
        return new StoredEvent(row.getLong("global_position"), row.getUUID("event_id"), row.getString("stream_type"),
                row.getUUID("stream_id"), row.getInteger("version"), row.getString("type"),
                row.getInteger("schema_version"), instant(row.getOffsetDateTime("occurred_at")),
                (JsonObject) row.getValue("data"), (JsonObject) row.getValue("metadata"));
    }

    /** The parameters of {@link Sql#INSERT_EVENTS}: one array per column, one element per event, encoded here. */
    static Tuple eventParams(List<EventEnvelope> events) {
        return eventParams(events.size(), events::get, i -> null);
    }

    /**
     * The parameters of {@link Sql#INSERT_EVENTS} for events received as records: each event's data and metadata go
     * in as the text its record holds them ({@link EventJson#parts}), nothing is encoded again; only an event without
     * a record value, or one upcast from an older schema, has them encoded here, off the usual path.
     */
    static Tuple receivedEventParams(List<ProjectionStore.Incoming> events) {
        return eventParams(events.size(), i -> events.get(i).envelope(), i -> {
            ProjectionStore.Incoming in = events.get(i);
            EventEnvelope e = in.envelope();
            return in.value() != null && e.schemaVersion() == EventTypes.currentSchemaVersion(e.event())
                    ? EventJson.parts(in.value()) : null;
        });
    }

    /** {@code stored}: an event's data and metadata as text, or null to encode them from the event. */
    private static Tuple eventParams(int n, IntFunction<EventEnvelope> events, IntFunction<EventJson.Parts> stored) {
        Long[] positions = new Long[n];
        UUID[] ids = new UUID[n];
        String[] streamTypes = new String[n];
        UUID[] streamIds = new UUID[n];
        Integer[] versions = new Integer[n];
        String[] types = new String[n];
        Integer[] schemaVersions = new Integer[n];
        OffsetDateTime[] occurred = new OffsetDateTime[n];
        String[] data = new String[n];
        String[] metadata = new String[n];
        for (int i = 0; i < n; i++) {
            EventEnvelope e = events.apply(i);
            positions[i] = e.globalPosition();
            ids[i] = e.eventId();
            streamTypes[i] = e.streamType().wireName();
            streamIds[i] = e.streamId();
            versions[i] = Math.toIntExact(e.version());
            types[i] = e.type();
            schemaVersions[i] = EventTypes.currentSchemaVersion(e.event());
            occurred[i] = time(e.occurredAt());
            EventJson.Parts parts = stored.apply(i);
            data[i] = parts != null ? parts.data() : EventJson.dataText(e.event());
            metadata[i] = parts != null ? parts.metadata() : EventJson.metadataJson(e.metadata());
        }
        return Tuple.of(positions, ids, streamTypes, streamIds, versions, types, schemaVersions, occurred, data, metadata);
    }

    /** The parameters of {@link Sql#INSERT_CHANGES}: one array per column, one element per change. */
    static Tuple changeArrays(List<OrderChange> changes) {
        int n = changes.size();
        Long[] positions = new Long[n];
        UUID[] orders = new UUID[n];
        UUID[] customers = new UUID[n];
        Integer[] versions = new Integer[n];
        String[] views = new String[n];
        for (int i = 0; i < n; i++) {
            OrderView view = changes.get(i).view();
            positions[i] = changes.get(i).position();
            orders[i] = view.orderId();
            customers[i] = view.customerId();
            versions[i] = Math.toIntExact(view.version());
            views[i] = view.toJson().encode();
        }
        return Tuple.of(positions, orders, customers, versions, views);
    }

    /**
     * The parameters of {@link Sql#UPSERT_CHECKPOINTS}: one array per column, one element per checkpoint, each with
     * the last of {@code events} (by global position) read from its partition, if any.
     */
    static Tuple checkpointArrays(List<ProjectionStore.Checkpoint> checkpoints, List<ProjectionStore.Incoming> events) {
        Map<String, ProjectionStore.Incoming> last = new HashMap<>();
        for (ProjectionStore.Incoming in : events) {
            last.merge(in.at().topic() + "/" + in.at().partition(), in, (a, b) ->
                    a.envelope().globalPosition() >= b.envelope().globalPosition() ? a : b);
        }
        int n = checkpoints.size();
        String[] topics = new String[n];
        Integer[] partitions = new Integer[n];
        Long[] nextOffsets = new Long[n];
        Long[] lastPositions = new Long[n];
        OffsetDateTime[] lastOccurred = new OffsetDateTime[n];
        for (int i = 0; i < n; i++) {
            ProjectionStore.Checkpoint c = checkpoints.get(i);
            ProjectionStore.Incoming in = last.get(c.topic() + "/" + c.partition());
            topics[i] = c.topic();
            partitions[i] = c.partition();
            nextOffsets[i] = c.nextOffset();
            lastPositions[i] = in == null ? 0L : in.envelope().globalPosition();
            lastOccurred[i] = in == null ? null : time(in.envelope().occurredAt());
        }
        return Tuple.of(topics, partitions, nextOffsets, lastPositions, lastOccurred);
    }

    /** The parameters of {@link Sql#UPSERT_ORDERS}: one array per column, one element per view. */
    static Tuple orderArrays(List<OrderView> views) {
        int n = views.size();
        UUID[] ids = new UUID[n];
        UUID[] customers = new UUID[n];
        String[] statuses = new String[n];
        String[] amounts = new String[n];
        String[] currencies = new String[n];
        String[] reasons = new String[n];
        Integer[] versions = new Integer[n];
        OffsetDateTime[] created = new OffsetDateTime[n];
        OffsetDateTime[] updated = new OffsetDateTime[n];
        Boolean[] attention = new Boolean[n];
        for (int i = 0; i < n; i++) {
            OrderView v = views.get(i);
            ids[i] = v.orderId();
            customers[i] = v.customerId();
            statuses[i] = v.status().name();
            amounts[i] = v.total().amount().toPlainString();
            currencies[i] = v.total().currency();
            reasons[i] = v.reason() == null ? null : v.reason().name();
            versions[i] = Math.toIntExact(v.version());
            created[i] = time(v.createdAt());
            updated[i] = time(v.updatedAt());
            attention[i] = v.needsAttention();
        }
        return Tuple.of(ids, customers, statuses, amounts, currencies, reasons, versions, created, updated, attention);
    }

    /** The parameters of {@link Sql#UPSERT_CUSTOMERS}: one array per column, one element per view. */
    static Tuple customerArrays(List<CustomerView> views) {
        int n = views.size();
        UUID[] ids = new UUID[n];
        String[] names = new String[n];
        String[] limits = new String[n];
        String[] currencies = new String[n];
        String[] reserved = new String[n];
        Integer[] versions = new Integer[n];
        for (int i = 0; i < n; i++) {
            CustomerView c = views.get(i);
            ids[i] = c.customerId();
            names[i] = c.name();
            limits[i] = c.creditLimit().amount().toPlainString();
            currencies[i] = c.creditLimit().currency();
            reserved[i] = c.creditReserved().amount().toPlainString();
            versions[i] = Math.toIntExact(c.version());
        }
        return Tuple.of(ids, names, limits, currencies, reserved, versions);
    }

    /** A row of {@link Sql#INSERT_CHANGES}'s answer as it goes out on {@link ProjectionStore#CHANGES_COMMITTED}. */
    static JsonObject committedChange(Row row) {
        return new JsonObject().put("position", row.getLong("position"))
                .put("orderId", row.getUUID("order_id").toString())
                .put("customerId", row.getUUID("customer_id").toString())
                .put("version", row.getInteger("version"))
                .put("view", row.getString("view"))
                .put("changedAt", row.getOffsetDateTime("changed_at").toInstant().toString());
    }

    static OffsetDateTime time(Instant instant) {
        return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    static Instant instant(OffsetDateTime time) {
        return time == null ? null : time.toInstant();
    }
}
