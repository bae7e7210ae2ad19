package dev.orders.command.messaging;

import dev.orders.events.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;

/** Reads the event topics of one prefix from the beginning, as a test's consumer (blocking, test thread only). */
final class TopicReader implements AutoCloseable {

    /** One record as found on the topic: its key is the partition key, the stream id is a header. */
    record Published(String topic, int partition, long offset, String key, String streamId, UUID eventId,
                     long version, long position, String schemaVersionHeader, String correlationIdHeader,
                     byte[] value) {

        /** The record's value, decoded as a consumer decodes it (upcast to the current schema). */
        EventEnvelope envelope() {
            return EventJson.decode(value);
        }
    }

    private final KafkaConsumer<String, byte[]> consumer;
    private final List<Published> records = new ArrayList<>();

    TopicReader(String bootstrap, String prefix) {
        consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap, "enable.auto.commit", "false",
                "isolation.level", "read_uncommitted", "max.poll.records", "2000"),
                new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : Topics.all(prefix)) {
            for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** Polls until {@code unique} distinct events were read (then a little longer, to catch repeats). */
    List<Published> readUntilUnique(int unique, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (distinct() < unique && System.nanoTime() < deadline) {
            poll(Duration.ofMillis(200));
        }
        poll(Duration.ofMillis(500));
        return List.copyOf(records);
    }

    /** Polls for a while and returns everything read so far. */
    List<Published> readFor(Duration duration) {
        long deadline = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < deadline) {
            poll(Duration.ofMillis(100));
        }
        return List.copyOf(records);
    }

    private void poll(Duration duration) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(duration)) {
            records.add(new Published(r.topic(), r.partition(), r.offset(), r.key(),
                    header(r, Topics.HEADER_STREAM_ID), UUID.fromString(header(r, Topics.HEADER_EVENT_ID)), Long.parseLong(header(r, Topics.HEADER_VERSION)),
                    Long.parseLong(header(r, Topics.HEADER_GLOBAL_POSITION)), header(r, Topics.HEADER_SCHEMA_VERSION),
                    header(r, Topics.HEADER_CORRELATION_ID), r.value()));
        }
    }

    private int distinct() {
        Set<UUID> ids = new HashSet<>();
        records.forEach(r -> ids.add(r.eventId()));
        return ids.size();
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** Event ids seen more than once, with how often. */
    static Map<UUID, Integer> repeats(List<Published> records) {
        Map<UUID, Integer> counts = new HashMap<>();
        records.forEach(r -> counts.merge(r.eventId(), 1, Integer::sum));
        counts.values().removeIf(n -> n == 1);
        return counts;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}
