package dev.orders.command.messaging;

import dev.orders.events.EventText;

/**
 * An event on its way to Kafka, as the relay read it: its stored JSON texts, unparsed, and the two
 * metadata values its record carries as headers, read out by PostgreSQL.
 */
record Outgoing(EventText event, String correlationId, String traceparent) {
}
