package dev.orders.query.store;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.EventMetadata;
import dev.orders.events.EventTypes;
import dev.orders.events.OrderEvent.OrderCancelled;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("An event of the query side's event log")
class StoredEventTest {

    private static final OrderCancelled CANCELLED = new OrderCancelled(UUID.randomUUID(), UUID.randomUUID());

    private static StoredEvent stored(JsonObject metadata) {
        return new StoredEvent(7, UUID.randomUUID(), "order", CANCELLED.orderId(), 3, EventTypes.typeOf(CANCELLED),
                EventTypes.currentSchemaVersion(CANCELLED), Instant.parse("2026-12-05T00:00:00Z"),
                new JsonObject(EventJson.dataText(CANCELLED)), metadata);
    }

    @Test
    @DisplayName("is an envelope again with the metadata it was published with, read as the event's JSON reads it")
    void becomes_the_envelope_it_was_with_its_metadata() {
        EventMetadata metadata = new EventMetadata("corr-1", "cause-1", "command-1",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        EventEnvelope envelope = stored(new JsonObject(EventJson.metadataJson(metadata))).toEnvelope();
        assertThat(envelope.metadata()).isEqualTo(metadata);
        assertThat(envelope.event()).isEqualTo(CANCELLED);
        assertThat(envelope.globalPosition()).isEqualTo(7);
        assertThat(envelope.version()).isEqualTo(3);
    }

    @Test
    @DisplayName("leaves metadata it was published without empty")
    void leaves_absent_metadata_empty() {
        EventEnvelope envelope = stored(new JsonObject().put("correlationId", "corr-2")).toEnvelope();
        assertThat(envelope.metadata()).isEqualTo(new EventMetadata("corr-2", null, null, null));
    }
}
