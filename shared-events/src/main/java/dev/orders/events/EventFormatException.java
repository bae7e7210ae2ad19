package dev.orders.events;

/** An event's stored or published form cannot be read: unknown type, bad JSON, missing fields. */
public class EventFormatException extends RuntimeException {

    public EventFormatException(String message) {
        super(message);
    }

    public EventFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
