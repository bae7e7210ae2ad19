package dev.orders.app.faults;

import dev.orders.app.faults.Audit.Event;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit's credit check (invariant 5) on stored events, without servers: a cancelled order's credit still
 * reserved is a finding only in the state the audit ends with, never in one it passes while waiting for quiet.
 */
class AuditCreditTest {

    private final UUID customer = UUID.randomUUID();
    private final UUID kept = UUID.randomUUID();
    private final UUID cancelled = UUID.randomUUID();
    private final List<Event> events = new ArrayList<>();
    private long position;

    @Test
    @DisplayName("a cancelled order whose release has not come yet is a finding naming the order and its trail")
    void release_not_yet_come() {
        placedApprovedAndCancelled();

        List<String> findings = findings();

        assertThat(findings).singleElement().asString()
                .contains("customer " + customer + " reserves 57.62 but its approved orders total 50.00")
                .contains("order " + cancelled + " CANCELLED holds 7.62")
                .contains("CreditReserved", "OrderCancelled")
                .doesNotContain("order " + kept);
    }

    @Test
    @DisplayName("the same history once the release came: no finding, whatever an earlier fold of it found")
    void release_came_later() {
        placedApprovedAndCancelled();
        assertThat(findings()).as("while the release is on its way").hasSize(1);

        customerEvent("CreditReleased", new JsonObject().put("orderId", cancelled.toString()).put("amount", money("7.62")));

        assertThat(findings()).isEmpty();
    }

    @Test
    @DisplayName("credit reserved over the limit is a finding at the version it happened")
    void over_the_limit() {
        customerEvent("CustomerCreated", new JsonObject().put("creditLimit", money("10.00")));
        order(kept, "OrderCreated", new JsonObject().put("customerId", customer.toString()).put("total", money("12.00")));
        customerEvent("CreditReserved", new JsonObject().put("orderId", kept.toString()).put("amount", money("12.00")));
        order(kept, "OrderApproved", new JsonObject());

        assertThat(findings()).singleElement().asString()
                .isEqualTo("customer " + customer + " reserved 12.00 over its limit 10.00 at version 2");
    }

    private void placedApprovedAndCancelled() {
        customerEvent("CustomerCreated", new JsonObject().put("creditLimit", money("400.00")));
        for (UUID order : List.of(kept, cancelled)) {
            String total = order == kept ? "50.00" : "7.62";
            order(order, "OrderCreated", new JsonObject().put("customerId", customer.toString()).put("total", money(total)));
            customerEvent("CreditReserved", new JsonObject().put("orderId", order.toString()).put("amount", money(total)));
            order(order, "OrderApproved", new JsonObject());
        }
        order(cancelled, "OrderCancelled", new JsonObject());
    }

    private List<String> findings() {
        List<String> findings = new ArrayList<>();
        Audit.foldCustomers(events, Audit.foldOrders(events), findings);
        return findings;
    }

    private void customerEvent(String type, JsonObject data) {
        add("customer", customer, type, data);
    }

    private void order(UUID order, String type, JsonObject data) {
        add("order", order, type, data);
    }

    private void add(String streamType, UUID stream, String type, JsonObject data) {
        int version = (int) events.stream().filter(e -> e.streamId().equals(stream)).count() + 1;
        events.add(new Event(UUID.randomUUID(), streamType, stream, version, type, data, ++position));
    }

    private static JsonObject money(String amount) {
        return new JsonObject().put("amount", amount).put("currency", "EUR");
    }
}
