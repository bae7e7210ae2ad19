package dev.orders.command.domain;

import dev.orders.command.domain.OrderCommand.ApproveOrder;
import dev.orders.command.domain.OrderCommand.CancelOrder;
import dev.orders.command.domain.OrderCommand.CreateOrder;
import dev.orders.command.domain.OrderCommand.RejectOrder;
import dev.orders.events.OrderEvent;
import dev.orders.events.OrderEvent.OrderApproved;
import dev.orders.events.OrderEvent.OrderCancelled;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.events.OrderEvent.OrderRejected;
import dev.orders.events.OrderStatus;

import java.util.List;

/**
 * The Order aggregate: created PENDING, then APPROVED once its customer's credit is reserved or
 * REJECTED when it is not; a PENDING or APPROVED order can be CANCELLED. Approving an approved order
 * and rejecting a decided one change nothing, since the saga may deliver twice or late.
 */
public final class Order implements Decider<OrderCommand, OrderState, OrderEvent> {

    /** The one instance; it holds no state. */
    public static final Order INSTANCE = new Order();

    private Order() {
    }

    @Override
    public OrderState initialState() {
        return OrderState.NONE;
    }

    @Override
    public List<OrderEvent> decide(OrderCommand command, OrderState state) {
        return switch (command) {
            case CreateOrder create -> create(create, state);
            case ApproveOrder approve -> approve(approve, state);
            case RejectOrder reject -> reject(reject, state);
            case CancelOrder cancel -> cancel(cancel, state);
        };
    }

    @Override
    public OrderState evolve(OrderState state, OrderEvent event) {
        return switch (event) {
            case OrderCreated created -> new OrderState(created.orderId(), created.customerId(), created.total(),
                    OrderStatus.PENDING, null);
            case OrderApproved approved -> withStatus(state, OrderStatus.APPROVED);
            case OrderRejected rejected -> new OrderState(state.orderId(), state.customerId(), state.total(),
                    OrderStatus.REJECTED, rejected.reason());
            case OrderCancelled cancelled -> withStatus(state, OrderStatus.CANCELLED);
        };
    }

    private static List<OrderEvent> create(CreateOrder command, OrderState state) {
        if (state.exists()) {
            throw DomainException.alreadyExists("order-already-exists", "order " + command.orderId() + " exists already");
        }
        return List.of(new OrderCreated(command.orderId(), command.customerId(), command.total()));
    }

    private static List<OrderEvent> approve(ApproveOrder command, OrderState state) {
        requireExists(state);
        return switch (state.status()) {
            case PENDING -> List.of(new OrderApproved(state.orderId(), state.customerId()));
            case APPROVED -> List.of();
            case REJECTED, CANCELLED -> throw DomainException.invalidState("order-not-approvable",
                    "order " + state.orderId() + " is " + state.status() + "; only a PENDING order can be approved");
        };
    }

    private static List<OrderEvent> reject(RejectOrder command, OrderState state) {
        requireExists(state);
        return switch (state.status()) {
            case PENDING -> List.of(new OrderRejected(state.orderId(), state.customerId(), command.reason()));
            case APPROVED, REJECTED, CANCELLED -> List.of();
        };
    }

    private static List<OrderEvent> cancel(CancelOrder command, OrderState state) {
        requireExists(state);
        return switch (state.status()) {
            case PENDING, APPROVED -> List.of(new OrderCancelled(state.orderId(), state.customerId()));
            case REJECTED, CANCELLED -> throw DomainException.invalidState("order-not-cancellable",
                    "order " + state.orderId() + " is " + state.status()
                            + "; only a PENDING or APPROVED order can be cancelled");
        };
    }

    private static void requireExists(OrderState state) {
        if (!state.exists()) {
            throw DomainException.notFound("the order does not exist");
        }
    }

    private static OrderState withStatus(OrderState state, OrderStatus status) {
        return new OrderState(state.orderId(), state.customerId(), state.total(), status, state.reason());
    }
}
