package dev.orders.query.push;

import dev.orders.service.security.Security;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who may watch what: every stream and every WebSocket subscription is authorized against its caller,
 * another customer's ids look exactly like unknown ones and never yield a frame of that customer's data,
 * and a connection ends when its caller's token expires.
 */
@DisplayName("Who may watch what")
class PushAuthorizationTest extends PushTestBase {

    /** How long a refused subscriber is watched for frames after the change reached an operator's stream. */
    private static final long QUIET_WINDOW_MS = 700;

    final UUID alice = UUID.randomUUID();
    final UUID bob = UUID.randomUUID();

    @Nested
    @DisplayName("Authentication")
    class Authentication {

        @Test
        void streams_and_websocket_handshakes_without_a_valid_token_are_refused_with_401() throws Exception {
            PushNode node = node(SETTINGS);
            UUID order = UUID.randomUUID();
            changes(order, alice, 1, 1);
            for (String path : List.of("/api/orders/" + order + "/stream", "/api/customers/" + alice + "/orders/stream")) {
                assertThat(anonymousSse(node, path).status()).as(path + " without a token").isEqualTo(401);
                for (String token : List.of(tokens.expired(alice), tokens.signedWithOtherKey(alice),
                        tokens.expired(null), tokens.signedWithOtherKey(null), "not.a.jwt")) {
                    SseClient refused = sse(node, path, "Authorization", TestTokens.bearer(token));
                    assertThat(refused.status()).as(path).isEqualTo(401);
                    assertThat(refused.response().getHeader("WWW-Authenticate")).startsWith("Bearer");
                    assertThat(await(refused.body()).toString()).doesNotContain("PENDING");
                }
                assertThat(sse(node, path, "Cookie", Security.COOKIE + "=" + tokens.expired(alice)).status())
                        .isEqualTo(401);
            }
            for (String token : List.of(tokens.expired(alice), tokens.signedWithOtherKey(alice))) {
                Throwable refused = WsClient.connect(ws, node.port(), null, token).failure;
                assertThat(refused).isNotNull();
                assertThat(refused.getMessage()).contains("401");
            }
            assertThat(WsClient.connect(ws, node.port(), null, (String) null).failure).hasMessageContaining("401");
            assertThat(node.hub.metrics().openConnections()).isZero();
        }

        @Test
        void a_customer_watches_its_own_customer_and_orders_by_bearer_token_or_session_cookie() throws Exception {
            PushNode node = node(SETTINGS);
            UUID order = UUID.randomUUID();
            changes(order, alice, 1, 1);
            String aliceToken = tokens.customer(alice);
            SseClient customer = sse(node, "/api/customers/" + alice + "/orders/stream",
                    "Authorization", TestTokens.bearer(aliceToken));
            SseClient byCookie = sse(node, "/api/orders/" + order + "/stream", "Cookie", Security.COOKIE + "=" + aliceToken);
            WsClient socket = WsClient.connect(ws, node.port(), null,
                    new WebSocketConnectOptions().addHeader("Cookie", Security.COOKIE + "=" + aliceToken));
            socket.send(subscribe("orderId", order));
            eventually("the state on every stream", () -> customer.orders().size() == 1 && byCookie.orders().size() == 1
                    && socket.orders().size() == 1);
            changes(order, alice, 2, 2);
            eventually("the change on every stream", () -> customer.orders().size() == 2 && byCookie.orders().size() == 2
                    && socket.orders().size() == 2);
        }
    }

    @Nested
    @DisplayName("Another customer's ids")
    class AnotherCustomers {

