package dev.orders.events;

/** Why an order was rejected. */
public enum RejectionReason {
    /** The customer's available credit was below the order's total. */
    CREDIT_LIMIT_EXCEEDED,
    /** The credit check did not answer before the order's deadline. */
    CREDIT_CHECK_TIMEOUT
}
