package dev.orders.command.messaging;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.producer.KafkaHeader;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.kafka.client.producer.RecordMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The relay's records, once Kafka acknowledged them, handed straight to a consumer of the same process (the
 * saga), so that it need not wait for the broker to deliver them: each goes as the consumer would have
 * polled it, with the topic, partition and offset Kafka gave it. The receiver decides whether it takes a
 * record; whatever it does not take it reads from Kafka as before, so nothing depends on the hand-off.
 *
 * <p>Made once per process at wiring time and given to both. A batch is handed over from the producer's network
 * thread the moment Kafka acknowledged its last record, without a turn of the relay's event loop, and delivered on
 * the receiver's own context, never blocking the relay. Whatever the relay's state by then (even a term that has
 * lost its lease), the records are on the topic at those offsets, as the consumer would poll them. A hand-off made
 * with {@link #disabled()} hands nothing.
 */
public final class LocalHandOff {

    /** A record as the producer sent it and the broker placed it. */
    record Acknowledged(KafkaProducerRecord<String, Buffer> sent, RecordMetadata placed) {

        /** The record as a consumer polls it from its partition. */
        ConsumerRecord<String, byte[]> asConsumed() {
            RecordHeaders headers = new RecordHeaders();
            for (KafkaHeader header : sent.headers()) {
                headers.add(header.key(), header.value().getBytes());
            }
            byte[] value = sent.value().getBytes();
            String key = sent.key();
            int keySize = key == null ? -1 : key.getBytes(StandardCharsets.UTF_8).length;
            return new ConsumerRecord<>(placed.getTopic(), placed.getPartition(), placed.getOffset(),
                    placed.getTimestamp(), TimestampType.CREATE_TIME, keySize, value.length, key, value, headers,
                    Optional.empty());
        }
    }

    /** Who receives, on which context. */
    private record Attached(Context context, Consumer<List<ConsumerRecord<String, byte[]>>> receiver) {
    }

    private final boolean enabled;
    private volatile Attached attached;

    private LocalHandOff(boolean enabled) {
        this.enabled = enabled;
    }

    /** A hand-off between the relay and the saga of one process. */
    public static LocalHandOff create() {
        return new LocalHandOff(true);
    }

    /** One that hands nothing (configuration {@code saga.relay-handoff=false}, or no saga in the process). */
    public static LocalHandOff disabled() {
        return new LocalHandOff(false);
    }

    /** From now on, acknowledged records go to {@code receiver} on {@code context} (one receiver at a time). */
    public void attach(Context context, Consumer<List<ConsumerRecord<String, byte[]>>> receiver) {
        if (enabled) {
            attached = new Attached(context, receiver);
        }
    }

    /** Stops handing records to {@code receiver}, if it is the one attached. */
    public void detach(Consumer<List<ConsumerRecord<String, byte[]>>> receiver) {
        Attached now = attached;
        if (now != null && now.receiver() == receiver) {
            attached = null;
        }
    }

    /**
     * Hands a batch Kafka acknowledged to the receiver, if one is attached; returns at once. Called on any thread
     * (the producer's network thread): the records are made, and taken, on the receiver's context.
     */
    void hand(List<Acknowledged> acknowledged) {
        Attached to = attached;
        if (to == null || acknowledged.isEmpty()) {
            return;
        }
        to.context().runOnContext(ignored -> {
            List<ConsumerRecord<String, byte[]>> records = new ArrayList<>(acknowledged.size());
            for (Acknowledged one : acknowledged) {
                records.add(one.asConsumed());
            }
            to.receiver().accept(records);
        });
    }
}
