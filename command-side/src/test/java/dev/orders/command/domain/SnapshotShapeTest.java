package dev.orders.command.domain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.orders.events.CustomerEvent.CreditLimitExceeded;
import dev.orders.events.CustomerEvent.CreditReleased;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.events.EventJson;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent.OrderApproved;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.events.OrderEvent.OrderRejected;
import dev.orders.events.OrderStatus;
import dev.orders.events.RejectionReason;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("Aggregate states stored as JSON snapshots")
class SnapshotShapeTest {

    private static final ObjectMapper JSON = EventJson.mapper();
    private static final UUID CUSTOMER = UUID.fromString("00000000-0000-0000-0000-00000000c001");
    private static final UUID ORDER = UUID.fromString("00000000-0000-0000-0000-00000000a001");
    private static final UUID OTHER_ORDER = UUID.fromString("00000000-0000-0000-0000-00000000a002");
    private static final UUID THIRD_ORDER = UUID.fromString("00000000-0000-0000-0000-00000000a003");

    private static <T> T roundTrip(T state) throws Exception {
        @SuppressWarnings("unchecked")
        Class<T> type = (Class<T>) state.getClass();
        return JSON.readValue(JSON.writeValueAsString(state), type);
    }

    @Nested
    @DisplayName("of a customer")
    class OfCustomer {

        private final CustomerState busy = Customer.INSTANCE.fold(CustomerState.NONE, List.of(
                new CustomerCreated(CUSTOMER, "Ada \"the Countess\" Lovelace", Money.parse("1000", "EUR")),
                new CreditReserved(CUSTOMER, ORDER, Money.parse("250.50", "EUR")),
                new CreditReserved(CUSTOMER, OTHER_ORDER, Money.parse("100", "EUR")),
                new CreditLimitExceeded(CUSTOMER, THIRD_ORDER, Money.parse("5000", "EUR")),
                new CreditReleased(CUSTOMER, OTHER_ORDER, Money.parse("100", "EUR"))));

        @Test
        @DisplayName("survive a JSON round trip, reservations included")
        void customer_state_round_trips() throws Exception {
            CustomerState read = roundTrip(busy);

            assertThat(read).isEqualTo(busy);
            assertThat(read.available()).isEqualTo(Money.parse("749.50", "EUR"));
        }

        @Test
        @DisplayName("stay immutable after they are read back")
        void read_back_state_is_immutable() throws Exception {
            CustomerState read = roundTrip(busy);

            assertThat(read.reservations().getClass()).isEqualTo(busy.reservations().getClass());
        }

        @Test
        @DisplayName("write money as strings and hold only the state's fields")
        void customer_state_has_a_plain_shape() throws Exception {
            JsonNode json = JSON.readTree(JSON.writeValueAsString(busy));

            assertThat(json.get("creditLimit").get("amount").isTextual()).isTrue();
            assertThat(json.get("reserved").get("amount").asText()).isEqualTo("250.50");
            assertThat(json.get("reservations").get(ORDER.toString()).get("amount").asText()).isEqualTo("250.50");
            assertThat(json.get("reservations")).hasSize(1);
            List<String> fields = new java.util.ArrayList<>();
            json.fieldNames().forEachRemaining(fields::add);
            assertThat(fields).containsExactlyInAnyOrder("customerId", "name", "creditLimit", "reserved",
                    "reservations");
        }

        @Test
        @DisplayName("of a customer that does not exist survive too")
        void none_round_trips() throws Exception {
            assertThat(roundTrip(CustomerState.NONE)).isEqualTo(CustomerState.NONE);
        }
    }

    @Nested
    @DisplayName("of an order")
    class OfOrder {

        @Test
        @DisplayName("survive a JSON round trip in every status")
        void order_state_round_trips() throws Exception {
            OrderCreated created = new OrderCreated(ORDER, CUSTOMER, Money.parse("0.01", "CHF"));
            List<OrderState> states = List.of(
                    OrderState.NONE,
                    Order.INSTANCE.fold(OrderState.NONE, List.of(created)),
                    Order.INSTANCE.fold(OrderState.NONE, List.of(created, new OrderApproved(ORDER, CUSTOMER))),
                    Order.INSTANCE.fold(OrderState.NONE, List.of(created,
                            new OrderRejected(ORDER, CUSTOMER, RejectionReason.CREDIT_CHECK_TIMEOUT))),
                    new OrderState(ORDER, CUSTOMER, Money.parse("1000000000", "EUR"), OrderStatus.CANCELLED, null));

            for (OrderState state : states) {
                assertThat(roundTrip(state)).isEqualTo(state);
            }
        }

        @Test
        @DisplayName("write status and reason as names")
        void order_state_has_a_plain_shape() throws Exception {
            OrderState rejected = new OrderState(ORDER, CUSTOMER, Money.parse("5", "EUR"), OrderStatus.REJECTED,
                    RejectionReason.CREDIT_LIMIT_EXCEEDED);

            assertThat(JSON.readTree(JSON.writeValueAsString(rejected))).isEqualTo(JSON.readTree("""
                    {"orderId": "%s", "customerId": "%s", "total": {"amount": "5.00", "currency": "EUR"},
                     "status": "REJECTED", "reason": "CREDIT_LIMIT_EXCEEDED"}
                    """.formatted(ORDER, CUSTOMER)));
        }
    }
}
