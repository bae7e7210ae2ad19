package dev.orders.events;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static dev.orders.events.SampleEvents.CUSTOMER;
import static dev.orders.events.SampleEvents.ORDER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@DisplayName("Unreadable events are refused with an EventFormatException")
class EventFormatTest {

    private static final String ORDER_CREATED = """
            {"orderId": "%s", "customerId": "%s", "total": {"amount": "10.00", "currency": "EUR"}}
            """.formatted(ORDER, CUSTOMER);

    @Nested
    @DisplayName("when reading stored data")
    class StoredData {

        @Test
        @DisplayName("an unknown event type")
        void unknown_type() {
            assertThatThrownBy(() -> EventJson.eventOf("OrderShipped", 1, ORDER_CREATED))
                    .isInstanceOf(EventFormatException.class)
                    .hasMessageContaining("OrderShipped");
        }

        @Test
        @DisplayName("a schema newer than this service knows")
        void too_new_schema() {
            assertThatThrownBy(() -> EventJson.eventOf("OrderCreated", 2, ORDER_CREATED))
                    .isInstanceOf(EventFormatException.class)
                    .hasMessageContaining("newer");
            assertThatThrownBy(() -> EventJson.eventOf("CustomerCreated", 3, "{}"))
                    .isInstanceOf(EventFormatException.class)
                    .hasMessageContaining("newer");
        }

        @ParameterizedTest(name = "without ''{0}''")
        @ValueSource(strings = {"orderId", "customerId", "total"})
        @DisplayName("a missing field")
        void missing_field(String field) {
            ObjectNode data = parse(ORDER_CREATED);
            data.remove(field);

            assertThatThrownBy(() -> EventJson.eventOf("OrderCreated", 1, data))
                    .isInstanceOf(EventFormatException.class)
                    .hasMessageContaining(field);
        }

        @Test
        @DisplayName("a field that is null")
        void null_field() {
            ObjectNode data = parse(ORDER_CREATED);
            data.putNull("total");

            assertThatThrownBy(() -> EventJson.eventOf("OrderCreated", 1, data))
                    .isInstanceOf(EventFormatException.class)
                    .hasMessageContaining("total");
        }

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {
                "{\"amount\": \"abc\", \"currency\": \"EUR\"}",
                "{\"amount\": \"-1.00\", \"currency\": \"EUR\"}",
                "{\"amount\": \"1.001\", \"currency\": \"EUR\"}",
                "{\"amount\": \"1.00\", \"currency\": \"eur\"}",
                "{\"amount\": \"1000000000.01\", \"currency\": \"EUR\"}",
                "{\"amount\": \"1.00\"}",
                "{\"amount\": 10.5, \"currency\": \"EUR\"}",
                "{\"amount\": 10, \"currency\": \"EUR\"}",
                "{\"currency\": \"EUR\"}",
                "\"10.00 EUR\""})
        @DisplayName("money that is not money (a number amount included: money is never a float)")
        void bad_money(String money) {
            String data = """
                    {"orderId": "%s", "customerId": "%s", "total": %s}
                    """.formatted(ORDER, CUSTOMER, money);

            assertThatThrownBy(() -> EventJson.eventOf("OrderCreated", 1, data))
                    .isInstanceOf(EventFormatException.class);
        }

        @Test
        @DisplayName("an id that is not a UUID")
        void bad_uuid() {
            String data = ORDER_CREATED.replace(ORDER.toString(), "not-a-uuid");

            assertThatThrownBy(() -> EventJson.eventOf("OrderCreated", 1, data))
                    .isInstanceOf(EventFormatException.class);
        }

        @Test
        @DisplayName("a rejection reason this service does not know")
        void unknown_enum_value() {
            String data = """
                    {"orderId": "%s", "customerId": "%s", "reason": "MOON_PHASE"}
                    """.formatted(ORDER, CUSTOMER);

            assertThatThrownBy(() -> EventJson.eventOf("OrderRejected", 1, data))
                    .isInstanceOf(EventFormatException.class);
        }

        @ParameterizedTest(name = "[{index}] <{0}>")
        @ValueSource(strings = {"", "{", "not json", "[]", "42", "null", "\"text\""})
        @DisplayName("data that is not a JSON object")
        void not_an_object(String data) {
            assertThatThrownBy(() -> EventJson.eventOf("OrderCreated", 1, data))
                    .isInstanceOf(EventFormatException.class);
        }
    }

    @Nested
    @DisplayName("when decoding a published envelope")
    class PublishedEnvelope {

        private ObjectNode envelope() {
            return parse(new String(EventJson.encode(SampleEvents.envelope(
                    new OrderEvent.OrderApproved(ORDER, CUSTOMER))), StandardCharsets.UTF_8));
        }

        @Test
        @DisplayName("an unknown event type")
        void unknown_type() {
            ObjectNode envelope = envelope().put("type", "OrderShipped");

            assertThatThrownBy(() -> decode(envelope)).isInstanceOf(EventFormatException.class)
                    .hasMessageContaining("OrderShipped");
        }

        @Test
        @DisplayName("a schema newer than this service knows")
        void too_new_schema() {
            ObjectNode envelope = envelope().put("schemaVersion", 2);

            assertThatThrownBy(() -> decode(envelope)).isInstanceOf(EventFormatException.class)
                    .hasMessageContaining("newer");
        }

        @ParameterizedTest(name = "without ''{0}''")
        @ValueSource(strings = {"eventId", "type", "version", "occurredAt", "data"})
        @DisplayName("a missing envelope field")
        void missing_envelope_field(String field) {
            ObjectNode envelope = envelope();
            envelope.remove(field);

            assertThatThrownBy(() -> decode(envelope)).isInstanceOf(EventFormatException.class);
        }

        @Test
        @DisplayName("a missing field of the event's data")
        void missing_data_field() {
            ObjectNode envelope = envelope();
            ((ObjectNode) envelope.get("data")).remove("customerId");

            assertThatThrownBy(() -> decode(envelope)).isInstanceOf(EventFormatException.class)
                    .hasMessageContaining("customerId");
        }

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"eventId=nope", "occurredAt=yesterday", "version=0"})
        @DisplayName("a bad envelope value")
        void bad_envelope_value(String assignment) {
            String[] parts = assignment.split("=");
            ObjectNode envelope = envelope();
            if (parts[0].equals("version")) {
                envelope.put("version", Long.parseLong(parts[1]));
            } else {
                envelope.put(parts[0], parts[1]);
            }

            assertThatThrownBy(() -> decode(envelope)).isInstanceOf(EventFormatException.class);
        }

        @ParameterizedTest(name = "[{index}] <{0}>")
        @ValueSource(strings = {"", "not json", "[]", "null", "{\"type\": \"OrderApproved\"}"})
        @DisplayName("bytes that are not an envelope")
        void not_an_envelope(String text) {
            assertThatThrownBy(() -> EventJson.decode(text.getBytes(StandardCharsets.UTF_8)))
                    .isInstanceOf(EventFormatException.class);
        }

        @Test
        @DisplayName("but an intact envelope decodes")
        void intact_envelope_decodes() {
            assertThat(decode(envelope()).event()).isEqualTo(new OrderEvent.OrderApproved(ORDER, CUSTOMER));
        }
    }

    private static EventEnvelope decode(ObjectNode envelope) {
        return EventJson.decode(envelope.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static ObjectNode parse(String json) {
        try {
            return (ObjectNode) EventJson.mapper().readTree(json);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
