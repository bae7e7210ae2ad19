package dev.orders.query.store;

import dev.orders.events.Money;
import dev.orders.events.OrderStatus;
import dev.orders.events.RejectionReason;
import dev.orders.query.model.CustomerView;
import dev.orders.query.model.OrderView;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** Maps rows to views and views to parameters. */
final class Rows {

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

    static OffsetDateTime time(Instant instant) {
        return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    static Instant instant(OffsetDateTime time) {
        return time == null ? null : time.toInstant();
    }
}
