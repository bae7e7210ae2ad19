package dev.orders.command.domain;

/**
 * Why the domain refused a command. The HTTP edge maps each kind to a status: {@code NOT_FOUND} to
 * 404, {@code ALREADY_EXISTS} and {@code INVALID_STATE} to 409, {@code CURRENCY_MISMATCH} to 422.
 */
public enum Rejection {
    /** The aggregate the command is for does not exist. */
    NOT_FOUND,
    /** The command would create an aggregate that exists already. */
    ALREADY_EXISTS,
    /** The aggregate is in a state in which the command is not allowed. */
    INVALID_STATE,
    /** An amount is in another currency than the aggregate's. */
    CURRENCY_MISMATCH
}
