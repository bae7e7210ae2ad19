package dev.orders.command.domain;

import dev.orders.command.domain.OrderCommand.ApproveOrder;
import dev.orders.command.domain.OrderCommand.CancelOrder;
import dev.orders.command.domain.OrderCommand.CreateOrder;
import dev.orders.command.domain.OrderCommand.RejectOrder;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import dev.orders.events.OrderEvent.OrderApproved;
import dev.orders.events.OrderEvent.OrderCancelled;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.events.OrderEvent.OrderRejected;
import dev.orders.events.OrderStatus;
import dev.orders.events.RejectionReason;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.UUID;

import static dev.orders.events.RejectionReason.CREDIT_CHECK_TIMEOUT;
import static dev.orders.events.RejectionReason.CREDIT_LIMIT_EXCEEDED;
import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("An order")
class OrderTest {

    private static final UUID ORDER = UUID.fromString("00000000-0000-0000-0000-00000000a001");
    private static final UUID CUSTOMER = UUID.fromString("00000000-0000-0000-0000-00000000c001");
    private static final Money TOTAL = Money.parse("250.00", "EUR");

    private static final OrderCreated CREATED = new OrderCreated(ORDER, CUSTOMER, TOTAL);
    private static final OrderApproved APPROVED = new OrderApproved(ORDER, CUSTOMER);
    private static final OrderRejected REJECTED = new OrderRejected(ORDER, CUSTOMER, CREDIT_LIMIT_EXCEEDED);
    private static final OrderCancelled CANCELLED = new OrderCancelled(ORDER, CUSTOMER);

    private static final ApproveOrder APPROVE = new ApproveOrder(ORDER);
    private static final CancelOrder CANCEL = new CancelOrder(ORDER);

    private static DeciderScenario<OrderCommand, OrderState, OrderEvent> given(OrderEvent... history) {
        return DeciderScenario.given(Order.INSTANCE, history);
    }

    private static RejectOrder reject(RejectionReason reason) {
        return new RejectOrder(ORDER, reason);
    }

    @Nested
    @DisplayName("when asked to be created")
    class Create {

        private final CreateOrder create = new CreateOrder(ORDER, CUSTOMER, TOTAL);

        @Test
        @DisplayName("is created PENDING for its customer and total")
        void creates_pending_order() {
            OrderState state = given().when(create).then(CREATED);

            assertThat(state).isEqualTo(new OrderState(ORDER, CUSTOMER, TOTAL, OrderStatus.PENDING, null));
        }

        @Test
        @DisplayName("is refused when it is PENDING already")
        void refuses_to_create_pending_order_again() {
            given(CREATED).when(create).thenRejects(Rejection.ALREADY_EXISTS);
        }

        @Test
        @DisplayName("is refused when it is APPROVED already")
        void refuses_to_create_approved_order_again() {
            given(CREATED, APPROVED).when(create).thenRejects(Rejection.ALREADY_EXISTS);
        }

        @Test
        @DisplayName("is refused when it was REJECTED")
        void refuses_to_create_rejected_order_again() {
            given(CREATED, REJECTED).when(create).thenRejects(Rejection.ALREADY_EXISTS);
        }

        @Test
        @DisplayName("is refused when it was CANCELLED")
        void refuses_to_create_cancelled_order_again() {
            given(CREATED, CANCELLED).when(create).thenRejects(Rejection.ALREADY_EXISTS);
        }
    }

    @Nested
    @DisplayName("when asked to be approved")
    class Approve {

        @Test
        @DisplayName("is refused when it does not exist")
        void refuses_to_approve_unknown_order() {
            given().when(APPROVE).thenRejects(Rejection.NOT_FOUND);
        }

        @Test
        @DisplayName("is approved when it is PENDING")
        void approves_pending_order() {
            OrderState state = given(CREATED).when(APPROVE).then(APPROVED);

            assertThat(state.status()).isEqualTo(OrderStatus.APPROVED);
        }

        @Test
        @DisplayName("changes nothing when it is APPROVED already (a redelivered CreditReserved)")
        void approving_twice_changes_nothing() {
            given(CREATED, APPROVED).when(APPROVE).thenNothingHappens();
        }

