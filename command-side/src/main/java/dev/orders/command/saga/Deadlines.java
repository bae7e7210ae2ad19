package dev.orders.command.saga;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The saga's durable deadlines: an order whose credit check was asked and not answered in time is
 * rejected as timed out. A row is written only when the saga asks the customer and the question cannot be
 * answered (the customer refuses it), due one timeout later, and the {@link DeadlineVerticle} fires it; an
 * order the saga has not reached (this service was down, or is catching up) has none, so its clock does not
 * run. A customer's answer deletes the order's row in the answer's own transaction, should one exist (a
 * question refused before and answered when asked again). Every SQL statement of the table is here.
 *
 * <p>Rows without a due time are what an earlier version wrote with each order, before the saga reached it;
 * they never fire, and the saga starts them as it does a new deadline when their question goes unanswered.
 */
public final class Deadlines {

    /** Starts the clock of orders whose question was asked and not answered; once only (a running one keeps its due time). */
    static final String ARM = """
            INSERT INTO saga_deadlines (order_id, customer_id, due_at, correlation_id)
            SELECT o, c, now() + make_interval(secs => $4::float8), r
              FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS u(o, c, r)
            ON CONFLICT (order_id) DO UPDATE SET due_at = EXCLUDED.due_at WHERE saga_deadlines.due_at IS NULL""";

    /**
     * Claims due rows for one firing: their {@code due_at} moves {@code $2} seconds ahead (a
     * lease), so that no other instance sees them due while this one fires them, and so that a row
     * whose firing did not finish (a crash, a failure) fires again once the lease ends. SKIP LOCKED lets
     * instances that poll at the same time take disjoint rows instead of waiting for each other.
     */
    static final String CLAIM_DUE = """
            UPDATE saga_deadlines d
               SET due_at = now() + make_interval(secs => $2::float8)
              FROM (SELECT order_id FROM saga_deadlines
                     WHERE due_at <= now()
                     ORDER BY due_at
                     LIMIT $1::int
                     FOR UPDATE SKIP LOCKED) due
             WHERE d.order_id = due.order_id
            RETURNING d.order_id, d.customer_id, d.correlation_id""";

    /**
     * One order's row, sent once per order in one batch ({@link #delete(SqlClient, List)}): PostgreSQL keeps one
     * generic plan for it, a look-up of the key. A statement over an array of ids was planned again at every call,
     * its best plan depending on the array's length, and planning it cost several times running it.
     */
    static final String DELETE = "DELETE FROM saga_deadlines WHERE order_id = $1";

    static final String COUNT = "SELECT count(*) FROM saga_deadlines";

    /** An order's deadline: the order, its customer and the correlation id its rejection will carry. */
    public record Deadline(UUID orderId, UUID customerId, String correlationId) {
    }

    /** Starts the deadlines of these orders, due {@code timeout} from now, unless they run already. */
    public Future<Void> arm(SqlClient client, List<Deadline> orders, Duration timeout) {
        if (orders.isEmpty()) {
            return Future.succeededFuture();
        }
        return client.preparedQuery(ARM).execute(Tuple.tuple()
                .addArrayOfUUID(orders.stream().map(Deadline::orderId).toArray(UUID[]::new))
                .addArrayOfUUID(orders.stream().map(Deadline::customerId).toArray(UUID[]::new))
                .addArrayOfString(orders.stream().map(Deadline::correlationId).toArray(String[]::new))
                .addDouble(timeout.toMillis() / 1000.0)).mapEmpty();
    }

    /**
     * Claims up to {@code limit} due deadlines; each stays claimed for {@code lease}, after which it is
     * due again unless it was deleted.
     */
    public Future<List<Deadline>> claimDue(SqlClient client, int limit, Duration lease) {
        return client.preparedQuery(CLAIM_DUE).execute(Tuple.of(limit, lease.toMillis() / 1000.0)).map(rows -> {
            List<Deadline> due = new ArrayList<>(rows.size());
            for (Row row : rows) {
                due.add(new Deadline(row.getUUID("order_id"), row.getUUID("customer_id"), row.getString("correlation_id")));
            }
            return due;
        });
    }

    /** Deletes an order's deadline, if it has one; the order no longer waits for its credit check. */
    public Future<Void> delete(SqlClient client, UUID orderId) {
        return delete(client, List.of(orderId));
    }

    /** Deletes the deadlines these orders have, in one batch of statements sent together (none for no order). */
    public Future<Void> delete(SqlClient client, List<UUID> orderIds) {
        if (orderIds.isEmpty()) {
            return Future.succeededFuture();
        }
        List<Tuple> orders = new ArrayList<>(orderIds.size());
        for (UUID orderId : orderIds) {
            orders.add(Tuple.of(orderId));
        }
        return client.preparedQuery(DELETE).executeBatch(orders).mapEmpty();
    }

    /** The number of deadlines not yet deleted: orders whose credit check went unanswered, waiting to time out. */
    public Future<Long> countPending(SqlClient client) {
        return client.query(COUNT).execute().map(rows -> rows.iterator().next().getLong(0));
    }
}
