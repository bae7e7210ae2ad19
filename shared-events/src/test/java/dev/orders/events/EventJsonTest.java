package dev.orders.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.DefaultSerializerProvider;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.events.OrderEvent.OrderRejected;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static dev.orders.events.SampleEvents.AT;
import static dev.orders.events.SampleEvents.CUSTOMER;
import static dev.orders.events.SampleEvents.ORDER;
import static dev.orders.events.SampleEvents.envelope;
import static dev.orders.events.SampleEvents.eur;
import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("The JSON form of events")
class EventJsonTest {

    @Test
    @DisplayName("prepare builds the serializer of every event type ahead of the first event written")
    void prepare_builds_every_types_serializer() {
        assertThat(EventJson.prepare()).isEqualTo(EventTypes.all());
        DefaultSerializerProvider serializers = (DefaultSerializerProvider) EventJson.mapper().getSerializerProvider();
        int cached = serializers.cachedSerializersCount();
        SampleEvents.all().forEach(EventJson::dataText);
        assertThat(serializers.cachedSerializersCount())
                .as("serializers built by writing one event of each type after prepare").isEqualTo(cached);
    }

    static Stream<DomainEvent> everyEvent() {
        return SampleEvents.stream();
    }

    @Test
    @DisplayName("the samples cover every event type there is")
    void samples_cover_every_event_type() {
        Set<Class<?>> permitted = Stream.of(CustomerEvent.class, OrderEvent.class)
                .flatMap(type -> Arrays.stream(type.getPermittedSubclasses()))
                .collect(Collectors.toSet());
        Set<Class<?>> sampled = SampleEvents.stream().map(Object::getClass).collect(Collectors.toSet());

        assertThat(sampled).isEqualTo(permitted);
        assertThat(permitted).allSatisfy(type -> assertThat(EventTypes.isKnown(type.getSimpleName())).isTrue());
    }

    @Nested
    @DisplayName("the stored data of an event")
    class Data {

        @ParameterizedTest(name = "{0}")
        @MethodSource("dev.orders.events.EventJsonTest#everyEvent")
        @DisplayName("reads back as the same event")
        void data_round_trips(DomainEvent event) {
            String type = EventTypes.typeOf(event);

            DomainEvent read = EventJson.eventOf(type, EventTypes.currentSchemaVersion(type), EventJson.dataText(event));

            assertThat(read).isEqualTo(event);
        }

        @ParameterizedTest(name = "{0}")
        @MethodSource("dev.orders.events.EventJsonTest#everyEvent")
        @DisplayName("holds exactly the event's fields, not its derived stream id or type")
        void data_holds_only_the_record_components(DomainEvent event) {
            ObjectNode data = EventJson.dataOf(event);

            Set<String> components = Arrays.stream(event.getClass().getRecordComponents())
                    .map(component -> component.getName())
                    .collect(Collectors.toSet());
            assertThat(fieldNames(data)).isEqualTo(components);
        }

        @Test
        @DisplayName("writes money as an object of two strings, never as a number")
        void money_is_written_as_strings() {
            ObjectNode data = EventJson.dataOf(new CreditReserved(CUSTOMER, ORDER, eur("250.5")));

            JsonNode amount = data.get("amount");
            assertThat(amount.get("amount").isTextual()).isTrue();
            assertThat(amount.get("amount").asText()).isEqualTo("250.50");
            assertThat(amount.get("currency").asText()).isEqualTo("EUR");
            assertThat(fieldNames(amount)).containsExactlyInAnyOrder("amount", "currency");
        }

        @Test
        @DisplayName("writes large amounts plainly, without an exponent")
        void large_money_is_written_plainly() {
            String text = EventJson.dataText(new CustomerCreated(CUSTOMER, "Big", eur("1000000000")));

            assertThat(text).contains("\"creditLimit\":{\"amount\":\"1000000000.00\",\"currency\":\"EUR\"}");
        }