        @Test
        @DisplayName("is refused when it was REJECTED (the saga then releases the credit)")
        void refuses_to_approve_rejected_order() {
            given(CREATED, new OrderRejected(ORDER, CUSTOMER, CREDIT_CHECK_TIMEOUT)).when(APPROVE)
                    .thenRejects(Rejection.INVALID_STATE);
        }

        @Test
        @DisplayName("is refused when it was CANCELLED")
        void refuses_to_approve_cancelled_order() {
            given(CREATED, CANCELLED).when(APPROVE).thenRejects(Rejection.INVALID_STATE);
        }
    }

    @Nested
    @DisplayName("when asked to be rejected")
    class Reject {

        @Test
        @DisplayName("is refused when it does not exist")
        void refuses_to_reject_unknown_order() {
            given().when(reject(CREDIT_LIMIT_EXCEEDED)).thenRejects(Rejection.NOT_FOUND);
        }

        @ParameterizedTest(name = "{0}")
        @EnumSource(RejectionReason.class)
        @DisplayName("is rejected, with the reason, when it is PENDING")
        void rejects_pending_order_with_reason(RejectionReason reason) {
            OrderState state = given(CREATED).when(reject(reason))
                    .then(new OrderRejected(ORDER, CUSTOMER, reason));

            assertThat(state.status()).isEqualTo(OrderStatus.REJECTED);
            assertThat(state.reason()).isEqualTo(reason);
        }

        @Test
        @DisplayName("changes nothing when it is APPROVED (a late credit-check timeout)")
        void late_timeout_leaves_approved_order_alone() {
            given(CREATED, APPROVED).when(reject(CREDIT_CHECK_TIMEOUT)).thenNothingHappens();
        }

        @Test
        @DisplayName("changes nothing when it was REJECTED already")
        void rejecting_twice_changes_nothing() {
            given(CREATED, REJECTED).when(reject(CREDIT_CHECK_TIMEOUT)).thenNothingHappens();
        }

        @Test
        @DisplayName("changes nothing when it was CANCELLED")
        void rejecting_cancelled_order_changes_nothing() {
            given(CREATED, CANCELLED).when(reject(CREDIT_LIMIT_EXCEEDED)).thenNothingHappens();
        }
    }

    @Nested
    @DisplayName("when asked to be cancelled")
    class Cancel {

        @Test
        @DisplayName("is refused when it does not exist")
        void refuses_to_cancel_unknown_order() {
            given().when(CANCEL).thenRejects(Rejection.NOT_FOUND);
        }

        @Test
        @DisplayName("is cancelled when it is PENDING")
        void cancels_pending_order() {
            OrderState state = given(CREATED).when(CANCEL).then(CANCELLED);

            assertThat(state.status()).isEqualTo(OrderStatus.CANCELLED);
        }

        @Test
        @DisplayName("is cancelled when it is APPROVED (the saga then releases the credit)")
        void cancels_approved_order() {
            given(CREATED, APPROVED).when(CANCEL).then(CANCELLED);
        }

        @Test
        @DisplayName("is refused when it was REJECTED")
        void refuses_to_cancel_rejected_order() {
            given(CREATED, REJECTED).when(CANCEL).thenRejects(Rejection.INVALID_STATE);
        }

        @Test
        @DisplayName("is refused when it was CANCELLED already")
        void refuses_to_cancel_twice() {
            given(CREATED, APPROVED, CANCELLED).when(CANCEL).thenRejects(Rejection.INVALID_STATE);
        }
    }

    @Nested
    @DisplayName("keeps its state")
    class State {

        @Test
        @DisplayName("does not exist before it is created")
        void does_not_exist_before_creation() {
            assertThat(given().state()).isEqualTo(OrderState.NONE);
            assertThat(OrderState.NONE.exists()).isFalse();
        }

        @Test
        @DisplayName("keeps its customer and total through approval and cancellation")
        void keeps_customer_and_total() {
            assertThat(given(CREATED, APPROVED, CANCELLED).state())
                    .isEqualTo(new OrderState(ORDER, CUSTOMER, TOTAL, OrderStatus.CANCELLED, null));
        }

        @Test
        @DisplayName("keeps why it was rejected")
        void keeps_rejection_reason() {
            assertThat(given(CREATED, REJECTED).state())
                    .isEqualTo(new OrderState(ORDER, CUSTOMER, TOTAL, OrderStatus.REJECTED, CREDIT_LIMIT_EXCEEDED));
        }
    }
}
