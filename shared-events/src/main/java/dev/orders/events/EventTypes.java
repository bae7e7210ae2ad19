package dev.orders.events;

import dev.orders.events.CustomerEvent.CreditLimitExceeded;
import dev.orders.events.CustomerEvent.CreditReleased;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.events.OrderEvent.OrderApproved;
import dev.orders.events.OrderEvent.OrderCancelled;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.events.OrderEvent.OrderRejected;

import java.util.Map;
import java.util.Set;

/** The names and current schema versions of every event type. */
public final class EventTypes {

    private record Info(Class<? extends DomainEvent> type, int currentSchemaVersion) {
    }

    private static final Map<String, Info> BY_NAME = Map.of(
            "CustomerCreated", new Info(CustomerCreated.class, 2),
            "CreditReserved", new Info(CreditReserved.class, 1),
            "CreditLimitExceeded", new Info(CreditLimitExceeded.class, 1),
            "CreditReleased", new Info(CreditReleased.class, 1),
            "OrderCreated", new Info(OrderCreated.class, 1),
            "OrderApproved", new Info(OrderApproved.class, 1),
            "OrderRejected", new Info(OrderRejected.class, 1),
            "OrderCancelled", new Info(OrderCancelled.class, 1));

    private EventTypes() {
    }

    /** The stored name of an event's type. */
    public static String typeOf(DomainEvent event) {
        return switch (event) {
            case CustomerCreated e -> "CustomerCreated";
            case CreditReserved e -> "CreditReserved";
            case CreditLimitExceeded e -> "CreditLimitExceeded";
            case CreditReleased e -> "CreditReleased";
            case OrderCreated e -> "OrderCreated";
            case OrderApproved e -> "OrderApproved";
            case OrderRejected e -> "OrderRejected";
            case OrderCancelled e -> "OrderCancelled";
        };
    }

    /** The name of every event type. */
    public static Set<String> all() {
        return BY_NAME.keySet();
    }

    public static boolean isKnown(String type) {
        return BY_NAME.containsKey(type);
    }

    /** The class a type name decodes to. */
    public static Class<? extends DomainEvent> classOf(String type) {
        return info(type).type();
    }

    /** The schema version that new events of this type are written with. */
    public static int currentSchemaVersion(String type) {
        return info(type).currentSchemaVersion();
    }

    public static int currentSchemaVersion(DomainEvent event) {
        return currentSchemaVersion(typeOf(event));
    }

    private static Info info(String type) {
        Info info = BY_NAME.get(type);
        if (info == null) {
            throw new EventFormatException("unknown event type '" + type + "'");
        }
        return info;
    }
}
