package dev.orders.query.push;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("The push hub")
class PushHubTest extends PushTestBase {

    @Nested
    @DisplayName("SSE streams")
    class Sse {

        @Test
        void sends_the_current_state_first_then_every_later_change_in_order() throws Exception {
            PushNode node = node(SETTINGS);
            UUID customer = UUID.randomUUID();
            UUID first = UUID.randomUUID();
            UUID second = UUID.randomUUID();
            List<Long> before = new ArrayList<>(changes(first, customer, 1, 2));
            before.addAll(changes(second, customer, 1, 1));
            changes(UUID.randomUUID(), UUID.randomUUID(), 1, 1); // another customer's: never shown

            SseClient client = sse(node, "/api/customers/" + customer + "/orders/stream");
            assertThat(client.status()).isEqualTo(200);
            assertThat(client.response().getHeader("Content-Type")).startsWith("text/event-stream");
            assertThat(client.response().getHeader("Cache-Control")).isEqualTo("no-store");
            assertThat(client.response().getHeader("X-Accel-Buffering")).isEqualTo("no");
            eventually("the state of both orders", () -> client.orders().size() == 2);
            assertThat(ids(client.orders())).containsExactly(before.get(1), before.get(2));

            List<Long> later = new ArrayList<>(changes(second, customer, 2, 3));
            later.addAll(changes(first, customer, 3, 3));
            eventually("three changes more", () -> client.orders().size() == 5);
            assertThat(ids(client.orders()).subList(2, 5)).containsExactlyElementsOf(later);
            assertThat(client.orders().get(4).json().getString("orderId")).isEqualTo(first.toString());
            assertThat(client.orders().get(4).json().getString("status")).isEqualTo("CANCELLED");
        }

        @Test
        void an_order_stream_shows_only_that_order() throws Exception {
            PushNode node = node(SETTINGS);
            UUID customer = UUID.randomUUID();
            UUID order = UUID.randomUUID();
            changes(order, customer, 1, 1);
            SseClient client = sse(node, "/api/orders/" + order + "/stream");
            eventually("the state", () -> client.orders().size() == 1);
            changes(UUID.randomUUID(), customer, 1, 2);
            List<Long> mine = changes(order, customer, 2, 3);
            eventually("two changes", () -> client.orders().size() == 3);
            assertThat(ids(client.orders()).subList(1, 3)).containsExactlyElementsOf(mine);
        }

        @Test
        void answers_problems_for_bad_ids_bad_resume_ids_and_foreign_origins() throws Exception {
            PushNode node = node(SETTINGS.withAllowedOrigins(List.of("https://ui.example")));
            UUID customer = UUID.randomUUID();
            UUID order = UUID.randomUUID();
            changes(order, customer, 1, 1);

            // Ids the read model has not seen: an operator may watch any, the state comes when projected.
            SseClient unknown = sse(node, "/api/orders/" + UUID.randomUUID() + "/stream");
            assertThat(unknown.status()).isEqualTo(200);
            assertThat(unknown.response().getHeader("Content-Type")).startsWith("text/event-stream");
            assertThat(sse(node, "/api/customers/" + UUID.randomUUID() + "/orders/stream").status()).isEqualTo(200);
            SseClient badId = sse(node, "/api/orders/not-a-uuid/stream");
            assertThat(badId.status()).isEqualTo(400);
            assertThat(badId.response().getHeader("Content-Type")).isEqualTo("application/problem+json");
            assertThat(await(badId.body()).toJsonObject().getInteger("status")).isEqualTo(400);
            assertThat(sse(node, "/api/orders/" + order + "/stream", "Last-Event-ID", "12abc").status()).isEqualTo(400);
            assertThat(sse(node, "/api/orders/" + order + "/stream?lastEventId=-1").status()).isEqualTo(400);

            SseClient foreign = sse(node, "/api/orders/" + order + "/stream", "Origin", "https://evil.example");
            assertThat(foreign.status()).isEqualTo(403);
            SseClient configured = sse(node, "/api/orders/" + order + "/stream", "Origin", "https://ui.example");
            assertThat(configured.status()).isEqualTo(200);
            SseClient sameOrigin = sse(node, "/api/orders/" + order + "/stream", "Origin", "http://localhost:" + node.port());
            assertThat(sameOrigin.status()).isEqualTo(200);
            assertThat(node.hub.metrics().rejectedCount()).isGreaterThanOrEqualTo(4);
        }

