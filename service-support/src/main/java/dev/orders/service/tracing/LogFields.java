package dev.orders.service.tracing;

import org.slf4j.spi.LoggingEventBuilder;

/**
 * The fields that tie a log line to an order's journey, as structured key-value pairs rather than text in
 * the message: {@code correlationId}, and {@code traceId} and {@code spanId} from the W3C
 * {@code traceparent} of the step. The JSON log writes them as fields of the line, the text log after the
 * message ({@code %kvp}). Key-value pairs travel with the event itself, so unlike an MDC they stay right on
 * an event loop that serves many orders at once.
 */
public final class LogFields {

    public static final String CORRELATION_ID = "correlationId";
    public static final String TRACE_ID = "traceId";
    public static final String SPAN_ID = "spanId";

    private LogFields() {
    }

    /** The line with the journey's fields: those that are known. */
    public static LoggingEventBuilder journey(LoggingEventBuilder line, String correlationId, String traceparent) {
        if (correlationId != null) {
            line = line.addKeyValue(CORRELATION_ID, correlationId);
        }
        if (traceparent != null && traceparent.length() == 55) {
            line = line.addKeyValue(TRACE_ID, traceparent.substring(3, 35)).addKeyValue(SPAN_ID, traceparent.substring(36, 52));
        }
        return line;
    }
}
