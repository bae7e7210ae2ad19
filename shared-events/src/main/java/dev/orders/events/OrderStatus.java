package dev.orders.events;

/** Where an order stands. */
public enum OrderStatus {
    PENDING, APPROVED, REJECTED, CANCELLED
}