        @Test
        void limits_connections_per_customer_with_429_and_per_node_with_503() throws Exception {
            PushNode node = node(SETTINGS.withConnectionLimits(3, 2));
            UUID customer = UUID.randomUUID();
            changes(UUID.randomUUID(), customer, 1, 1);
            String path = "/api/customers/" + customer + "/orders/stream";
            assertThat(sse(node, path).status()).isEqualTo(200);
            assertThat(sse(node, path).status()).isEqualTo(200);
            SseClient third = sse(node, path);
            assertThat(third.status()).isEqualTo(429);
            assertThat(third.response().getHeader("Retry-After")).isNotNull();

            UUID other = UUID.randomUUID();
            changes(UUID.randomUUID(), other, 1, 1);
            assertThat(sse(node, "/api/customers/" + other + "/orders/stream").status()).isEqualTo(200);
            SseClient overNode = sse(node, "/api/customers/" + other + "/orders/stream");
            assertThat(overNode.status()).isEqualTo(503);
            assertThat(node.hub.metrics().openConnections()).isEqualTo(3);
        }
    }

    @Nested
    @DisplayName("Resume")
    class Resume {

        @Test
        void a_client_cut_while_50_changes_happen_gets_exactly_those_50_on_reconnect() throws Exception {
            PushNode node = node(SETTINGS);
            UUID customer = UUID.randomUUID();
            List<UUID> orders = List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
            for (UUID order : orders) {
                changes(order, customer, 1, 1);
            }
            String path = "/api/customers/" + customer + "/orders/stream";
            SseClient first = sse(node, path);
            eventually("the state", () -> first.orders().size() == 3);
            first.cut();
            eventually("the server to see the cut", () -> node.hub.metrics().openConnections() == 0);

            List<Long> missed = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                missed.add(await(log.append(orders.get(i % 3), customer, 2 + i / 3)));
            }
            changes(UUID.randomUUID(), UUID.randomUUID(), 1, 3); // not watched

            SseClient again = sse(node, path, "Last-Event-ID", first.lastId());
            eventually("the 50 missed changes", () -> again.orders().size() >= 50);
            Long live = await(log.append(orders.get(0), customer, 100));
            eventually("one live change", () -> again.orders().size() == 51);
            Thread.sleep(200);
            assertThat(ids(again.orders())).containsExactlyElementsOf(concat(missed, live));
            assertThat(again.events).noneMatch(e -> "reset".equals(e.event()));
        }

        /**
         * The fault suite's service kill found this: a client connected while none of its orders had a change
         * was sent no id, so after a cut it came back as a new client and was sent only the state: the change
         * made while it was away (version 1) never reached it. Its stream's start now gives it the position the
         * state was read at, to resume from.
         */
        @Test
        void a_client_cut_before_any_change_of_its_own_gets_each_change_made_while_it_was_away() throws Exception {
            cutBeforeAnyChangeOfItsOwn(true);
        }

        @Test
        void the_same_when_the_log_was_empty_when_it_connected() throws Exception {
            cutBeforeAnyChangeOfItsOwn(false);
        }

        private void cutBeforeAnyChangeOfItsOwn(boolean logHoldsChanges) throws Exception {
            PushNode node = node(SETTINGS);
            UUID customer = UUID.randomUUID();
            if (logHoldsChanges) {
                changes(UUID.randomUUID(), UUID.randomUUID(), 1, 2); // another customer's
            }
            String path = "/api/customers/" + customer + "/orders/stream";
            SseClient first = sse(node, path);
            assertThat(first.status()).isEqualTo(200);
            eventually("an id to resume with, though the stream has no order to show", () -> first.lastId() != null);
            assertThat(first.events).isEmpty();
            first.cut();
            eventually("the server to see the cut", () -> node.hub.metrics().openConnections() == 0);

            UUID order = UUID.randomUUID();
            List<Long> missed = changes(order, customer, 1, 2);
            // as EventSource reconnects: with the last id it was given
            SseClient again = sse(node, path, "Last-Event-ID", first.lastId());
            eventually("version 2", () -> again.orders().stream().anyMatch(e -> e.version() == 2));
            Long live = await(log.append(order, customer, 3));
            eventually("version 3", () -> again.orders().size() >= 3);
            assertThat(again.orders().stream().map(SseClient.Event::version).toList()).containsExactly(1, 2, 3);
            assertThat(ids(again.orders())).containsExactlyElementsOf(concat(missed, live));
            assertThat(again.events).noneMatch(e -> "reset".equals(e.event()));
        }

