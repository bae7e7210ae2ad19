package dev.orders.command.store;

/**
 * An append carried an event id that is stored already. Commands that may be delivered more than once
 * (the saga's) give their events ids derived from the command's id, so this means the command was
 * applied before: a duplicate delivery, recognised by the store's unique index.
 */
public class DuplicateEventException extends RuntimeException {

    public DuplicateEventException(String message) {
        super(message, null, false, false);
    }
}
