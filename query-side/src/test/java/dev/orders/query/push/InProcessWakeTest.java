package dev.orders.query.push;

import dev.orders.events.CustomerEvent;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import dev.orders.query.QuerySide;
import dev.orders.query.store.IncomingEvents;
import dev.orders.query.store.ProjectionStore;
import dev.orders.query.store.ProjectionStore.BatchResult;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A projector and a push hub in one process: the follower is woken right after the projector's commit,
 * on the local event bus. Here it LISTENs on another database (so no notification of the projection's
 * ever reaches it) and polls once an hour, so the in-process wake is the only path a change can take.
 */
@DisplayName("The push hub woken in-process by the projector's commit")
class InProcessWakeTest extends PushTestBase {

    private static final Instant T0 = Instant.parse("2025-07-01T08:00:00Z");

    private Pool projectionPool;
    private final IncomingEvents received = new IncomingEvents("wake-test", T0);

    @AfterEach
    void closeProjection() throws Exception {
        if (projectionPool != null) {
            await(projectionPool.close());
        }
    }

    @Test
    @DisplayName("a committed change reaches an SSE subscriber with neither a notification nor a poll to carry it")
    void a_change_reaches_a_subscriber_right_after_the_commit(TestInfrastructure infra) throws Exception {
        Watched w = watchNewOrder(infra);
        SseClient client = w.client();
        assertThat(ids(client.orders())).containsExactly(w.created().lastChangePosition());

        BatchResult approved = approve(w);
        eventually("the approval pushed", () -> client.orders().size() == 2);
        assertThat(ids(client.orders())).containsExactly(w.created().lastChangePosition(), approved.lastChangePosition());
        assertThat(client.orders().get(1).json().getString("status")).isEqualTo("APPROVED");
    }

    @Test
    @DisplayName("rows a commit made visible right after the last row read are pushed as they are; after a gap the log is read")
    void committed_rows_that_follow_the_last_read_are_pushed_without_reading_the_log(TestInfrastructure infra)
            throws Exception {
        Watched w = watchNewOrder(infra);
        SseClient client = w.client();

        // A commit whose first row is not the next one after the last read: the follower reads the log, which
        // does not hold this made-up row, so it is never pushed.
        long last = w.created().lastChangePosition();
        vertx.eventBus().publish(ProjectionStore.CHANGES_COMMITTED, commit(last + 5, w.order(), w.customer(), 3));
        BatchResult approved = approve(w);
        eventually("the approval pushed", () -> client.orders().size() == 2);
        assertThat(ids(client.orders())).containsExactly(last, approved.lastChangePosition());

        // A commit that follows the last row read: pushed from the message itself. The log does not hold this
        // made-up row, so it can only have come from the message, with no read.
        long next = approved.lastChangePosition() + 1;
        vertx.eventBus().publish(ProjectionStore.CHANGES_COMMITTED, commit(next, w.order(), w.customer(), 3));
        eventually("the committed row pushed", () -> client.orders().size() == 3);
        assertThat(ids(client.orders())).containsExactly(last, approved.lastChangePosition(), next);
        assertThat(client.orders().get(2).json().getString("status")).isEqualTo("CANCELLED");
    }

    @Test
    @DisplayName("a commit sends one message on the event bus, its changes to the follower; none for ?minVersion, which nobody waits on")
    void a_commit_sends_its_changes_to_the_follower_and_nothing_else(TestInfrastructure infra) throws Exception {
        Watched w = watchNewOrder(infra);
        List<String> sent = new CopyOnWriteArrayList<>();
        Handler<DeliveryContext<Object>> counting = delivery -> {
            sent.add(delivery.message().address());
            delivery.next();
        };
        vertx.eventBus().addOutboundInterceptor(counting);
        try {
            approve(w);
            eventually("the approval pushed", () -> w.client().orders().size() == 2);
        } finally {
            vertx.eventBus().removeOutboundInterceptor(counting);
        }
        assertThat(sent).as("messages sent on the event bus for one committed change")
                .containsExactly(ProjectionStore.CHANGES_COMMITTED);
    }

    /**
     * The approval's transaction is held in its write round trip by a lock on the order's newest change: its
     * change-log row and its view are written, not committed. Nothing is pushed meanwhile (a client told of the
     * change could not read it); the push follows the commit, and the read model then has the change.
     */
    @Test
    @DisplayName("a change is pushed only after its transaction committed, never while it is written")
    void a_change_is_pushed_only_after_its_commit(TestInfrastructure infra) throws Exception {
        Watched w = watchNewOrder(infra);
        SseClient client = w.client();
        SqlConnection held = await(projectionPool.getConnection());
        Future<BatchResult> approving;
        try {
            await(held.query("BEGIN").execute());
            await(held.preparedQuery("SELECT 1 FROM latest_order_changes WHERE order_id = $1 FOR UPDATE")
                    .execute(Tuple.of(w.order())));
            approving = w.store().applyBatch(List.of(received.next(2, new OrderEvent.OrderApproved(w.order(), w.customer()))),
                    List.of(), List.of());
            eventually("the approval written, waiting to commit", () -> waitingFor("latest_order_changes"));
            Thread.sleep(300);
            assertThat(client.orders()).as("pushed before its commit").hasSize(1);
            assertThat(viewVersion(w.order())).isEqualTo(1);
        } finally {
            await(held.query("ROLLBACK").execute().eventually(held::close));
        }
        BatchResult approved = await(approving);
        eventually("the approval pushed", () -> client.orders().size() == 2);
        assertThat(ids(client.orders())).containsExactly(w.created().lastChangePosition(), approved.lastChangePosition());
        assertThat(viewVersion(w.order())).as("the read model has what was pushed").isEqualTo(2);
    }

