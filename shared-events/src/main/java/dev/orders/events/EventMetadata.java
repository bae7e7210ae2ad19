package dev.orders.events;

/**
 * Why and on whose behalf an event was written. Any field may be null.
 *
 * @param correlationId the id shared by every event of one business transaction (one order's journey)
 * @param causationId   the id of the command or event that caused this event
 * @param commandId     the id of the command that wrote the event
 * @param traceparent   the W3C trace context of the request that started it, if any
 */
public record EventMetadata(String correlationId, String causationId, String commandId, String traceparent) {

    public static final EventMetadata NONE = new EventMetadata(null, null, null, null);
}