        @Test
        void an_sse_stream_of_another_customer_is_answered_as_an_unknown_id_even_with_a_resume_id() throws Exception {
            PushNode node = node(SETTINGS.withConnectionLimits(100, 2));
            String aliceToken = tokens.customer(alice);
            UUID stranger = UUID.randomUUID();
            String customerPath = "/api/customers/" + bob + "/orders/stream";
            String unknownPath = "/api/customers/" + stranger + "/orders/stream";

            // Bob unknown, then known: the same answers as for an id no customer has.
            List<JsonObject> unknown = List.of(refusal(node, unknownPath, aliceToken),
                    refusal(node, unknownPath, aliceToken, "Last-Event-ID", "1"));
            List<JsonObject> beforeBob = List.of(refusal(node, customerPath, aliceToken),
                    refusal(node, customerPath, aliceToken, "Last-Event-ID", "1"));
            List<Long> positions = changes(UUID.randomUUID(), bob, 1, 2);
            String resume = Long.toString(positions.get(0));
            SseClient operatorView = sse(node, customerPath);
            eventually("the operator sees Bob's order", () -> operatorView.orders().size() == 1);
            List<JsonObject> foreign = List.of(refusal(node, customerPath, aliceToken),
                    refusal(node, customerPath, aliceToken, "Last-Event-ID", resume));
            for (int i = 0; i < unknown.size(); i++) {
                assertThat(unknown.get(i).getInteger("status")).isEqualTo(404);
                assertThat(beforeBob.get(i)).isEqualTo(withId(unknown.get(i), stranger, bob));
                assertThat(foreign.get(i)).isEqualTo(withId(unknown.get(i), stranger, bob));
            }
            assertThat(foreign.toString()).doesNotContain("PENDING").doesNotContain("APPROVED");
            // By cookie, the same.
            assertThat(refusal(node, customerPath, null, "Cookie", Security.COOKIE + "=" + aliceToken))
                    .isEqualTo(foreign.get(0));
            // Nothing stays open or counted against Bob: the operator's stream is one of his two, he opens the other.
            assertThat(node.hub.metrics().openConnections()).isEqualTo(1);
            String bobToken = TestTokens.bearer(tokens.customer(bob));
            assertThat(sse(node, customerPath, "Authorization", bobToken).status()).isEqualTo(200);
            assertThat(sse(node, customerPath, "Authorization", bobToken).status()).isEqualTo(429);
        }

        @Test
        void an_sse_stream_of_another_customers_order_is_accepted_like_an_unknown_order_and_shows_nothing()
                throws Exception {
            PushNode node = node(SETTINGS);
            String aliceBearer = TestTokens.bearer(tokens.customer(alice));
            UUID bobOrder = UUID.randomUUID();
            UUID laterBobOrder = UUID.randomUUID();
            List<Long> positions = changes(bobOrder, bob, 1, 1);
            SseClient operatorView = sse(node, "/api/customers/" + bob + "/orders/stream");
            eventually("the operator sees Bob's order", () -> operatorView.orders().size() == 1);

            // An order of Bob's, one that becomes Bob's later, one that never comes; fresh, and resumed.
            List<SseClient> attempts = new ArrayList<>();
            for (UUID order : List.of(bobOrder, laterBobOrder, UUID.randomUUID())) {
                attempts.add(sse(node, "/api/orders/" + order + "/stream", "Authorization", aliceBearer));
                attempts.add(sse(node, "/api/orders/" + order + "/stream", "Authorization", aliceBearer,
                        "Last-Event-ID", Long.toString(positions.get(0))));
            }
            changes(bobOrder, bob, 2, 3);
            changes(laterBobOrder, bob, 1, 2);
            eventually("the operator sees Bob's changes", () -> operatorView.orders().size() == 5);
            Thread.sleep(QUIET_WINDOW_MS);
            for (SseClient attempt : attempts) {
                assertThat(attempt.status()).isEqualTo(200);
                assertThat(attempt.events).as("anything of Bob's order").isEmpty();
            }
            assertThat(node.hub.metrics().openConnections()).isEqualTo(1 + attempts.size());
        }

        @Test
        void a_websocket_subscription_to_another_customer_gets_the_unknown_id_error_and_to_its_order_no_frame()
                throws Exception {
            PushNode node = node(SETTINGS);
            String aliceToken = tokens.customer(alice);
            UUID bobOrder = UUID.randomUUID();
            UUID stranger = UUID.randomUUID();

            WsClient whileUnknown = WsClient.connect(ws, node.port(), null, aliceToken);
            JsonObject unknown = refusal(whileUnknown, subscribe("customerId", stranger));
            assertThat(unknown.getInteger("status")).isEqualTo(404);
            assertThat(refusal(whileUnknown, subscribe("customerId", bob))).isEqualTo(withId(unknown, stranger, bob));

            List<Long> positions = changes(bobOrder, bob, 1, 1);
            SseClient operatorView = sse(node, "/api/customers/" + bob + "/orders/stream");
            eventually("the operator sees Bob's order", () -> operatorView.orders().size() == 1);

            WsClient foreign = WsClient.connect(ws, node.port(), null, aliceToken);
            assertThat(refusal(foreign, subscribe("customerId", bob))).isEqualTo(withId(unknown, stranger, bob));
            assertThat(refusal(foreign, subscribe("customerId", bob).put("lastEventId", "0")))
                    .isEqualTo(withId(unknown, stranger, bob));
            WsClient orderOfBob = WsClient.connect(ws, node.port(), null, aliceToken);
            orderOfBob.send(subscribe("orderId", bobOrder).put("lastEventId", Long.toString(positions.get(0))));

            // Bob's order changes: the operator sees it, Alice's sockets get nothing of it.
            changes(bobOrder, bob, 2, 3);
            eventually("the operator sees the changes", () -> operatorView.orders().size() == 3);
            Thread.sleep(QUIET_WINDOW_MS);
            for (WsClient socket : List.of(whileUnknown, foreign)) {
                assertThat(socket.messages).allSatisfy(message -> assertThat(message.getString("type")).isEqualTo("error"));
            }
            // accepted as for an unknown order: at most where to resume from (a change-log position, sent when
            // the log had moved past its lastEventId by the time it was read), nothing of the order
            assertThat(orderOfBob.messages).as("the order subscription, accepted as for an unknown order")
                    .allSatisfy(m -> assertThat(m.fieldNames()).containsExactlyInAnyOrder("type", "id"))
                    .allSatisfy(m -> assertThat(m.getString("type")).isEqualTo("position"));
            for (WsClient socket : List.of(whileUnknown, foreign, orderOfBob)) {
                assertThat(socket.messages.toString()).doesNotContain("PENDING").doesNotContain("APPROVED")
                        .doesNotContain("CANCELLED");
            }
            assertThat(foreign.closeCode).isNull();

            // The socket stays usable for what is Alice's own.
            UUID aliceOrder = UUID.randomUUID();
            changes(aliceOrder, alice, 1, 1);
            foreign.send(subscribe("customerId", alice));
            eventually("Alice's own state", () -> foreign.orders().size() == 1);
            assertThat(foreign.orders().get(0).getJsonObject("order").getString("orderId")).isEqualTo(aliceOrder.toString());
        }

