package dev.orders.command.messaging;

import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static dev.orders.command.messaging.RelayFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where the relay's records enter the Kafka producer: on the relay's own event loop, with no worker thread
 * between (a thread wake-up on every hop), once the producer has read the event topics' partitions.
 */
@DisplayName("The relay's producer")
class RelaySendThreadTest extends RelayTestBase {

    /** Notes the thread that hands each record to the producer (an interceptor runs inside {@code send}). */
    public static final class SendThreads implements ProducerInterceptor<Object, Object> {

        static final Set<String> NAMES = ConcurrentHashMap.newKeySet();

        @Override
        public ProducerRecord<Object, Object> onSend(ProducerRecord<Object, Object> record) {
            NAMES.add(Thread.currentThread().getName());
            return record;
        }

        @Override
        public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
        }

        @Override
        public void close() {
        }

        @Override
        public void configure(Map<String, ?> configs) {
        }
    }

    @Test
    @DisplayName("is handed every record on the relay's event loop, not through a worker thread")
    void sends_from_the_event_loop() {
        try (RelayFixture f = fixture()) {
            f.deploy(f.settings(100).withProducerOverrides(Map.of("interceptor.classes", SendThreads.class.getName())),
                    f.config.kafkaBootstrap());
            f.appendNow(UUID.randomUUID(), 0, 3);
            f.appendNow(UUID.randomUUID(), 0, 2);
            eventually(Duration.ofSeconds(30), "all five published", () -> f.checkpoint() == 5);
            assertThat(SendThreads.NAMES).isNotEmpty()
                    .allSatisfy(name -> assertThat(name).startsWith("vert.x-eventloop-thread"));
        }
    }
}