    private long viewVersion(UUID order) throws Exception {
        return await(projectionPool.preparedQuery("SELECT version FROM order_view WHERE order_id = $1")
                .execute(Tuple.of(order))).iterator().next().getLong(0);
    }

    /**
     * Change-log positions are taken when a projector's transaction inserts its changes and become visible at its
     * commit. Here one such transaction (another partition's, as it were) has taken the next position and not
     * committed; the projector then commits a later change, and a client resumes in between. Were the later
     * position visible first, the resume would read up to it and the follower would go on after it: the held change
     * would reach nobody. The projector's lock on the log keeps it waiting until the held transaction ends.
     */
    @Test
    @DisplayName("a position taken by a transaction still open is passed neither by a resume nor by the live feed")
    void a_position_taken_by_an_open_transaction_is_not_passed(TestInfrastructure infra) throws Exception {
        Watched w = watchNewOrder(infra);
        long resumeFrom = w.created().lastChangePosition();
        UUID other = UUID.randomUUID();
        SqlConnection held = await(projectionPool.getConnection());
        try {
            await(held.query("BEGIN").execute());
            await(held.query(LOCK_CHANGE_LOG).execute());
            long heldPosition = await(held.preparedQuery(HELD_CHANGE).execute(Tuple.of(1_000_000L, other, w.customer(),
                    new JsonObject().put("orderId", other.toString()).put("customerId", w.customer().toString())
                            .put("status", "PENDING").put("version", 1).encode())))
                    .iterator().next().getLong(0);

            Future<BatchResult> approving = w.store().applyBatch(
                    List.of(received.next(2, new OrderEvent.OrderApproved(w.order(), w.customer()))), List.of(), List.of());
            eventually("the projector waiting for the open transaction (or, without the lock, committed)",
                    () -> approving.isComplete() || waitingForTheLog());
            SseClient resumed = sse(nodes.getLast(), "/api/customers/" + w.customer() + "/orders/stream",
                    "Last-Event-ID", Long.toString(resumeFrom));
            assertThat(resumed.status()).isEqualTo(200);

            await(held.query("COMMIT").execute());
            BatchResult approved = await(approving);
            eventually("both changes", () -> resumed.orders().size() >= 2);
            assertThat(ids(resumed.orders())).containsExactly(heldPosition, approved.lastChangePosition());
            assertThat(ids(w.client().orders())).containsExactly(resumeFrom, approved.lastChangePosition());
        } finally {
            await(held.close());
        }
    }

    /** As a projector's transaction takes the log's lock before it inserts its changes. */
    private static final String LOCK_CHANGE_LOG = "SELECT pg_advisory_xact_lock(hashtext('query.order_changes'))";
    private static final String HELD_CHANGE = "INSERT INTO order_changes (global_position, order_id, customer_id, version,"
            + " view) VALUES ($1, $2, $3, 1, $4::jsonb) RETURNING position";

    private boolean waitingForTheLog() {
        return waitingFor("pg_advisory_xact_lock");
    }

    /** Whether a session waits for a lock in a statement that holds {@code text}. */
    private boolean waitingFor(String text) {
        try {
            return await(projectionPool.preparedQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    + " AND wait_event_type = 'Lock' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()")
                    .execute(Tuple.of(text))).iterator().next().getLong(0) > 0;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** A new order projected, a push node started after it, and an SSE client that has its current state. */
    private record Watched(ProjectionStore store, UUID customer, UUID order, BatchResult created, SseClient client) {
    }

    private BatchResult approve(Watched w) throws Exception {
        return await(w.store().applyBatch(List.of(received.next(2, new OrderEvent.OrderApproved(w.order(), w.customer()))),
                List.of(), List.of()));
    }

    private Watched watchNewOrder(TestInfrastructure infra) throws Exception {
        PgConnectOptions projection = PgConnectOptions.fromUri(infra.isolatedConfig().effectiveQueryPgUri());
        projectionPool = PgBuilder.pool().connectingTo(projection).using(vertx).build();
        await(QuerySide.MIGRATIONS.migrate(vertx, projection));
        ProjectionStore store = new ProjectionStore(vertx, projectionPool);
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        BatchResult created = await(store.applyBatch(List.of(
                received.next(1, new CustomerEvent.CustomerCreated(customer, "Dora", Money.parse("100.00", "EUR"))),
                received.next(1, new OrderEvent.OrderCreated(order, customer, Money.parse("10.00", "EUR")))), List.of(), List.of()));
        // polls once an hour, so a change reaches it in-process or not at all
        PushNode node = await(PushNode.start(vertx, projection, db, SETTINGS.withPollInterval(Duration.ofHours(1)),
                new HttpServerOptions()));
        nodes.add(node);
        SseClient client = sse(node, "/api/orders/" + order + "/stream");
        eventually("the current state", () -> client.orders().size() == 1);
        return new Watched(store, customer, order, created, client);
    }

    /** A {@link ProjectionStore#CHANGES_COMMITTED} message of one change, as a projector's commit publishes it. */
    private static JsonObject commit(long position, UUID order, UUID customer, int version) {
        String view = new JsonObject().put("orderId", order.toString()).put("customerId", customer.toString())
                .put("status", "CANCELLED").put("version", version).encode();
        return new JsonObject().put(ProjectionStore.LAST, position).put(ProjectionStore.CHANGES, new JsonArray()
                .add(new JsonObject().put("position", position).put("orderId", order.toString())
                        .put("customerId", customer.toString()).put("version", version).put("view", view)
                        .put("changedAt", Instant.now().toString())));
    }

}
