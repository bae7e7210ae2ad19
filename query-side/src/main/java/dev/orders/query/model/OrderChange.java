package dev.orders.query.model;

/** One change of an order view, caused by the event at {@code position}: a row of the order-change log. */
public record OrderChange(long position, OrderView view) {
}
