package dev.orders.query.push;

import java.util.UUID;

/** What one stream watches: all orders of a customer, or one order. */
public sealed interface Watch {

    UUID id();

    record Customer(UUID id) implements Watch {
    }

    record Order(UUID id) implements Watch {
    }
}
