package dev.orders.events;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The JSON form of events: the {@code data} of each event type as stored, and the whole envelope as
 * published to Kafka. Money is always {@code {"amount": "250.00", "currency": "EUR"}}, never a float.
 */
public final class EventJson {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .registerModule(new SimpleModule("money")
                    .addSerializer(Money.class, new MoneySerializer())
                    .addDeserializer(Money.class, new MoneyDeserializer()))
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true);

    private EventJson() {
    }

    /** The stored {@code data} of an event, in the current schema of its type. */
    public static ObjectNode dataOf(DomainEvent event) {
        return MAPPER.valueToTree(event);
    }

    /** The stored {@code data} as a JSON string, written straight from the event (no tree between). */
    public static String dataText(DomainEvent event) {
        try {
            return MAPPER.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            throw new EventFormatException("cannot write the data of " + event.getClass().getSimpleName() + ": "
                    + e.getOriginalMessage(), e);
        }
    }

    /**
     * Reads the stored {@code data} of an event, upcasting it from {@code schemaVersion} first.
     *
     * @throws EventFormatException for an unknown type, a too new schema, or data that does not fit
     */
    public static DomainEvent eventOf(String type, int schemaVersion, String data) {
        if (EventTypes.isKnown(type) && schemaVersion == EventTypes.currentSchemaVersion(type)) {
            try (JsonParser parser = MAPPER.getFactory().createParser(data)) {
                if (parser.nextToken() == JsonToken.START_OBJECT) {
                    return bound(type, parser);
                }
            } catch (IOException | RuntimeException e) {
                // not the current schema's valid object: the tree below says what is wrong, in its words
            }
        }
        try {
            JsonNode node = MAPPER.readTree(data);
            if (!(node instanceof ObjectNode object)) {
                throw new EventFormatException("data of '" + type + "' is not a JSON object");
            }
            return eventOf(type, schemaVersion, object);
        } catch (JsonProcessingException e) {
            throw new EventFormatException("data of '" + type + "' is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    public static DomainEvent eventOf(String type, int schemaVersion, ObjectNode data) {
        ObjectNode current = Upcasters.toCurrent(type, schemaVersion, data);
        try {
            DomainEvent event = MAPPER.treeToValue(current, EventTypes.classOf(type));
            requireNoNullComponents(type, event);
            return event;
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new EventFormatException("data of '" + type + "' does not fit its schema: " + e.getMessage(), e);
        }
    }

    /** The envelope as published: one self-describing JSON object. */
    public static byte[] encode(EventEnvelope envelope) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("eventId", envelope.eventId().toString());
        root.put("streamType", envelope.streamType().wireName());
        root.put("streamId", envelope.streamId().toString());
        root.put("version", envelope.version());
        root.put("globalPosition", envelope.globalPosition());
        root.put("type", envelope.type());
        root.put("schemaVersion", EventTypes.currentSchemaVersion(envelope.event()));
        root.put("occurredAt", envelope.occurredAt().toString());
        root.set("metadata", metadataNode(envelope.metadata()));
        root.set("data", dataOf(envelope.event()));
        return root.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The envelope as published, written from the stored texts of an event without parsing them: the same
     * fields as {@link #encode}, with {@code data} in the schema version it was stored in (a reader upcasts
     * it on {@link #decode}). The texts must be JSON objects, as the store's {@code jsonb} columns give them.
     */
    public static byte[] encode(EventText event) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + event.data().length() + event.metadata().length());
        try (JsonGenerator json = MAPPER.getFactory().createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("eventId", event.eventId().toString());
            json.writeStringField("streamType", event.streamType().wireName());
            json.writeStringField("streamId", event.streamId().toString());
            json.writeNumberField("version", event.version());
            json.writeNumberField("globalPosition", event.globalPosition());
            json.writeStringField("type", event.type());
            json.writeNumberField("schemaVersion", event.schemaVersion());
            json.writeStringField("occurredAt", event.occurredAt().toString());
            json.writeFieldName("metadata");
            json.writeRawValue(event.metadata());
            json.writeFieldName("data");
            json.writeRawValue(event.data());
            json.writeEndObject();
        } catch (IOException e) {
            throw new EventFormatException("cannot write the envelope of " + event.eventId() + ": " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    /**
     * Reads a published envelope, in one pass: its {@code data} is bound straight to the event when it is in
     * the current schema of its type, named before it (as {@link #encode} writes it); otherwise, and for any
     * envelope that does not read that way, through a tree ({@link #decodeTree}), which upcasts and says what
     * is wrong.
     *
     * @throws EventFormatException when the bytes are not a valid envelope of a known event type
     */
    public static EventEnvelope decode(byte[] bytes) {
        try {
            EventEnvelope envelope = decodeBound(bytes);
            if (envelope != null) {
                return envelope;
            }
        } catch (IOException | RuntimeException e) {
            // an envelope this pass cannot read: the tree reads it again, to the same answer or error as ever
        }
        return decodeTree(bytes);
    }

    /**
     * The one-pass read of {@link #decode}, for an envelope as {@link #encode} writes it: each field once, of
     * its type ({@code metadata} an object of strings), {@code type} and {@code schemaVersion} before the data,
     * the data bound to the event class. {@code null} (or an exception) for anything else, which the tree reads.
     */
    private static EventEnvelope decodeBound(byte[] bytes) throws IOException {
        try (JsonParser parser = MAPPER.getFactory().createParser(bytes)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            String eventId = null;
            String type = null;
            String occurredAt = null;
            long version = -1;
            long globalPosition = -1;
            int schemaVersion = -1;
            EventMetadata metadata = null;
            DomainEvent event = null;
            Set<String> seen = new HashSet<>(16);
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken token = parser.nextToken();
                if (!seen.add(field)) {
                    return null; // named twice: the tree keeps the last
                }
                switch (field) {
                    case "eventId" -> eventId = token == JsonToken.VALUE_STRING ? parser.getText() : null;
                    case "type" -> type = token == JsonToken.VALUE_STRING ? parser.getText() : null;
                    case "occurredAt" -> occurredAt = token == JsonToken.VALUE_STRING ? parser.getText() : null;
                    case "version" -> version = token == JsonToken.VALUE_NUMBER_INT ? parser.getLongValue() : -1;
                    case "globalPosition" -> globalPosition = token == JsonToken.VALUE_NUMBER_INT ? parser.getLongValue() : -1;
                    case "schemaVersion" -> schemaVersion = token == JsonToken.VALUE_NUMBER_INT ? parser.getIntValue() : -1;
                    case "metadata" -> metadata = token == JsonToken.START_OBJECT ? metadataOf(parser) : null;
                    case "data" -> {
                        if (token != JsonToken.START_OBJECT || type == null || !EventTypes.isKnown(type)
                                || schemaVersion != EventTypes.currentSchemaVersion(type)) {
                            return null;
                        }
                        event = bound(type, parser);
                    }
                    default -> parser.skipChildren();
                }
            }
            if (eventId == null || type == null || occurredAt == null || version < 0 || globalPosition < 0
                    || metadata == null || event == null) {
                return null;
            }
            return new EventEnvelope(UUID.fromString(eventId), version, globalPosition, Instants.parse(occurredAt),
                    schemaVersion, metadata, event);
        }
    }

    /**
     * The {@code metadata} and {@code data} objects of a published envelope, each as the text it is in the envelope
     * (UTF-8 bytes as they came), for storing them again without encoding them anew.
     *
     * @param metadata the metadata object's text
     * @param data     the data object's text, in the schema version the envelope names
     */
    public record Parts(String metadata, String data) {
    }

    /**
     * The {@link Parts} of an envelope, sliced out of its bytes by one pass of the tokenizer (nothing is bound);
     * {@code null} unless the envelope is an object that holds each of {@code metadata} and {@code data} once, as
     * an object.
     */
    public static Parts parts(byte[] envelope) {
        try (JsonParser parser = MAPPER.getFactory().createParser(envelope)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            String metadata = null;
            String data = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken token = parser.nextToken();
                boolean wanted = field.equals("metadata") || field.equals("data");
                if (!wanted) {
                    parser.skipChildren();
                    continue;
                }
                if (token != JsonToken.START_OBJECT || (field.equals("data") ? data : metadata) != null) {
                    return null;
                }
                int start = Math.toIntExact(parser.currentTokenLocation().getByteOffset());
                parser.skipChildren();
                int end = Math.toIntExact(parser.currentTokenLocation().getByteOffset()) + 1;
                String text = new String(envelope, start, end - start, StandardCharsets.UTF_8);
                if (field.equals("data")) {
                    data = text;
                } else {
                    metadata = text;
                }
            }
            return metadata == null || data == null ? null : new Parts(metadata, data);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The metadata object at the parser, each field a string; {@code null} for anything else. */
    private static EventMetadata metadataOf(JsonParser parser) throws IOException {
        Map<String, String> values = new HashMap<>(8);
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            if (parser.nextToken() != JsonToken.VALUE_STRING || values.put(field, parser.getText()) != null) {
                return null;
            }
        }
        return new EventMetadata(values.get("correlationId"), values.get("causationId"), values.get("commandId"),
                values.get("traceparent"));
    }

    /** Reads a published envelope through a tree: the full checks, and upcasting. */
    static EventEnvelope decodeTree(byte[] bytes) {
        JsonNode root;
        try {
            root = MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new EventFormatException("not valid JSON: " + e.getMessage(), e);
        }
        if (!(root instanceof ObjectNode object)) {
            throw new EventFormatException("an envelope must be a JSON object");
        }
        try {
            String type = text(object, "type");
            int schemaVersion = object.path("schemaVersion").asInt(1);
            if (!(object.get("data") instanceof ObjectNode data)) {
                throw new EventFormatException("envelope has no 'data' object");
            }
            return envelope(object, schemaVersion, eventOf(type, schemaVersion, data));
        } catch (DateTimeParseException | IllegalArgumentException e) {
            throw new EventFormatException("bad envelope: " + e.getMessage(), e);
        }
    }

    /** The envelope of a read event, from the envelope's other fields. */
    private static EventEnvelope envelope(ObjectNode fields, int schemaVersion, DomainEvent event) {
        EventMetadata metadata = metadataOf(fields.path("metadata"));
        return new EventEnvelope(UUID.fromString(text(fields, "eventId")), fields.path("version").asLong(),
                fields.path("globalPosition").asLong(), Instants.parse(text(fields, "occurredAt")),
                schemaVersion, metadata, event);
    }

    /** The event of a type's current schema, bound from the parser at the start of its data object. */
    private static DomainEvent bound(String type, JsonParser parser) throws IOException {
        DomainEvent event = MAPPER.readValue(parser, EventTypes.classOf(type));
        requireNoNullComponents(type, event);
        return event;
    }

    /**
     * The one JSON form of an event's metadata, as stored (both sides' event tables) and published (the
     * envelope's {@code metadata}): {@code correlationId}, {@code causationId}, {@code commandId} and
     * {@code traceparent}, each only when present.
     */
    public static String metadataJson(EventMetadata metadata) {
        return metadataNode(metadata).toString();
    }

    private static ObjectNode metadataNode(EventMetadata metadata) {
        ObjectNode node = MAPPER.createObjectNode();
        putIfPresent(node, "correlationId", metadata.correlationId());
        putIfPresent(node, "causationId", metadata.causationId());
        putIfPresent(node, "commandId", metadata.commandId());
        putIfPresent(node, "traceparent", metadata.traceparent());
        return node;
    }

    /** Reads {@link #metadataJson}'s form; a field absent or null is null. @throws EventFormatException if not JSON */
    public static EventMetadata metadataOf(String json) {
        try {
            return metadataOf(MAPPER.readTree(json));
        } catch (JsonProcessingException e) {
            throw new EventFormatException("stored metadata is not JSON", e);
        }
    }

    private static EventMetadata metadataOf(JsonNode node) {
        return new EventMetadata(optionalText(node, "correlationId"), optionalText(node, "causationId"),
                optionalText(node, "commandId"), optionalText(node, "traceparent"));
    }

    /**
     * Builds the mapper's serializer and deserializer of every event type now, so that the first event of each type
     * a service writes or reads does not build them (class loading and introspection, hundreds of milliseconds
     * while a JVM is cold) on an event loop. Blocks: call it on a worker thread while the service starts.
     *
     * @return the types prepared
     */
    public static Set<String> prepare() {
        try {
            for (String type : EventTypes.all()) {
                // the lookups writing and reading an event make (by its class), their results cached in the mapper
                MAPPER.getSerializerProviderInstance().findTypedValueSerializer(EventTypes.classOf(type), true, null);
                MAPPER.readerFor(EventTypes.classOf(type));
            }
        } catch (JsonMappingException e) {
            throw new EventFormatException("cannot prepare the JSON form of the event types: " + e.getOriginalMessage(), e);
        }
        return EventTypes.all();
    }

    /** The shared mapper, configured for the event types; callers must not reconfigure it. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** The record components of each event class, looked up once (reflection per event was a hot spot). */
    private static final ClassValue<java.lang.reflect.RecordComponent[]> COMPONENTS = new ClassValue<>() {
        @Override
        protected java.lang.reflect.RecordComponent[] computeValue(Class<?> type) {
            return type.getRecordComponents();
        }
    };

    private static void requireNoNullComponents(String type, DomainEvent event) {
        for (var component : COMPONENTS.get(event.getClass())) {
            try {
                if (component.getAccessor().invoke(event) == null) {
                    throw new EventFormatException("data of '" + type + "' lacks '" + component.getName() + "'");
                }
            } catch (ReflectiveOperationException e) {
                throw new EventFormatException("cannot read '" + component.getName() + "' of " + type, e);
            }
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new EventFormatException("envelope lacks text field '" + field + "'");
        }
        return value.asText();
    }

    private static String optionalText(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private static void putIfPresent(ObjectNode node, String field, String value) {
        if (value != null) {
            node.put(field, value);
        }
    }

    private static final class MoneySerializer extends JsonSerializer<Money> {
        @Override
        public void serialize(Money money, JsonGenerator gen, SerializerProvider provider) throws IOException {
            gen.writeStartObject();
            gen.writeStringField("amount", money.amountText());
            gen.writeStringField("currency", money.currency());
            gen.writeEndObject();
        }
    }

    private static final class MoneyDeserializer extends JsonDeserializer<Money> {
        @Override
        public Money deserialize(JsonParser parser, DeserializationContext context) throws IOException {
            JsonNode node = parser.readValueAsTree();
            JsonNode amount = node.get("amount");
            JsonNode currency = node.get("currency");
            if (amount == null || !amount.isTextual() || currency == null || !currency.isTextual()) {
                throw new IllegalArgumentException("money needs 'amount' and 'currency' as strings");
            }
            return new Money(new BigDecimal(amount.asText()), currency.asText());
        }
    }
}
