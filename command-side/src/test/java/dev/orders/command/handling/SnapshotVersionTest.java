package dev.orders.command.handling;

import dev.orders.command.domain.Customer;
import dev.orders.command.domain.CustomerState;
import dev.orders.command.domain.Order;
import dev.orders.command.domain.OrderState;
import dev.orders.events.CustomerEvent;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("The version of a snapshot")
class SnapshotVersionTest {

    /** The customer's state as it is, and three changes a developer might make to it. */
    record Now(UUID customerId, String name, Money creditLimit, Money reserved, Map<UUID, Money> reservations) {
    }

    record FieldAdded(UUID customerId, String name, Money creditLimit, Money reserved, Map<UUID, Money> reservations,
                      boolean blocked) {
    }

    record FieldRenamed(UUID customerId, String name, Money limit, Money reserved, Map<UUID, Money> reservations) {
    }

    record TypeChanged(UUID customerId, String name, Money creditLimit, Money reserved, Map<UUID, String> reservations) {
    }

    @Test
    @DisplayName("is the same for the same state, fold and events")
    void is_stable() {
        assertThat(SnapshotVersion.of(CustomerState.class, Customer.class, CustomerEvent.class))
                .isEqualTo(SnapshotVersion.of(CustomerState.class, Customer.class, CustomerEvent.class))
                .isEqualTo(AggregateType.CUSTOMER.snapshotSchemaVersion())
                .isPositive();
    }

    @Test
    @DisplayName("changes when the state gains, renames or retypes a field")
    void follows_the_shape() {
        int now = SnapshotVersion.of(Now.class, Customer.class, CustomerEvent.class);
        assertThat(SnapshotVersion.of(FieldAdded.class, Customer.class, CustomerEvent.class)).isNotEqualTo(now);
        assertThat(SnapshotVersion.of(FieldRenamed.class, Customer.class, CustomerEvent.class)).isNotEqualTo(now);
        assertThat(SnapshotVersion.of(TypeChanged.class, Customer.class, CustomerEvent.class)).isNotEqualTo(now);
    }

    @Test
    @DisplayName("changes with the fold's code and with the events it folds")
    void follows_the_fold_and_the_events() {
        int customer = SnapshotVersion.of(CustomerState.class, Customer.class, CustomerEvent.class);
        assertThat(SnapshotVersion.of(CustomerState.class, Order.class, CustomerEvent.class)).isNotEqualTo(customer);
        assertThat(SnapshotVersion.of(CustomerState.class, Customer.class, OrderEvent.class)).isNotEqualTo(customer);
        assertThat(AggregateType.ORDER.snapshotSchemaVersion())
                .isEqualTo(SnapshotVersion.of(OrderState.class, Order.class, OrderEvent.class));
    }

    @Test
    @DisplayName("reads the state's shape down into the records it holds")
    void describes_nested_records() {
        assertThat(SnapshotVersion.shape(Now.class)).contains("creditLimit:", "amount:", "currency:",
                "reservations:java.util.Map<java.util.UUID, dev.orders.events.Money>");
    }
}