        @Test
        void a_refused_sse_subscriber_gets_nothing_while_the_other_customers_orders_change() throws Exception {
            PushNode node = node(SETTINGS);
            String aliceToken = tokens.customer(alice);
            UUID bobOrder = UUID.randomUUID();
            changes(bobOrder, bob, 1, 1);
            SseClient operatorView = sse(node, "/api/orders/" + bobOrder + "/stream");
            eventually("the operator sees Bob's order", () -> operatorView.orders().size() == 1);
            changes(UUID.randomUUID(), alice, 1, 1);
            SseClient mine = sse(node, "/api/customers/" + alice + "/orders/stream",
                    "Authorization", TestTokens.bearer(aliceToken));
            eventually("Alice's own order", () -> mine.orders().size() == 1);

            SseClient refused = sse(node, "/api/customers/" + bob + "/orders/stream",
                    "Authorization", TestTokens.bearer(aliceToken));
            assertThat(refused.status()).isEqualTo(404);
            changes(bobOrder, bob, 2, 3);
            eventually("the operator sees Bob's changes", () -> operatorView.orders().size() == 3);
            Thread.sleep(QUIET_WINDOW_MS);
            assertThat(mine.orders()).hasSize(1);
            assertThat(mine.orders().get(0).json().getString("customerId")).isEqualTo(alice.toString());
            assertThat(await(refused.body()).toString()).doesNotContain(bobOrder.toString()).doesNotContain("PENDING");
        }
    }

    @Nested
    @DisplayName("Before the read model knows an id")
    class BeforeTheReadModel {

        @Test
        void a_new_customer_and_the_order_it_just_placed_are_streamed_at_once_and_their_state_arrives_when_projected()
                throws Exception {
            PushNode node = node(SETTINGS);
            UUID newcomer = UUID.randomUUID();
            UUID placed = UUID.randomUUID();
            String token = TestTokens.bearer(tokens.customer(newcomer));
            SseClient ownStream = sse(node, "/api/customers/" + newcomer + "/orders/stream", "Authorization", token);
            SseClient orderStream = sse(node, "/api/orders/" + placed + "/stream", "Authorization", token);
            WsClient socket = WsClient.connect(ws, node.port(), null, tokens.customer(newcomer));
            socket.send(subscribe("orderId", placed));
            SseClient operatorsOfCustomer = sse(node, "/api/customers/" + newcomer + "/orders/stream");
            SseClient operatorsOfOrder = sse(node, "/api/orders/" + placed + "/stream");
            for (SseClient stream : List.of(ownStream, orderStream, operatorsOfCustomer, operatorsOfOrder)) {
                assertThat(stream.status()).as("a stream of an id the read model has not seen").isEqualTo(200);
            }

            List<Long> positions = changes(placed, newcomer, 1, 2);
            eventually("the order on every stream", () -> ownStream.orders().size() == 2 && orderStream.orders().size() == 2
                    && socket.orders().size() == 2 && operatorsOfCustomer.orders().size() == 2
                    && operatorsOfOrder.orders().size() == 2);
            assertThat(ids(ownStream.orders())).containsExactlyElementsOf(positions);
            assertThat(ids(orderStream.orders())).containsExactlyElementsOf(positions);
            assertThat(socket.errors()).isEmpty();
        }
    }

    @Nested
    @DisplayName("Token expiry")
    class Expiry {