        @Test
        void a_websocket_subscription_with_no_order_to_show_gets_an_id_and_resumes_from_it() throws Exception {
            PushNode node = node(SETTINGS);
            UUID customer = UUID.randomUUID();
            changes(UUID.randomUUID(), UUID.randomUUID(), 1, 1); // another customer's
            WsClient first = wsClient(node, null);
            first.send(new JsonObject().put("type", "subscribe").put("customerId", customer.toString()));
            eventually("an id to resume with", () -> first.messages.stream().anyMatch(m -> "position".equals(m.getString("type"))));
            String lastId = first.messages.getLast().getString("id");
            assertThat(first.orders()).isEmpty();
            await(first.socket.close());

            UUID order = UUID.randomUUID();
            List<Long> missed = changes(order, customer, 1, 2);
            WsClient again = wsClient(node, null);
            again.send(new JsonObject().put("type", "subscribe").put("customerId", customer.toString())
                    .put("lastEventId", lastId));
            eventually("the 2 missed changes", () -> again.orders().size() >= 2);
            assertThat(again.orders().stream().map(m -> Long.parseLong(m.getString("id"))).toList())
                    .containsExactlyElementsOf(missed);
            assertThat(again.messages).noneMatch(m -> "reset".equals(m.getString("type")));
        }

        @Test
        void the_same_over_a_websocket_with_last_event_id() throws Exception {
            PushNode node = node(SETTINGS);
            UUID customer = UUID.randomUUID();
            UUID order = UUID.randomUUID();
            changes(order, customer, 1, 1);
            WsClient first = wsClient(node, null);
            first.send(new JsonObject().put("type", "subscribe").put("customerId", customer.toString()));
            eventually("the state", () -> first.orders().size() == 1);
            String lastId = first.orders().get(0).getString("id");
            await(first.socket.close());

            List<Long> missed = changes(order, customer, 2, 51);
            WsClient again = wsClient(node, null);
            again.send(new JsonObject().put("type", "subscribe").put("customerId", customer.toString())
                    .put("lastEventId", lastId));
            eventually("the 50 missed changes", () -> again.orders().size() >= 50);
            Long live = await(log.append(order, customer, 52));
            eventually("one live change", () -> again.orders().size() == 51);
            Thread.sleep(200);
            assertThat(again.orders().stream().map(m -> Long.parseLong(m.getString("id"))).toList())
                    .containsExactlyElementsOf(concat(missed, live));
            assertThat(again.orders().get(50).getJsonObject("order").getInteger("version")).isEqualTo(52);
            assertThat(again.messages).noneMatch(m -> "reset".equals(m.getString("type")));
        }

