package dev.orders.command.messaging;

import dev.orders.events.Topics;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.orders.command.messaging.RelayFixture.await;
import static dev.orders.command.messaging.RelayFixture.sleep;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The relay hop as a user feels it: from the append's commit to the record on the topic, one event at
 * a time at a fixed rate, while other transactions that take an id and write no event keep the horizon
 * moving (as the saga's and the API's other writes do). Prints the percentiles; asserts only that every
 * event arrives.
 */
@DisplayName("The relay hop")
class RelayLatencyTest extends RelayTestBase {

    private static final int EVENTS = 100;
    private static final long EVERY_MILLIS = 50;
    /** Loops of unrelated short writes; {@code -Dorders.test.noise=0} measures a quiet database. */
    private static final int NOISE = Integer.getInteger("orders.test.noise", 2);


    @Test
    @DisplayName("publishes every event of a steady trickle, among short unrelated writes, and reports commit-to-topic latency")
    void commit_to_topic_latency_at_a_fixed_rate() throws Exception {
        try (RelayFixture f = fixture()) {
            f.deploy(f.settings(100), f.config.kafkaBootstrap());
            Map<UUID, Long> received = new ConcurrentHashMap<>();
            AtomicBoolean running = new AtomicBoolean(true);
            Thread consumer = Thread.ofPlatform().start(() -> consume(f, received, running));
            List<Thread> noise = new ArrayList<>();
            for (int i = 0; i < NOISE; i++) {
                noise.add(Thread.ofPlatform().start(() -> unrelatedWrites(f, running)));
            }
            try {
                sleep(2_000); // the consumer is assigned and the relay is active
                for (int i = 0; i < 10; i++) { // the producer learns the partitions' leaders: not measured
                    f.appendNow(UUID.randomUUID(), 0, 1);
                }
                Map<UUID, Long> committed = new ConcurrentHashMap<>();
                long next = System.nanoTime();
                for (int i = 0; i < EVENTS; i++) {
                    UUID id = f.appendNow(UUID.randomUUID(), 0, 1).get(0).eventId();
                    committed.put(id, System.nanoTime());
                    next += EVERY_MILLIS * 1_000_000;
                    long wait = (next - System.nanoTime()) / 1_000_000;
                    if (wait > 0) {
                        sleep(wait);
                    }
                }
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (!received.keySet().containsAll(committed.keySet()) && System.nanoTime() < deadline) {
                    sleep(20);
                }
                assertThat(received.keySet()).containsAll(committed.keySet());
                long[] micros = committed.entrySet().stream()
                        .mapToLong(e -> Math.max(0, received.get(e.getKey()) - e.getValue()) / 1_000).sorted().toArray();
                System.out.printf("relay hop, commit to topic, %d events at %d/s among %d loops of unrelated writes:"
                                + " p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms%n", EVENTS, 1000 / EVERY_MILLIS, NOISE,
                        at(micros, 0.50), at(micros, 0.90), at(micros, 0.99), micros[micros.length - 1] / 1000.0);
            } finally {
                running.set(false);
                consumer.join();
                for (Thread t : noise) {
                    t.join();
                }
            }
        }
    }

    private static double at(long[] sorted, double quantile) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)] / 1000.0;
    }

    /** Short transactions that take an id, hold it for a few milliseconds and write no event. */
    private static void unrelatedWrites(RelayFixture f, AtomicBoolean running) {
        while (running.get()) {
            SqlConnection connection = await(f.pool.getConnection());
            try {
                await(connection.query("BEGIN").execute());
                await(connection.query("SELECT pg_current_xact_id()").execute());
                sleep(15);
                await(connection.query("COMMIT").execute());
            } finally {
                await(connection.close().transform(ignored -> Future.succeededFuture()));
            }
            sleep(5);
        }
    }

    private static void consume(RelayFixture f, Map<UUID, Long> received, AtomicBoolean running) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                "bootstrap.servers", f.config.kafkaBootstrap(), "enable.auto.commit", "false",
                "fetch.max.wait.ms", "100"), new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : Topics.all(f.config.kafkaTopicPrefix())) {
                // a topic just created may not be in the metadata yet: its partitions then come back empty
                List<PartitionInfo> infos = List.of();
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (infos.isEmpty() && System.nanoTime() < deadline) {
                    infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
                    if (infos.isEmpty()) {
                        sleep(100);
                    }
                }
                infos.forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (running.get()) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(20))) {
                    var header = r.headers().lastHeader(Topics.HEADER_EVENT_ID);
                    received.putIfAbsent(UUID.fromString(new String(header.value(), StandardCharsets.UTF_8)),
                            System.nanoTime());
                }
            }
        }
    }
}
