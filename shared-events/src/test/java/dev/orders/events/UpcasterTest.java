package dev.orders.events;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.orders.events.CustomerEvent.CustomerCreated;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static dev.orders.events.SampleEvents.AT;
import static dev.orders.events.SampleEvents.CUSTOMER;
import static dev.orders.events.SampleEvents.eur;
import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("Upcasting: a CustomerCreated of schema 1 (with 'limit') reads as schema 2 (with 'creditLimit')")
class UpcasterTest {

    private static final String SCHEMA_1 = """
            {"customerId": "%s", "name": "Grace Hopper", "limit": {"amount": "500.00", "currency": "USD"}}
            """.formatted(CUSTOMER);

    @Test
    @DisplayName("stored schema-1 data decodes to a CustomerCreated with its credit limit")
    void schema_1_customer_created_decodes_with_credit_limit() {
        DomainEvent event = EventJson.eventOf("CustomerCreated", 1, SCHEMA_1);

        assertThat(event).isEqualTo(new CustomerCreated(CUSTOMER, "Grace Hopper", Money.parse("500", "USD")));
    }

    @Test
    @DisplayName("a published schema-1 envelope decodes the same way and remembers the schema it came with")
    void schema_1_envelope_decodes() throws Exception {
        ObjectNode envelope = (ObjectNode) EventJson.mapper().readTree(EventJson.encode(
                SampleEvents.envelope(new CustomerCreated(CUSTOMER, "x", eur("1")))));
        envelope.put("schemaVersion", 1);
        envelope.set("data", EventJson.mapper().readTree(SCHEMA_1));

        EventEnvelope decoded = EventJson.decode(envelope.toString().getBytes(StandardCharsets.UTF_8));

        assertThat(decoded.schemaVersion()).isEqualTo(1);
        assertThat(decoded.event())
                .isEqualTo(new CustomerCreated(CUSTOMER, "Grace Hopper", Money.parse("500", "USD")));
        assertThat(decoded.occurredAt()).isEqualTo(AT);
    }

    @Test
    @DisplayName("current (schema-2) data passes through unchanged")
    void schema_2_passes_through() {
        CustomerCreated created = new CustomerCreated(CUSTOMER, "Grace Hopper", eur("500"));

        assertThat(EventJson.eventOf("CustomerCreated", 2, EventJson.dataText(created))).isEqualTo(created);
    }

    @Test
    @DisplayName("does not change the stored data it reads")
    void upcasting_leaves_its_input_alone() throws Exception {
        ObjectNode stored = (ObjectNode) EventJson.mapper().readTree(SCHEMA_1);
        ObjectNode before = stored.deepCopy();

        ObjectNode current = Upcasters.toCurrent("CustomerCreated", 1, stored);

        assertThat(stored).isEqualTo(before);
        assertThat(current.has("limit")).isFalse();
        assertThat(current.get("creditLimit")).isEqualTo(before.get("limit"));
    }

    @Test
    @DisplayName("a schema-1 record without a limit is refused as missing 'creditLimit'")
    void schema_1_without_limit_is_refused() {
        String data = """
                {"customerId": "%s", "name": "No Limit"}
                """.formatted(CUSTOMER);

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> EventJson.eventOf("CustomerCreated", 1, data))
                .isInstanceOf(EventFormatException.class)
                .hasMessageContaining("creditLimit");
    }

    @Test
    @DisplayName("other types at their current schema are not touched")
    void other_types_are_not_touched() throws Exception {
        ObjectNode data = (ObjectNode) EventJson.mapper().readTree("{\"limit\": 1}");

        assertThat(Upcasters.toCurrent("OrderCreated", 1, data)).isSameAs(data);
    }
}
