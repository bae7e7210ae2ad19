package dev.orders.command.messaging;

import dev.orders.infra.kafka.RelayedRecords;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The relay's records, once Kafka acknowledged them, handed straight to the consumers of the same process (the
 * saga, the projector of an all-in-one), so that they need not wait for the broker to deliver them: each goes as a
 * consumer would have polled it, with the topic, partition and offset Kafka gave it. Each receiver decides whether
 * it takes a record; whatever it does not take it reads from Kafka as before, so nothing depends on the hand-off.
 *
 * <p>Made once per process at wiring time and given to the relay and the receivers. A batch is handed over from the
 * producer's network thread the moment Kafka acknowledged its last record, without a turn of the relay's event loop,
 * and delivered on each receiver's own context, never blocking the relay. Whatever the relay's state by then (even a
 * term that has lost its lease), the records are on the topic at those offsets, as a consumer would poll them. A
 * hand-off made with {@link #disabled()} hands nothing.
 */
public final class LocalHandOff implements RelayedRecords {

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
    private final List<Attached> attached = new CopyOnWriteArrayList<>();

    private LocalHandOff(boolean enabled) {
        this.enabled = enabled;
    }

    /** A hand-off between the relay and the consumers of one process. */
    public static LocalHandOff create() {
        return new LocalHandOff(true);
    }

    /** One that hands nothing (configuration {@code saga.relay-handoff=false}, or no saga in the process). */
    public static LocalHandOff disabled() {
        return new LocalHandOff(false);
    }

    /** From now on, acknowledged records also go to {@code receiver} on {@code context}. */
    @Override
    public void attach(Context context, Consumer<List<ConsumerRecord<String, byte[]>>> receiver) {
        if (enabled) {
            attached.add(new Attached(context, receiver));
        }
    }

    /** Stops handing records to {@code receiver}, if it is attached. */
    @Override
    public void detach(Consumer<List<ConsumerRecord<String, byte[]>>> receiver) {
        attached.removeIf(one -> one.receiver() == receiver);
    }

    /**
     * Hands a batch Kafka acknowledged to every receiver attached; returns at once. Called on any thread (the
     * producer's network thread): the records are made, and taken, on each receiver's context (its own copies,
     * with the same bytes).
     */
    void hand(List<Acknowledged> acknowledged) {
        if (acknowledged.isEmpty()) {
            return;
        }
        for (Attached to : attached) {
            to.context().runOnContext(ignored -> {
                List<ConsumerRecord<String, byte[]>> records = new ArrayList<>(acknowledged.size());
                for (Acknowledged one : acknowledged) {
                    records.add(one.asConsumed());
                }
                to.receiver().accept(records);
            });
        }
    }
}
