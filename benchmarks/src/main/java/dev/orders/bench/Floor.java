package dev.orders.bench;

import dev.orders.command.messaging.RelaySettings;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The floor under an order's latency on this machine: the parts a quiet order cannot do without, each measured
 * alone, one at a time, on the same embedded PostgreSQL and Kafka broker as the system (while the system idles):
 * a PostgreSQL commit of one row (an append), a PostgreSQL read of one row (the relay's read), a Kafka send until
 * its acknowledgement with the relay's own producer settings (before which the relay hands nothing on), and a
 * Kafka send until a consumer polling the partition has the record (what the projector waits for).
 */
final class Floor {

    /** One part: its name and the round trips' percentiles, in milliseconds. */
    record Part(String name, String what, double p50, double p90, double p99) {
    }

    /** The four parts, in the order the report lists them. */
    record Parts(Part commit, Part read, Part acknowledged, Part consumed) {

        List<Part> all() {
            return List.of(commit, read, acknowledged, consumed);
        }

        /**
         * Their p50s along a quiet order's chain: four commits (the order, the reservation, the approval, the
         * projection), three relay reads, two sends until acknowledged (the saga takes a record once Kafka has it)
         * and one until consumed (the projector).
         */
        double chainP50() {
            return 4 * commit.p50() + 3 * read.p50() + 2 * acknowledged.p50() + consumed.p50();
        }
    }

    private static final String TABLE = "CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, data jsonb NOT NULL)";
    private static final String INSERT = "INSERT INTO bench_floor (data) VALUES ($1::text::jsonb)";
    private static final String READ = "SELECT id, data::text FROM bench_floor WHERE id = $1";
    private static final String DATA = "{\"orderId\":\"" + UUID.randomUUID() + "\",\"total\":{\"amount\":\"1.00\",\"currency\":\"EUR\"}}";

    private final SystemUnderTest system;

    Floor(SystemUnderTest system) {
        this.system = system;
    }

    Parts run(int samples) throws Exception {
        Pool pool = system.app().commandSide().pool();
        Http.await(pool.query(TABLE).execute(), Duration.ofSeconds(30));
        long[] commit = new long[samples];
        long[] read = new long[samples];
        for (int i = -samples / 10; i < samples; i++) { // a tenth more first, as warm-up
            long start = System.nanoTime();
            long id = Http.await(pool.preparedQuery(INSERT + " RETURNING id").execute(Tuple.of(DATA)),
                    Duration.ofSeconds(10)).iterator().next().getLong(0);
            long committed = System.nanoTime();
            Http.await(pool.preparedQuery(READ).execute(Tuple.of(id)), Duration.ofSeconds(10));
            long readDone = System.nanoTime();
            if (i >= 0) {
                commit[i] = committed - start;
                read[i] = readDone - committed;
            }
            pause();
        }
        List<Part> kafka = kafka(samples);
        return new Parts(part("PostgreSQL: commit one row", "an autocommitted INSERT of one jsonb row, answered", commit),
                part("PostgreSQL: read one row", "a prepared SELECT of that row by its key, answered", read),
                kafka.get(0), kafka.get(1));
    }

    private List<Part> kafka(int samples) throws Exception {
        String bootstrap = system.app().infrastructure().kafkaBootstrap();
        String topic = "bench-floor-" + UUID.randomUUID();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> producerConfig = new HashMap<>(RelaySettings.from(system.config())
                .producerConfig(bootstrap));
        producerConfig.put("client.id", "bench-floor");
        Map<String, Object> consumerConfig = Map.of("bootstrap.servers", bootstrap, "group.id", "bench-floor-" + topic,
                "enable.auto.commit", "false", "key.deserializer", StringDeserializer.class.getName(),
                "value.deserializer", StringDeserializer.class.getName());
        TopicPartition partition = new TopicPartition(topic, 0);
        long[] acked = new long[samples];
        long[] consumed = new long[samples];
        try (KafkaProducer<String, Buffer> producer = new KafkaProducer<>(producerConfig);
             KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig)) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            consumer.poll(Duration.ofMillis(100));
            for (int i = -samples / 10; i < samples; i++) {
                CompletableFuture<Long> ack = new CompletableFuture<>();
                long start = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, "key", Buffer.buffer(DATA)),
                        (metadata, error) -> {
                            if (error != null) {
                                ack.completeExceptionally(error);
                            } else {
                                ack.complete(System.nanoTime());
                            }
                        });
                long arrived = 0;
                while (arrived == 0) {
                    for (ConsumerRecord<String, String> ignored : consumer.poll(Duration.ofMillis(500))) {
                        arrived = System.nanoTime();
                    }
                }
                long ackedAt = ack.get(10, TimeUnit.SECONDS);
                if (i >= 0) {
                    acked[i] = ackedAt - start;
                    consumed[i] = arrived - start;
                }
                pause();
            }
        }
        return List.of(
                part("Kafka: send until acknowledged", "one record, the relay's producer settings (acks=all, idempotent, "
                        + "lz4, linger 0, one request in flight), to its callback", acked),
                part("Kafka: send until consumed", "the same record, until a consumer polling the partition (on its own "
                        + "thread) has it", consumed));
    }

    /** A quiet system: one order at a time, each after the last one's parts settled and the threads fell idle. */
    private static void pause() throws InterruptedException {
        Thread.sleep(5);
    }

    private static Part part(String name, String what, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return new Part(name, what, at(sorted, 50), at(sorted, 90), at(sorted, 99));
    }

    private static double at(long[] sorted, double p) {
        int index = (int) Math.ceil(p / 100 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }
}
