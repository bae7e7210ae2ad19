package dev.orders.command.saga;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/** The saga's durable deadlines: a PENDING order past its deadline is rejected as timed out. */
public final class Deadlines {

    static final String INSERT = """
            INSERT INTO saga_deadlines (order_id, customer_id, due_at, correlation_id)
            VALUES ($1, $2, $3, $4) ON CONFLICT (order_id) DO NOTHING""";

    /** Records an order's deadline; called in the transaction that appends its OrderCreated event. */
    public Future<Void> schedule(SqlClient tx, UUID orderId, UUID customerId, Instant dueAt, String correlationId) {
        return tx.preparedQuery(INSERT)
                .execute(Tuple.of(orderId, customerId, OffsetDateTime.ofInstant(dueAt, ZoneOffset.UTC), correlationId))
                .mapEmpty();
    }
}
