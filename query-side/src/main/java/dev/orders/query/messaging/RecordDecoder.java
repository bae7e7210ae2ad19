package dev.orders.query.messaging;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventFormatException;
import dev.orders.events.EventJson;
import dev.orders.query.store.ProjectionStore.Coordinates;
import dev.orders.query.store.ProjectionStore.Incoming;
import dev.orders.query.store.ProjectionStore.Parked;

/**
 * Turns a Kafka record's value into an event (decoded once, by the shared data binding), or into a
 * parked record with the reason it is not one.
 *
 * <p>Records are keyed by the event's partition key (its customer, for order events too) and carry the
 * stream id in the {@code streamId} header; records of an older relay are keyed by the stream id and have
 * no header. A record is filed under its stream key ({@link #streamKey}); a decoded event must agree with
 * it: the header must be its stream id, or, without a header, the key its stream id or partition key.
 */
final class RecordDecoder {

    sealed interface Decoded {
    }

    record Good(Incoming incoming) implements Decoded {
    }

    record Bad(Parked parked) implements Decoded {
    }

    private RecordDecoder() {
    }

    /** The id of the stream a record belongs to, as the record says it: its streamId header, else its key. */
    static String streamKey(String key, String streamIdHeader) {
        return streamIdHeader != null ? streamIdHeader : key;
    }

    /**
     * @param at             the record's coordinates, filed under {@link #streamKey}
     * @param key            the record's key
     * @param streamIdHeader the record's streamId header, or null
     */
    static Decoded decode(Coordinates at, String key, String streamIdHeader, byte[] value) {
        if (value == null || value.length == 0) {
            return new Bad(new Parked(at, "empty record value", value));
        }
        try {
            EventEnvelope envelope = EventJson.decode(value);
            String streamId = envelope.streamId().toString();
            if (streamIdHeader != null && !streamIdHeader.equals(streamId)) {
                return new Bad(new Parked(at, "record header streamId " + streamIdHeader
                        + " is not the event's stream id " + streamId, value));
            }
            if (streamIdHeader == null && key != null && !key.equals(streamId)
                    && !key.equals(envelope.event().partitionKey().toString())) {
                return new Bad(new Parked(at, "record key " + key + " is neither the event's stream id " + streamId
                        + " nor its partition key " + envelope.event().partitionKey(), value));
            }
            return new Good(new Incoming(envelope, at, value));
        } catch (EventFormatException | IllegalArgumentException e) {
            return new Bad(new Parked(at, e.getMessage(), value));
        }
    }
}