        @Test
        @DisplayName("has a fixed shape that other services read")
        void order_rejected_has_a_fixed_shape() throws Exception {
            String text = EventJson.dataText(new OrderRejected(ORDER, CUSTOMER, RejectionReason.CREDIT_CHECK_TIMEOUT));

            assertThat(EventJson.mapper().readTree(text)).isEqualTo(EventJson.mapper().readTree("""
                    {"orderId": "%s", "customerId": "%s", "reason": "CREDIT_CHECK_TIMEOUT"}
                    """.formatted(ORDER, CUSTOMER)));
        }

        @Test
        @DisplayName("ignores fields it does not know (a newer writer may add some)")
        void unknown_fields_are_ignored() {
            String data = """
                    {"orderId": "%s", "customerId": "%s", "comment": "extra"}
                    """.formatted(ORDER, CUSTOMER);

            assertThat(EventJson.eventOf("OrderApproved", 1, data))
                    .isEqualTo(new OrderEvent.OrderApproved(ORDER, CUSTOMER));
        }
    }

    @Nested
    @DisplayName("the published envelope")
    class Envelope {

        @ParameterizedTest(name = "{0}")
        @MethodSource("dev.orders.events.EventJsonTest#everyEvent")
        @DisplayName("decodes to the same envelope")
        void envelope_round_trips(DomainEvent event) {
            EventEnvelope envelope = envelope(event);

            assertThat(EventJson.decode(EventJson.encode(envelope))).isEqualTo(envelope);
        }

        @Test
        @DisplayName("decodes an envelope without metadata to empty metadata")
        void envelope_without_metadata_round_trips() {
            EventEnvelope envelope = new EventEnvelope(UUID.randomUUID(), 1, 0, AT,
                    1, null, new OrderEvent.OrderApproved(ORDER, CUSTOMER));

            EventEnvelope decoded = EventJson.decode(EventJson.encode(envelope));

            assertThat(decoded).isEqualTo(envelope);
            assertThat(decoded.metadata()).isEqualTo(EventMetadata.NONE);
        }

        @Test
        @DisplayName("describes itself: ids, stream, version, position, type, schema, time and data")
        void envelope_is_self_describing() throws Exception {
            EventEnvelope envelope = envelope(new CreditReserved(CUSTOMER, ORDER, eur("12.30")));

            JsonNode json = EventJson.mapper().readTree(new String(EventJson.encode(envelope), StandardCharsets.UTF_8));

            assertThat(json.get("eventId").asText()).isEqualTo(envelope.eventId().toString());
            assertThat(json.get("streamType").asText()).isEqualTo("customer");
            assertThat(json.get("streamId").asText()).isEqualTo(CUSTOMER.toString());
            assertThat(json.get("version").asLong()).isEqualTo(3);
            assertThat(json.get("globalPosition").asLong()).isEqualTo(42);
            assertThat(json.get("type").asText()).isEqualTo("CreditReserved");
            assertThat(json.get("schemaVersion").asInt()).isEqualTo(1);
            assertThat(json.get("occurredAt").asText()).isEqualTo("2025-03-01T12:34:56.789Z");
            assertThat(json.get("metadata").get("correlationId").asText()).isEqualTo("corr-1");
            assertThat(json.get("data").get("amount").get("amount").isTextual()).isTrue();
            assertThat(json.get("data").get("amount").get("amount").asText()).isEqualTo("12.30");
        }

        @Test
        @DisplayName("is written with the current schema, since its data is always in the current shape")
        void envelope_is_written_with_the_current_schema() {
            ObjectNode stored = EventJson.mapper().createObjectNode();
            stored.put("customerId", CUSTOMER.toString());
            stored.put("name", "Old");
            stored.putObject("limit").put("amount", "10.00").put("currency", "EUR");
            DomainEvent upcast = EventJson.eventOf("CustomerCreated", 1, stored);
            EventEnvelope readFromStore = new EventEnvelope(UUID.randomUUID(), 1, 0, AT, 1, null, upcast);

            EventEnvelope decoded = EventJson.decode(EventJson.encode(readFromStore));

            assertThat(decoded.schemaVersion()).isEqualTo(2);
            assertThat(decoded.event()).isEqualTo(upcast);
        }
    }

