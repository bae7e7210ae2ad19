package dev.orders.query.store;

import dev.orders.events.Money;
import dev.orders.events.OrderStatus;
import dev.orders.query.model.CustomerView;
import dev.orders.query.model.OrderView;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The projector's memory of the views it wrote: bounded, least recently used forgotten first. */
@DisplayName("The projector's view memory")
class ViewMemoryTest {

    private static final Instant T0 = Instant.parse("2025-07-01T08:00:00Z");

    @Test
    @DisplayName("holds at most its capacity of each kind, forgetting the view least recently used")
    void forgets_the_least_recently_used() {
        ViewMemory memory = new ViewMemory(2);
        OrderView a = order();
        OrderView b = order();
        OrderView c = order();
        memory.remember(List.of(a, b), List.of());
        assertThat(memory.order(a.orderId())).as("a, used again").isEqualTo(a);

        memory.remember(List.of(c), List.of());

        assertThat(memory.order(b.orderId())).as("b, the least recently used").isNull();
        assertThat(memory.order(a.orderId())).isEqualTo(a);
        assertThat(memory.order(c.orderId())).isEqualTo(c);
    }

    @Test
    @DisplayName("keeps the newest view of a stream, and forgets streams and everything on demand")
    void newest_view_and_forgetting() {
        ViewMemory memory = new ViewMemory(10);
        OrderView created = order();
        OrderView approved = new OrderView(created.orderId(), created.customerId(), OrderStatus.APPROVED, created.total(),
                null, 2, T0, T0.plusSeconds(1), false);
        CustomerView customer = new CustomerView(created.customerId(), "Dora", Money.parse("100.00", "EUR"),
                Money.parse("1.00", "EUR"), 2);
        memory.remember(List.of(created), List.of(customer));
        memory.remember(List.of(approved), List.of());
        assertThat(memory.order(created.orderId())).isEqualTo(approved);

        memory.forget(List.of(created.orderId()));
        assertThat(memory.order(created.orderId())).isNull();
        assertThat(memory.customer(customer.customerId())).isEqualTo(customer);

        memory.forgetAll();
        assertThat(memory.customer(customer.customerId())).isNull();
    }

    private static OrderView order() {
        return new OrderView(UUID.randomUUID(), UUID.randomUUID(), OrderStatus.PENDING, Money.parse("1.00", "EUR"), null, 1,
                T0, T0, false);
    }
}
