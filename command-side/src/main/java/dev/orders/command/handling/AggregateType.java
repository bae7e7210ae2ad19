package dev.orders.command.handling;

import dev.orders.command.domain.Customer;
import dev.orders.command.domain.CustomerCommand;
import dev.orders.command.domain.CustomerState;
import dev.orders.command.domain.Decider;
import dev.orders.command.domain.Order;
import dev.orders.command.domain.OrderCommand;
import dev.orders.command.domain.OrderState;
import dev.orders.events.CustomerEvent;
import dev.orders.events.DomainEvent;
import dev.orders.events.OrderEvent;
import dev.orders.events.StreamType;

/**
 * What the command handler needs to know of an aggregate kind: its decider, its stream type, and the
 * class and version of its snapshots ({@link SnapshotVersion}: derived from the state's shape, the fold's
 * code and the events' schema versions, never kept by hand).
 */
public record AggregateType<C, S, E extends DomainEvent>(StreamType streamType, Decider<C, S, E> decider,
                                                         Class<S> stateClass, int snapshotSchemaVersion) {

    public static final AggregateType<CustomerCommand, CustomerState, CustomerEvent> CUSTOMER =
            new AggregateType<>(StreamType.CUSTOMER, Customer.INSTANCE, CustomerState.class,
                    SnapshotVersion.of(CustomerState.class, Customer.class, CustomerEvent.class));

    public static final AggregateType<OrderCommand, OrderState, OrderEvent> ORDER =
            new AggregateType<>(StreamType.ORDER, Order.INSTANCE, OrderState.class,
                    SnapshotVersion.of(OrderState.class, Order.class, OrderEvent.class));
}
