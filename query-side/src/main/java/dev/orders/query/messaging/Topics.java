package dev.orders.query.messaging;

import java.util.List;

/** The topics the relay publishes to. */
public final class Topics {

    private Topics() {
    }

    public static String customerEvents(String prefix) {
        return prefix + ".customer-events";
    }

    public static String orderEvents(String prefix) {
        return prefix + ".order-events";
    }

    public static List<String> all(String prefix) {
        return List.of(customerEvents(prefix), orderEvents(prefix));
    }
}
