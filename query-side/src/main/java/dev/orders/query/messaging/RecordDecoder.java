package dev.orders.query.messaging;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventFormatException;
import dev.orders.events.EventJson;
import dev.orders.query.store.ProjectionStore.Coordinates;
import dev.orders.query.store.ProjectionStore.Incoming;
import dev.orders.query.store.ProjectionStore.Parked;

/** Turns a Kafka record's value into an event, or into a parked record with the reason it is not one. */
final class RecordDecoder {

    sealed interface Decoded {
    }

    record Good(Incoming incoming) implements Decoded {
    }

    record Bad(Parked parked) implements Decoded {
    }

    private RecordDecoder() {
    }

    static Decoded decode(Coordinates at, byte[] value) {
        if (value == null || value.length == 0) {
            return new Bad(new Parked(at, "empty record value", value));
        }
        try {
            EventEnvelope envelope = EventJson.decode(value);
            if (at.key() != null && !at.key().equals(envelope.streamId().toString())) {
                return new Bad(new Parked(at, "record key " + at.key() + " is not the event's stream id "
                        + envelope.streamId(), value));
            }
            return new Good(new Incoming(envelope, at));
        } catch (EventFormatException | IllegalArgumentException e) {
            return new Bad(new Parked(at, e.getMessage(), value));
        }
    }
}