    @Nested
    @DisplayName("the envelope written from stored text (the relay's pass-through)")
    class FromStoredText {

        /** What the store's jsonb columns answer as text: keys in their own order, spaces after colons. */
        private EventText stored(EventEnvelope envelope, String data) {
            EventMetadata meta = envelope.metadata();
            String metadata = "{\"commandId\": \"" + meta.commandId() + "\", \"causationId\": \"" + meta.causationId()
                    + "\", \"traceparent\": \"" + meta.traceparent() + "\", \"correlationId\": \"" + meta.correlationId() + "\"}";
            return new EventText(envelope.eventId(), envelope.streamType(), envelope.streamId(), envelope.version(),
                    envelope.globalPosition(), envelope.type(), envelope.schemaVersion(), envelope.occurredAt(),
                    envelope.event().partitionKey(), metadata, data);
        }

        @ParameterizedTest(name = "{0}")
        @MethodSource("dev.orders.events.EventJsonTest#everyEvent")
        @DisplayName("decodes to the same envelope as one encoded from the parsed event")
        void stored_text_round_trips(DomainEvent event) throws Exception {
            EventEnvelope envelope = envelope(event);
            String data = EventJson.mapper().readTree(EventJson.dataText(event)).toPrettyString();

            assertThat(EventJson.decode(EventJson.encode(stored(envelope, data)))).isEqualTo(envelope);
        }

        @Test
        @DisplayName("carries the stored schema, and decoding upcasts it")
        void stored_schema_is_upcast_on_decoding() throws Exception {
            DomainEvent created = new CustomerEvent.CustomerCreated(CUSTOMER, "Old", eur("10.00"));
            EventEnvelope envelope = new EventEnvelope(UUID.randomUUID(), 1, 7, AT, 1, EventMetadata.NONE, created);
            String v1 = "{\"name\": \"Old\", \"limit\": {\"amount\": \"10.00\", \"currency\": \"EUR\"}, \"customerId\": \""
                    + CUSTOMER + "\"}";
            EventText old = new EventText(envelope.eventId(), envelope.streamType(), envelope.streamId(), 1, 7,
                    "CustomerCreated", 1, AT, CUSTOMER, "{}", v1);

            byte[] bytes = EventJson.encode(old);
            JsonNode json = EventJson.mapper().readTree(bytes);
            EventEnvelope decoded = EventJson.decode(bytes);

            assertThat(json.get("schemaVersion").asInt()).as("the schema the data is in").isEqualTo(1);
            assertThat(json.get("data").has("limit")).as("the stored data, as stored").isTrue();
            assertThat(decoded.event()).isEqualTo(created);
            assertThat(decoded.metadata()).isEqualTo(EventMetadata.NONE);
        }
    }

    @Nested
    @DisplayName("the parts of an envelope, sliced from its bytes (what the read model stores again)")
    class Parts {

        @ParameterizedTest(name = "{0}")
        @MethodSource("dev.orders.events.EventJsonTest#everyEvent")
        @DisplayName("are the metadata and data objects as the envelope holds them, byte for byte")
        void parts_are_the_objects_as_written(DomainEvent event) throws Exception {
            EventEnvelope envelope = envelope(event);
            String data = "{\"kept\": \"as stored, spaces and all\", \"note\": \"\u00e9t\u00e9 {not a brace}\"}";
            String metadata = "{\"correlationId\": \"c-1\"}";
            EventText stored = new EventText(envelope.eventId(), envelope.streamType(), envelope.streamId(),
                    envelope.version(), envelope.globalPosition(), envelope.type(), envelope.schemaVersion(),
                    envelope.occurredAt(), event.partitionKey(), metadata, data);

            EventJson.Parts parts = EventJson.parts(EventJson.encode(stored));

            assertThat(parts).isEqualTo(new EventJson.Parts(metadata, data));
        }

