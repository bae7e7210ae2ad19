package dev.orders.command.saga;

import dev.orders.events.EventEnvelope;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaHeader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.record.TimestampType;

import java.util.List;

/**
 * An event the command handler of this process has just committed ({@code CommitHandOff}), queued behind the
 * records of the partition its Kafka copy will land in. It has no offset yet ({@link #offset()} is -1) and moves
 * no offset: its Kafka copy does, when it comes. Its event is already decoded.
 */
record CommittedRecord(String topic, int partition, String key, EventEnvelope envelope)
        implements KafkaConsumerRecord<String, byte[]> {

    /** The offset of a record that has none yet. */
    static final long NO_OFFSET = -1;

    @Override
    public long offset() {
        return NO_OFFSET;
    }

    @Override
    public long timestamp() {
        return envelope.occurredAt().toEpochMilli();
    }

    @Override
    public TimestampType timestampType() {
        return TimestampType.NO_TIMESTAMP_TYPE;
    }

    /** No bytes: the event is {@link #envelope()}. */
    @Override
    public byte[] value() {
        return null;
    }

    @Override
    public List<KafkaHeader> headers() {
        return List.of();
    }

    @Override
    public ConsumerRecord<String, byte[]> record() {
        return new ConsumerRecord<>(topic, partition, NO_OFFSET, key, null);
    }
}
