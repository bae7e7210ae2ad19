package dev.orders.query.push;

import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.http.HttpServerOptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code GET /api/orders/stream}: every customer's order changes, for operators, with resume. */
@DisplayName("The operators' stream of every order change")
class OperatorStreamsTest extends PushTestBase {

    static final String PATH = "/api/orders/stream";

    @Test
    @DisplayName("sends the recent changes of every customer (the latest per order), then every later change, ids increasing")
    void sends_recent_changes_then_every_later_one_of_every_customer() throws Exception {
        PushNode node = node(SETTINGS);
        UUID ada = UUID.randomUUID();
        UUID bob = UUID.randomUUID();
        List<Long> before = new ArrayList<>(changes(UUID.randomUUID(), ada, 1, 2));
        before.addAll(changes(UUID.randomUUID(), bob, 1, 1));

        SseClient client = sse(node, PATH);
        assertThat(client.status()).isEqualTo(200);
        assertThat(client.response().getHeader("Content-Type")).startsWith("text/event-stream");
        eventually("the recent changes", () -> client.orders().size() == 2);
        assertThat(ids(client.orders())).containsExactly(before.get(1), before.get(2));

        List<Long> later = new ArrayList<>(changes(UUID.randomUUID(), bob, 1, 1));
        later.addAll(changes(UUID.randomUUID(), ada, 1, 1));
        later.addAll(changes(UUID.randomUUID(), bob, 1, 1));
        eventually("the later changes", () -> client.orders().size() == 5);
        assertThat(ids(client.orders()).subList(2, 5)).containsExactlyElementsOf(later);
    }

    @Test
    @DisplayName("a resume with Last-Event-ID replays exactly the changes after it; a future id gets a reset")
    void resumes_after_the_last_id() throws Exception {
        PushNode node = node(SETTINGS);
        UUID customer = UUID.randomUUID();
        changes(UUID.randomUUID(), customer, 1, 2);
        SseClient first = sse(node, PATH);
        eventually("the recent state", () -> first.orders().size() == 1);
        String last = first.lastId();
        first.cut();

        List<Long> missed = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            missed.addAll(changes(UUID.randomUUID(), UUID.randomUUID(), 1, 1));
        }
        SseClient resumed = sse(node, PATH, "Last-Event-ID", last);
        eventually("the missed changes", () -> resumed.orders().size() == 5);
        assertThat(ids(resumed.orders())).containsExactlyElementsOf(missed);
        assertThat(resumed.events.stream().map(SseClient.Event::event)).doesNotContain("reset");

        SseClient fromTheFuture = sse(node, PATH, "Last-Event-ID", "999999");
        eventually("a reset and the recent orders' states", () -> fromTheFuture.orders().size() == 6);
        assertThat(fromTheFuture.events.getFirst().event()).isEqualTo("reset");
    }

    @Test
    @DisplayName("a node serves at most push.operator.max-streams operators' streams; one more answers 503 with Retry-After")
    void serves_at_most_the_configured_streams() throws Exception {
        OperatorStreamSettings one = OperatorStreamSettings.of(OrdersConfig.fromMap(Map.of("push.operator.max-streams", "1")));
        PushNode node = node(SETTINGS, one, new HttpServerOptions());
        SseClient first = sse(node, PATH);
        assertThat(first.status()).isEqualTo(200);
        SseClient second = sse(node, PATH);
        assertThat(second.status()).isEqualTo(503);
        assertThat(second.response().getHeader("Retry-After")).isNotNull();
        assertThat(await(second.body()).toJsonObject().getString("detail")).contains("maximum of 1 operator streams");
    }

    @Test
    @DisplayName("a customer gets 403, and no stream")
    void a_customer_is_refused() throws Exception {
        PushNode node = node(SETTINGS);
        UUID customer = UUID.randomUUID();
        changes(UUID.randomUUID(), customer, 1, 1);
        SseClient refused = sse(node, PATH, "Authorization", TestTokens.bearer(tokens.customer(customer)));
        assertThat(refused.status()).isEqualTo(403);
        assertThat(await(refused.body()).toJsonObject().getString("detail")).contains("operator");
    }
}