        @Test
        @DisplayName("of an envelope encoded from the event read as the event's own data and metadata")
        void parts_of_an_encoded_envelope() throws Exception {
            EventEnvelope envelope = envelope(new CreditReserved(CUSTOMER, ORDER, eur("12.50")));

            EventJson.Parts parts = EventJson.parts(EventJson.encode(envelope));

            assertThat(EventJson.mapper().readTree(parts.data()))
                    .isEqualTo(EventJson.mapper().readTree(EventJson.dataText(envelope.event())));
            assertThat(EventJson.mapper().readTree(parts.metadata()))
                    .isEqualTo(EventJson.mapper().readTree(EventJson.metadataJson(envelope.metadata())));
        }

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {
                "[]",
                "{\"metadata\": {}}",
                "{\"data\": {}}",
                "{\"metadata\": {}, \"data\": []}",
                "{\"metadata\": \"{}\", \"data\": {}}",
                "{\"metadata\": {}, \"data\": {}, \"data\": {}}",
                "{\"metadata\": {}, \"data\": {\"open\": ",
                "not json"})
        @DisplayName("are none for an envelope without both objects, once each")
        void no_parts_without_both_objects(String envelope) {
            assertThat(EventJson.parts(envelope.getBytes(StandardCharsets.UTF_8))).isNull();
        }
    }

    @Nested
    @DisplayName("read in one pass (data bound straight to the event) answers as the tree read does")
    class OnePass {

        /** An envelope as published, then changed by the test, as text. */
        private static String published(DomainEvent event) {
            return new String(EventJson.encode(envelope(event)), StandardCharsets.UTF_8);
        }

        private static final String APPROVED = published(new OrderEvent.OrderApproved(ORDER, CUSTOMER));
        private static final String DATA = EventJson.dataText(new OrderEvent.OrderApproved(ORDER, CUSTOMER));

        static Stream<String> envelopes() {
            String withoutData = APPROVED.replace(",\"data\":" + DATA, "");
            Stream<String> samples = SampleEvents.stream().map(OnePass::published);
            return Stream.concat(samples, Stream.of(
                    "{\"data\":" + DATA + "," + withoutData.substring(1),
                    withoutData.replace("\"schemaVersion\":1,", "") .replace("}}", "},\"schemaVersion\":1,\"data\":" + DATA + "}"),
                    APPROVED.replace("}}", "},\"type\":\"CreditReserved\"}"),
                    APPROVED.replace("}}", "},\"type\":\"OrderApproved\"}"),
                    APPROVED.replace("}}", "},\"schemaVersion\":2}"),
                    APPROVED.replace("}}", "},\"data\":{\"orderId\":\"" + CUSTOMER + "\",\"customerId\":\"" + ORDER + "\"}}"),
                    APPROVED.replace("}}", "},\"data\":[]}"),
                    APPROVED.replace("\"schemaVersion\":1,", ""),
                    APPROVED.replace("\"schemaVersion\":1,", "\"schemaVersion\":\"1\","),
                    APPROVED.replace("\"schemaVersion\":1,", "\"schemaVersion\":0,"),
                    APPROVED.replace("\"type\":\"OrderApproved\"", "\"type\":7"),
                    APPROVED.replace("\"type\":\"OrderApproved\"", "\"type\":\"OrderShipped\""),
                    APPROVED.replace("\"customerId\":\"" + CUSTOMER + "\"}", "\"customerId\":null}"),
                    APPROVED.replace(",\"customerId\":\"" + CUSTOMER + "\"}", "}"),
                    APPROVED.replace("\"customerId\":\"" + CUSTOMER + "\"}", "\"customerId\":\"nope\"}"),
                    APPROVED.replace("\"customerId\":\"" + CUSTOMER + "\"}", "\"customerId\":\"" + CUSTOMER + "\",\"extra\":[1]}"),
                    APPROVED.replace("\"data\":", "\"data\" "),
                    APPROVED.replace("}}", "},\"after\": nope}"),
                    APPROVED + " trailing",
                    APPROVED.replace("\"occurredAt\":\"", "\"occurredAt\":\"x"),
                    APPROVED.replaceFirst("\"metadata\":\\{[^}]*}", "\"metadata\":null"),
                    "[" + APPROVED + "]"));
        }

        @ParameterizedTest(name = "[{index}] {0}")
        @MethodSource("envelopes")
        @DisplayName("the same envelope, or the same error, for every envelope")
        void one_pass_matches_the_tree(String text) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);

            assertThat(outcome(() -> EventJson.decode(bytes))).isEqualTo(outcome(() -> EventJson.decodeTree(bytes)));
        }

        @ParameterizedTest(name = "[{index}] {0}")
        @ValueSource(strings = {"{\"orderId\": \"%s\", \"customerId\": \"%s\"}",
                "{\"orderId\": \"%s\", \"customerId\": \"%s\", \"customerId\": null}",
                "{\"orderId\": \"%s\"}", "{\"orderId\": \"%s\", \"customerId\": 5}",
                "{\"orderId\": \"%s\", \"customerId\": \"%s\"} {", "[\"%s\"]"})
        @DisplayName("stored data is read to the same event, or the same error, as from its tree")
        void stored_data_matches_the_tree(String template) throws Exception {
            String data = template.formatted(ORDER, CUSTOMER);
            ObjectNode tree = EventJson.mapper().readTree(data) instanceof ObjectNode object ? object : null;

            Object direct = outcome(() -> EventJson.eventOf("OrderApproved", 1, data));

            if (tree != null) {
                assertThat(direct).isEqualTo(outcome(() -> EventJson.eventOf("OrderApproved", 1, tree)));
            } else {
                assertThat(direct).isEqualTo("EventFormatException: data of 'OrderApproved' is not a JSON object");
            }
        }

        @Test
        @DisplayName("stored data that is not JSON says so")
        void stored_data_not_json() {
            assertThat(outcome(() -> EventJson.eventOf("OrderApproved", 1, "{\"orderId\": nope}")).toString())
                    .startsWith("EventFormatException: data of 'OrderApproved' is not valid JSON");
        }

        @ParameterizedTest(name = "{0}")
        @MethodSource("dev.orders.events.EventJsonTest#everyEvent")
        @DisplayName("the stored data text is the text of its tree")
        void data_text_is_the_tree_text(DomainEvent event) {
            assertThat(EventJson.dataText(event)).isEqualTo(EventJson.dataOf(event).toString());
        }

        @ParameterizedTest(name = "[{index}] {0}")
        @MethodSource("dev.orders.events.InstantsTest#times")
        @DisplayName("the time of an envelope is read as Instant.parse reads it, and refused where it refuses")
        void occurred_at_reads_as_instant_parse(String time) {
            byte[] bytes = APPROVED.replaceFirst("\"occurredAt\":\"[^\"]*\"", "\"occurredAt\":\"" + time + "\"")
                    .getBytes(StandardCharsets.UTF_8);
            java.time.Instant expected;
            try {
                expected = java.time.Instant.parse(time);
            } catch (java.time.format.DateTimeParseException refused) {
                assertThat(outcome(() -> EventJson.decode(bytes)).toString()).startsWith("EventFormatException: bad envelope");
                return;
            }

            assertThat(EventJson.decode(bytes).occurredAt()).isEqualTo(expected);
        }

        /** The value, or the exception's class and message. */
        private static Object outcome(java.util.function.Supplier<?> read) {
            try {
                return read.get();
            } catch (RuntimeException e) {
                return e.getClass().getSimpleName() + ": " + e.getMessage();
            }
        }
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new java.util.HashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
