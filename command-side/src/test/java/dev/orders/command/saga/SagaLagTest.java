package dev.orders.command.saga;

import dev.orders.events.Money;
import dev.orders.events.OrderStatus;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static dev.orders.command.saga.SagaWorld.await;
import static dev.orders.command.saga.SagaWorld.eventually;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(SharedInfrastructure.class)
@DisplayName("The saga's consumer lag")
class SagaLagTest {

    private static final Money TEN = new Money(new BigDecimal("10"), "EUR");

    @Test
    @DisplayName("grows per partition while the saga holds back, and falls to zero once it has reacted")
    void grows_while_held_back_and_returns_to_zero(TestInfrastructure infra) throws Exception {
        // the lag is read every metrics.refresh-interval: a short one here, so that the test sees it move soon
        OrdersConfig config = infra.isolatedConfig().with("metrics.refresh-interval", "PT0.2S");
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            UUID customer = world.createCustomer(new Money(new BigDecimal("1000"), "EUR"));
            world.awaitQuiet(Duration.ofSeconds(30));
            await(service.saga.pauseConsumer());
            List<UUID> orders = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                UUID order = UUID.randomUUID();
                orders.add(order);
                await(world.placeOrder(order, customer, TEN));
            }
            long held = eventually(Duration.ofSeconds(20), "lag of the five orders",
                    () -> service.saga.lag().latest().total(), lag -> lag >= 5);
            assertThat(held).as("five OrderCreated not reacted to yet").isGreaterThanOrEqualTo(5);

            await(service.saga.resumeConsumer());
            for (UUID order : orders) {
                eventually(Duration.ofSeconds(20), "approved", () -> world.order(order),
                        state -> state.status() == OrderStatus.APPROVED);
            }
            long after = eventually(Duration.ofSeconds(20), "lag back to zero",
                    () -> service.saga.lag().latest().total(), lag -> lag == 0);
            assertThat(after).isZero();
        }
    }
}
