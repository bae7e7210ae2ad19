package dev.orders.infra.kafka;

import io.vertx.core.Context;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.util.List;
import java.util.function.Consumer;

/**
 * The records the relay of this process had acknowledged by Kafka, handed in-process to the consumers of the same
 * process, each as it would have polled the record (topic, partition, offset): what saves them the broker's
 * delivery. A receiver gets every batch on its own context and takes only what it expects next; whatever it does
 * not take it reads from Kafka as before, so nothing depends on the hand-off.
 */
public interface RelayedRecords {

    /** None: no relay in the process (or the hand-off switched off). */
    RelayedRecords NONE = new RelayedRecords() {
        @Override
        public void attach(Context context, Consumer<List<ConsumerRecord<String, byte[]>>> receiver) {
        }

        @Override
        public void detach(Consumer<List<ConsumerRecord<String, byte[]>>> receiver) {
        }
    };

    /** From now on, acknowledged records also go to {@code receiver}, on {@code context}. */
    void attach(Context context, Consumer<List<ConsumerRecord<String, byte[]>>> receiver);

    /** Stops handing records to {@code receiver}. */
    void detach(Consumer<List<ConsumerRecord<String, byte[]>>> receiver);
}
