package dev.orders.bench;

import dev.orders.command.messaging.RelaySettings;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The floor under load: the input and output of an order's chain with none of the system's own work, open loop at
 * a fixed rate (timed from each order's scheduled time), on the same PostgreSQL server and Kafka broker and through
 * the same clients: the command side's pool of the reactive PostgreSQL client, a Kafka producer with the relay's
 * settings, Kafka consumers polling on threads of their own.
 *
 * <p>An order here is only what no design of this chain can leave out: its own commit; then three times a Kafka
 * hop and a stage's commit (the saga's two, the projector's). Each stage takes what one poll brings and commits it
 * in one multi-row INSERT; a record is sent on straight after the commit that wrote it, from memory (no relay read,
 * no outbox). No HTTP, no aggregate, no decision, no JSON parsing, no push to a browser. An order is done when the
 * third stage's commit has answered. What the system takes beyond this is its own work and the hand-offs between
 * its parts.
 */
final class BareChain {

    /**
     * One run: orders scheduled and completed, their latency from the scheduled time, the CPU each part spent, and
     * the orders completed a second from the first scheduled send to the last completion.
     */
    record Run(String kind, int rate, boolean grouped, int seconds, long scheduled, long completed,
               double abortedAfterSeconds, Histogram latency, CpuUse.PerOrder cpu, double completedPerSecond) {

        /** Whether the run stopped early, more than 2 s of orders behind: its rate was past the chain's ceiling. */
        boolean overloaded() {
            return abortedAfterSeconds > 0;
        }
    }

    private static final String TABLE = "CREATE TABLE IF NOT EXISTS bench_chain "
            + "(id bigserial PRIMARY KEY, stage int NOT NULL, data jsonb NOT NULL)";
    private static final String INSERT_ONE = "INSERT INTO bench_chain (stage, data) VALUES (0, $1::text::jsonb)";
    private static final String INSERT_MANY = "INSERT INTO bench_chain (stage, data) "
            + "SELECT $1, d::jsonb FROM unnest($2::text[]) AS d";
    /** About an OrderCreated's size. */
    private static final String DATA = "{\"orderId\":\"" + UUID.randomUUID() + "\",\"customerId\":\"" + UUID.randomUUID()
            + "\",\"total\":{\"amount\":\"1.00\",\"currency\":\"EUR\"},\"occurredAt\":\"2026-12-05T00:00:00Z\"}";
    private static final long HIGHEST = TimeUnit.SECONDS.toNanos(120);
    private static final int STAGES = 3;
    /**
     * Orders whose first commit may be under way at once: past the chain's ceiling the generator waits for one to
     * answer (the pool's wait queue would otherwise overflow), which shows as latency, never as a failure.
     */
    private static final int FIRST_COMMITS_IN_FLIGHT = 512;
    /** Groups of orders whose commits may be under way at once, when the orders' own commits are grouped. */
    private static final int GROUPS_IN_FLIGHT = 4;

    private final SystemUnderTest system;
    private final Http http;
    private final Pool pool;
    private final CpuUse cpu;

    BareChain(SystemUnderTest system, Http http) throws Exception {
        this.system = system;
        this.http = http;
        this.pool = system.app().commandSide().pool();
        this.cpu = CpuUse.of(system, http);
        Http.await(pool.query(TABLE).execute(), Duration.ofSeconds(30));
    }

    /**
     * One open-loop run of {@code rate} orders a second for {@code seconds}, on topics of its own; {@code grouped}: the
     * orders' own commits are grouped ({@link GroupIntake}), else one each.
     */
    Run run(String kind, int rate, int seconds, boolean grouped) throws Exception {
        String bootstrap = system.app().infrastructure().kafkaBootstrap();
        String prefix = "bench-chain-" + UUID.randomUUID() + "-";
        List<String> topics = new ArrayList<>();
        for (int stage = 1; stage <= STAGES; stage++) {
            topics.add(prefix + stage);
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(topics.stream().map(t -> new NewTopic(t, 1, (short) 1)).toList()).all()
                    .get(30, TimeUnit.SECONDS);
            try {
                return runOn(kind, rate, seconds, grouped, bootstrap, topics);
            } finally {
                admin.deleteTopics(topics).all().get(30, TimeUnit.SECONDS);
            }
        }
    }

    private Run runOn(String kind, int rate, int seconds, boolean grouped, String bootstrap, List<String> topics)
            throws Exception {
        Map<String, Object> producerConfig = new HashMap<>(RelaySettings.from(system.config()).producerConfig(bootstrap));
        producerConfig.put("client.id", "bench-chain");
        Histogram latency = new SynchronizedHistogram(HIGHEST, 3);
        AtomicLong completed = new AtomicLong();
        AtomicLong lastDone = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (KafkaProducer<String, Buffer> producer = new KafkaProducer<>(producerConfig)) {
            for (String topic : topics) { // metadata known before the first timed send
                producer.partitionsFor(topic);
            }
            List<Stage> stages = new ArrayList<>();
            for (int stage = 1; stage <= STAGES; stage++) {
                String next = stage < STAGES ? topics.get(stage) : null;
                stages.add(new Stage(stage, bootstrap, topics.get(stage - 1), next, producer, latency, completed, lastDone,
                        failure));
            }
            List<Thread> threads = stages.stream().map(s -> Thread.ofPlatform().name("bench-chain-" + s.number).start(s))
                    .toList();
            try {
                for (Stage stage : stages) {
                    stage.assigned.get(30, TimeUnit.SECONDS);
                }
                return drive(kind, rate, seconds, grouped, topics.get(0), producer, latency, completed, lastDone, failure);
            } finally {
                stages.forEach(Stage::stop);
                for (Thread thread : threads) {
                    thread.join(TimeUnit.SECONDS.toMillis(30));
                }
            }
        }
    }

    private Run drive(String kind, int rate, int seconds, boolean grouped, String first, KafkaProducer<String, Buffer> producer,
                      Histogram latency, AtomicLong completed, AtomicLong lastDone, AtomicReference<Throwable> failure)
            throws Exception {
        long planned = (long) rate * seconds;
        long scheduled = planned;
        long overload = Math.max(200, 2L * rate);
        double abortedAfter = 0;
        Semaphore firstCommits = new Semaphore(FIRST_COMMITS_IN_FLIGHT);
        GroupIntake intake = new GroupIntake(first, producer, firstCommits, failure);
        CpuUse.Sample cpuFrom = cpu.sample();
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        for (long i = 0; i < planned; i++) {
            long due = start + i * 1_000_000_000L / rate;
            if (i - completed.get() > overload || failure.get() != null) { // more than 2 s of orders behind
                scheduled = i;
                abortedAfter = (System.nanoTime() - start) / 1e9;
                break;
            }
            EndToEnd.parkUntil(due);
            firstCommits.acquire();
            if (grouped) {
                http.context().runOnContext(v -> intake.add(due));
            } else {
                http.context().runOnContext(v -> pool.preparedQuery(INSERT_ONE).execute(Tuple.of(DATA))
                        .onComplete(done -> firstCommits.release())
                        .onSuccess(rows -> producer.send(new ProducerRecord<>(first, Long.toString(due), Buffer.buffer(DATA))))
                        .onFailure(error -> failure.compareAndSet(null, error)));
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (completed.get() < scheduled && failure.get() == null && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        CpuUse.Sample cpuTo = cpu.sample();
        if (failure.get() != null) {
            throw new IllegalStateException("the bare chain failed: " + failure.get(), failure.get());
        }
        if (completed.get() > scheduled) {
            throw new IllegalStateException("the bare chain completed " + completed.get() + " orders, more than the "
                    + scheduled + " it sent");
        }
        double busySeconds = (lastDone.get() - start) / 1e9;
        return new Run(kind, rate, grouped, seconds, scheduled, completed.get(), abortedAfter, latency,
                CpuUse.PerOrder.between(cpuFrom, cpuTo, completed.get()),
                busySeconds > 0 ? completed.get() / busySeconds : 0);
    }

    /**
     * The orders' own commits grouped, as a service that group-commits its intake would: an order that arrives while
     * {@value #GROUPS_IN_FLIGHT} groups are being committed waits, and all that waited go together in the next group, one
     * multi-row INSERT (and one commit) for all of them; each is sent on once its group has committed. Orders arrive on
     * the generator's context and commits answer on the pool's, so what waits and what is under way is guarded by this
     * object's lock.
     */
    private final class GroupIntake {
        private final String first;
        private final KafkaProducer<String, Buffer> producer;
        private final Semaphore firstCommits;
        private final AtomicReference<Throwable> failure;
        private List<Long> waiting = new ArrayList<>();
        private int inFlight;

        GroupIntake(String first, KafkaProducer<String, Buffer> producer, Semaphore firstCommits,
                    AtomicReference<Throwable> failure) {
            this.first = first;
            this.producer = producer;
            this.firstCommits = firstCommits;
            this.failure = failure;
        }

        synchronized void add(long due) {
            waiting.add(due);
            commitNext();
        }

        private synchronized void committed(int orders) {
            inFlight--;
            firstCommits.release(orders);
            commitNext();
        }

        private void commitNext() {
            if (inFlight >= GROUPS_IN_FLIGHT || waiting.isEmpty()) {
                return;
            }
            List<Long> group = waiting;
            waiting = new ArrayList<>();
            inFlight++;
            String[] values = new String[group.size()];
            java.util.Arrays.fill(values, DATA);
            pool.preparedQuery(INSERT_MANY).execute(Tuple.tuple().addInteger(0).addArrayOfString(values))
                    .onComplete(done -> committed(group.size()))
                    .onSuccess(rows -> group.forEach(due ->
                            producer.send(new ProducerRecord<>(first, Long.toString(due), Buffer.buffer(DATA)))))
                    .onFailure(error -> failure.compareAndSet(null, error));
        }
    }

    /**
     * One stage on a thread of its own: poll, commit what the poll brought in one INSERT, then send each record on
     * (or, at the last stage, count it done).
     */
    private final class Stage implements Runnable {
        private final int number;
        private final String topic;
        private final String next;
        private final KafkaProducer<String, Buffer> producer;
        private final Histogram latency;
        private final AtomicLong completed;
        private final AtomicLong lastDone;
        private final AtomicReference<Throwable> failure;
        private final Map<String, Object> consumerConfig;
        private final CompletableFuture<Void> assigned = new CompletableFuture<>();
        private volatile boolean stopped;

        Stage(int number, String bootstrap, String topic, String next, KafkaProducer<String, Buffer> producer,
              Histogram latency, AtomicLong completed, AtomicLong lastDone, AtomicReference<Throwable> failure) {
            this.number = number;
            this.topic = topic;
            this.next = next;
            this.producer = producer;
            this.latency = latency;
            this.completed = completed;
            this.lastDone = lastDone;
            this.failure = failure;
            this.consumerConfig = Map.of("bootstrap.servers", bootstrap, "group.id", topic, "enable.auto.commit", "false",
                    "key.deserializer", StringDeserializer.class.getName(),
                    "value.deserializer", StringDeserializer.class.getName());
        }

        void stop() {
            stopped = true;
        }

        @Override
        public void run() {
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig)) {
                TopicPartition partition = new TopicPartition(topic, 0);
                consumer.assign(List.of(partition));
                consumer.seekToBeginning(List.of(partition));
                consumer.position(partition);
                assigned.complete(null);
                while (!stopped) {
                    ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(50));
                    if (!records.isEmpty()) {
                        handle(records);
                    }
                }
            } catch (Throwable error) {
                assigned.completeExceptionally(error);
                failure.compareAndSet(null, error);
            }
        }

        private void handle(ConsumerRecords<String, String> records) throws Exception {
            List<String> values = new ArrayList<>(records.count());
            for (ConsumerRecord<String, String> record : records) {
                values.add(record.value());
            }
            Http.await(pool.preparedQuery(INSERT_MANY).execute(Tuple.tuple().addInteger(number).addArrayOfString(values.toArray(new String[0]))),
                    Duration.ofSeconds(30));
            if (next != null) {
                for (ConsumerRecord<String, String> record : records) {
                    producer.send(new ProducerRecord<>(next, record.key(), Buffer.buffer(record.value())));
                }
                return;
            }
            long now = System.nanoTime();
            for (ConsumerRecord<String, String> record : records) {
                latency.recordValue(Math.min(HIGHEST, now - Long.parseLong(record.key())));
            }
            completed.addAndGet(records.count());
            lastDone.set(now);
        }
    }
}