        @Test
        void an_sse_stream_is_ended_with_an_expired_event_when_its_token_expires() throws Exception {
            PushNode node = node(SETTINGS);
            UUID order = UUID.randomUUID();
            changes(order, alice, 1, 1);
            warmUp(node, order);
            SseClient client = sse(node, "/api/customers/" + alice + "/orders/stream",
                    "Authorization", TestTokens.bearer(tokens.expiringIn(alice, 2)));
            assertThat(client.status()).as(client.status() == 200 ? "" : await(client.body()).toString())
                    .isEqualTo(200);
            eventually("the state", () -> client.orders().size() == 1);
            eventually("the server ends the stream", () -> client.ended);
            assertThat(client.events.getLast().event()).isEqualTo("expired");
            assertThat(client.lastId()).as("the client keeps its last id to resume with")
                    .isEqualTo(client.orders().get(0).id());
            eventually("the connection released", () -> node.hub.metrics().openConnections() == 0);
            assertThat(node.hub.metrics().expiredCount()).isEqualTo(1);
            changes(order, alice, 2, 2);
            Thread.sleep(200);
            assertThat(client.orders()).hasSize(1);
        }

        @Test
        void a_websocket_is_closed_with_4401_when_its_token_expires_with_or_without_a_subscription() throws Exception {
            PushNode node = node(SETTINGS);
            UUID order = UUID.randomUUID();
            changes(order, alice, 1, 1);
            warmUp(node, order);
            WsClient subscribed = WsClient.connect(ws, node.port(), null, tokens.expiringIn(alice, 2));
            subscribed.send(subscribe("customerId", alice));
            WsClient idle = WsClient.connect(ws, node.port(), null, tokens.expiringIn(alice, 2));
            eventually("the state", () -> subscribed.orders().size() == 1);
            eventually("both sockets closed", () -> subscribed.closeCode != null && idle.closeCode != null);
            assertThat(subscribed.closeCode).isEqualTo((short) 4401);
            assertThat(idle.closeCode).isEqualTo((short) 4401);
            assertThat(subscribed.closeReason).contains("expired");
            eventually("the connections released", () -> node.hub.metrics().openConnections() == 0);
            assertThat(node.hub.metrics().expiredCount()).isEqualTo(2);
        }

        @Test
        void a_stream_that_ends_first_cancels_its_expiry() throws Exception {
            PushNode node = node(SETTINGS);
            UUID order = UUID.randomUUID();
            changes(order, alice, 1, 1);
            warmUp(node, order);
            SseClient client = sse(node, "/api/customers/" + alice + "/orders/stream",
                    "Authorization", TestTokens.bearer(tokens.expiringIn(alice, 2)));
            eventually("the state", () -> client.orders().size() == 1);
            client.cut();
            eventually("the server sees the cut", () -> node.hub.metrics().openConnections() == 0);
            Thread.sleep(2_500);
            assertThat(node.hub.metrics().expiredCount()).isZero();
        }
    }

    /**
     * Opens and closes an operator's stream first, so that a short-lived token is not spent on a cold
     * start (the server accepts a token at most a few seconds past its expiry).
     */
    void warmUp(PushNode node, UUID order) throws Exception {
        SseClient warm = sse(node, "/api/orders/" + order + "/stream");
        eventually("the warm-up stream's state", () -> warm.orders().size() == 1);
        warm.cut();
        eventually("the warm-up stream closed", () -> node.hub.metrics().openConnections() == 0);
    }

    /** A refusal about one id, as it reads for another id. */
    static JsonObject withId(JsonObject refusal, UUID from, UUID to) {
        return new JsonObject(refusal.encode().replace(from.toString(), to.toString()));
    }

    static JsonObject subscribe(String field, UUID id) {
        return new JsonObject().put("type", "subscribe").put(field, id.toString());
    }

    /** Sends a subscription that must be refused; answers the error message it gets. */
    static JsonObject refusal(WsClient socket, JsonObject subscription) throws Exception {
        int before = socket.errors().size();
        socket.send(subscription);
        eventually("an error for " + subscription.encode(), () -> socket.errors().size() == before + 1);
        return socket.errors().get(before);
    }

    /** The problem a refused stream answers, without its correlation id (which differs per request). */
    JsonObject refusal(PushNode node, String path, String token, String... headers) throws Exception {
        List<String> all = new ArrayList<>(List.of(headers));
        if (token != null) {
            all.addAll(List.of("Authorization", TestTokens.bearer(token)));
        }
        SseClient client = sse(node, path, all.toArray(String[]::new));
        JsonObject problem = await(client.body()).toJsonObject();
        problem.put("httpStatus", client.status()).put("contentType", client.response().getHeader("Content-Type"));
        problem.remove("correlationId");
        return problem;
    }
}