        @Test
        void an_id_older_than_the_retained_log_gets_reset_and_the_full_current_state() throws Exception {
            PushNode node = node(SETTINGS);
            UUID customer = UUID.randomUUID();
            UUID a = UUID.randomUUID();
            UUID b = UUID.randomUUID();
            List<Long> early = changes(a, customer, 1, 2);
            changes(b, customer, 1, 1);
            List<Long> late = changes(a, customer, 3, 4);
            long latestB = changes(b, customer, 2, 2).get(0);
            // The log is pruned below the last change of a: the early ids cannot be replayed any more.
            await(admin.query("DELETE FROM order_changes WHERE position < " + late.get(1)
                    + " AND position <> " + latestB).execute());

            SseClient client = sse(node, "/api/customers/" + customer + "/orders/stream",
                    "Last-Event-ID", Long.toString(early.get(0)));
            eventually("reset and the state", () -> client.orders().size() == 2);
            assertThat(client.events.get(0).event()).isEqualTo("reset");
            assertThat(ids(client.orders())).containsExactlyInAnyOrder(late.get(1), latestB);
            assertThat(client.orders()).extracting(SseClient.Event::version).containsExactlyInAnyOrder(4, 2);
            assertThat(node.hub.metrics().resetCount()).isEqualTo(1);
        }
    }

    @Nested
    @DisplayName("Retention")
    class Retention {

        @Test
        void a_resume_from_before_the_pruned_window_gets_reset_and_the_state_and_one_inside_it_replays() throws Exception {
            PushNode node = node(SETTINGS.withRetention(new PushSettings.Retention(Duration.ofHours(1), 5,
                    Duration.ofMillis(100))));
            UUID customer = UUID.randomUUID();
            UUID quiet = UUID.randomUUID();
            UUID busy = UUID.randomUUID();
            long early = changes(quiet, customer, 1, 1).get(0);
            List<Long> later = changes(busy, customer, 1, 10);
            eventually("the log pruned to its newest 5 positions", () -> changeCount() <= 5);
            assertThat(changeCount()).as("the newest change is kept").isPositive();
            String path = "/api/customers/" + customer + "/orders/stream";

            SseClient fromBefore = sse(node, path, "Last-Event-ID", Long.toString(early));
            eventually("reset and the state", () -> fromBefore.orders().size() == 2);
            assertThat(fromBefore.events.get(0).event()).isEqualTo("reset");
            assertThat(fromBefore.orders()).extracting(SseClient.Event::version).containsExactlyInAnyOrder(10, 1);

            SseClient fromInside = sse(node, path, "Last-Event-ID", Long.toString(later.get(8)));
            eventually("the change after it", () -> fromInside.orders().size() == 1);
            Thread.sleep(200);
            assertThat(ids(fromInside.orders())).containsExactly(later.get(9));
            assertThat(fromInside.events).noneMatch(e -> "reset".equals(e.event()));
        }

        @Test
        void the_time_window_prunes_all_but_the_newest_change_and_a_new_stream_still_gets_every_orders_state()
                throws Exception {
            PushNode node = node(SETTINGS.withRetention(new PushSettings.Retention(Duration.ofMillis(50), 1_000,
                    Duration.ofMillis(100))));
            UUID customer = UUID.randomUUID();
            List<UUID> orders = List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
            for (UUID order : orders) {
                changes(order, customer, 1, 2);
            }
            eventually("the log pruned to its newest change", () -> changeCount() == 1);
            SseClient client = sse(node, "/api/customers/" + customer + "/orders/stream");
            eventually("every order's state", () -> client.orders().size() == 3);
            assertThat(client.orders()).extracting(e -> e.json().getString("orderId"))
                    .containsExactlyInAnyOrderElementsOf(orders.stream().map(UUID::toString).toList());
            assertThat(client.orders()).extracting(SseClient.Event::version).containsOnly(2);
        }

        @Test
        void a_customer_streams_state_reads_one_row_per_order_however_long_the_orders_history() throws Exception {
            UUID customer = UUID.randomUUID();
            UUID busy = UUID.randomUUID();
            // Another session's open snapshot keeps every replaced version of the busy order's row: none can be pruned,
            // so its updates are not all HOT and its index holds an entry per version (as on a busy server).
            SqlConnection holder = await(admin.getConnection());
            await(holder.query("BEGIN ISOLATION LEVEL REPEATABLE READ").execute());
            await(holder.query("SELECT count(*) FROM latest_order_changes").execute());
            try {
                changes(busy, customer, 1, 1_000); // one transaction each, as the projector commits them
                changes(UUID.randomUUID(), customer, 1, 1);
                await(admin.query("ANALYZE order_changes").execute());
                await(admin.query("ANALYZE latest_order_changes").execute());

                JsonArray plan = await(admin.preparedQuery("EXPLAIN (ANALYZE, FORMAT JSON) " + PushStore.CUSTOMER_STATE)
                        .execute(io.vertx.sqlclient.Tuple.of(customer, (UUID) null))).iterator().next().getJsonArray(0);
            assertThat(mostRowsOfAnyStep(plan.getJsonObject(0).getJsonObject("Plan")))
                    .as("rows a step of the plan reads: %s", plan.encodePrettily()).isLessThanOrEqualTo(2);
            } finally {
                await(holder.query("ROLLBACK").execute());
                await(holder.close());
            }

            PushNode node = node(SETTINGS);
            SseClient client = sse(node, "/api/customers/" + customer + "/orders/stream");
            eventually("both orders' state", () -> client.orders().size() == 2);
        }

        private long changeCount() {
            try {
                return await(admin.query("SELECT count(*) FROM order_changes").execute()).iterator().next().getLong(0);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * The most rows any step of the plan returned. A bitmap index scan's count is not one: it is every index entry
         * that matched, versions no snapshot sees any more included, which the heap scan above it checks and drops
         * (its own count is the rows read); an index scan counts only the rows it returns.
         */
        private static long mostRowsOfAnyStep(JsonObject step) {
            long most = "Bitmap Index Scan".equals(step.getString("Node Type")) ? 0
                    : step.getLong("Actual Rows") * step.getLong("Actual Loops");
            JsonArray children = step.getJsonArray("Plans");
            if (children != null) {
                for (int i = 0; i < children.size(); i++) {
                    most = Math.max(most, mostRowsOfAnyStep(children.getJsonObject(i)));
                }
            }
            return most;
        }
    }

    @Nested
    @DisplayName("WebSocket")
    class WebSockets {

        @Test
        void refuses_a_handshake_from_a_foreign_origin() throws Exception {
            PushNode node = node(SETTINGS.withAllowedOrigins(List.of("https://ui.example")));
            Throwable refused = wsClient(node, "https://evil.example").failure;
            assertThat(refused).isNotNull();
            assertThat(refused.getMessage()).contains("403");
            assertThat(wsClient(node, "https://ui.example").failure).isNull();
            assertThat(wsClient(node, "http://localhost:" + node.port()).failure).isNull();
        }

        @Test
        void answers_bad_messages_with_errors_and_stays_usable() throws Exception {
            PushNode node = node(SETTINGS);
            UUID customer = UUID.randomUUID();
            UUID order = UUID.randomUUID();
            changes(order, customer, 1, 1);
            WsClient client = wsClient(node, null);
            client.socket.writeTextMessage("not json");
            client.send(new JsonObject().put("type", "subscribe"));
            client.send(new JsonObject().put("type", "subscribe").put("orderId", "x"));
            client.send(new JsonObject().put("type", "subscribe").put("orderId", order.toString()).put("lastEventId", "x"));
            client.send(new JsonObject().put("type", "hello"));
            eventually("five errors", () -> client.errors().size() == 5);
            assertThat(client.errors()).extracting(e -> e.getInteger("status")).containsExactly(400, 400, 400, 400, 400);
            client.send(new JsonObject().put("type", "subscribe").put("orderId", order.toString()));
            eventually("the state", () -> client.orders().size() == 1);
            assertThat(client.orders().get(0).getJsonObject("order").getString("orderId")).isEqualTo(order.toString());
        }
    }

    @Test
    void two_nodes_on_one_database_each_deliver_every_change_to_their_own_clients() throws Exception {
        PushNode one = node(SETTINGS);
        PushNode two = node(SETTINGS);
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        changes(order, customer, 1, 1);
        SseClient onOne = sse(one, "/api/customers/" + customer + "/orders/stream");
        SseClient onTwo = sse(two, "/api/orders/" + order + "/stream");
        WsClient wsOnTwo = wsClient(two, null);
        wsOnTwo.send(new JsonObject().put("type", "subscribe").put("orderId", order.toString()));
        eventually("the state everywhere", () -> onOne.orders().size() == 1 && onTwo.orders().size() == 1
                && wsOnTwo.orders().size() == 1);
        List<Long> positions = changes(order, customer, 2, 21);
        eventually("20 changes everywhere", () -> onOne.orders().size() == 21 && onTwo.orders().size() == 21
                && wsOnTwo.orders().size() == 21);
        assertThat(ids(onOne.orders()).subList(1, 21)).containsExactlyElementsOf(positions);
        assertThat(ids(onTwo.orders()).subList(1, 21)).containsExactlyElementsOf(positions);
    }

    @Test
    void the_follower_catches_up_after_losing_its_listen_connection() throws Exception {
        PushNode node = node(SETTINGS);
        UUID customer = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        changes(order, customer, 1, 1);
        SseClient client = sse(node, "/api/orders/" + order + "/stream");
        eventually("the state", () -> client.orders().size() == 1);
        await(admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN order_changes'"
                + " AND datname = current_database() AND pid <> pg_backend_pid()").execute());
        List<Long> positions = changes(order, customer, 2, 6);
        eventually("the changes made while it reconnected", () -> client.orders().size() == 6);
        assertThat(ids(client.orders()).subList(1, 6)).containsExactlyElementsOf(positions);
        positions = changes(order, customer, 7, 8);
        eventually("live changes after it", () -> client.orders().size() == 8);
        assertThat(ids(client.orders()).subList(6, 8)).containsExactlyElementsOf(positions);
    }

}
