package dev.orders.command.saga;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.impl.KafkaConsumerRecordsImpl;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static dev.orders.command.saga.SagaWorld.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link PartitionQueues} given the same offsets of one partition two ways, polled and handed over by the
 * relay, in a chosen interleaving: each offset is handled once, in order, whichever way it came first.
 */
@ExtendWith(SharedInfrastructure.class)
@DisplayName("The saga's partition queues, given records polled and handed over")
class PartitionQueuesHandOffTest {

    @Test
    @DisplayName("drop a handed-over record ahead of the next offset, take one at it, and skip the polled copy of "
            + "what they took")
    void take_each_offset_once_in_order(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        String topic = topic(config, "queues");
        Vertx vertx = Vertx.vertx();
        try {
            KafkaConsumer<String, byte[]> consumer = consumer(vertx, config);
            Context context = vertx.getOrCreateContext();
            List<Long> handled = Collections.synchronizedList(new ArrayList<>());
            PartitionQueues queues = new PartitionQueues(context, consumer, handler(batch -> {
                batch.stream().map(entry -> ((PartitionQueues.Polled) entry).record().offset()).forEach(handled::add);
                return Future.succeededFuture();
            }), 1_000, 100, partitions -> Future.succeededFuture(Map.of()));
            TopicPartition partition = new TopicPartition(topic, 0);
            on(context, () -> queues.assigned(Set.of(partition)));

            on(context, () -> queues.addAll(polled(record(topic, 0))));          // the saga is at offset 1
            on(context, () -> queues.handOff(List.of(record(topic, 2))));        // ahead: dropped
            on(context, () -> queues.handOff(List.of(record(topic, 1))));        // the next one: taken
            on(context, () -> queues.addAll(polled(record(topic, 1), record(topic, 2)))); // 1 skipped, 2 taken
            on(context, () -> queues.handOff(List.of(record(topic, 2), record(topic, 3)))); // 2 behind, 3 next
            on(context, () -> queues.addAll(polled(record(topic, 3))));          // skipped

            assertThat(queues.handOffsTaken()).as("handed over and taken").isEqualTo(2);
            assertThat(queues.handOffsDropped()).as("handed over and left to Kafka").isEqualTo(2);
            assertThat(queues.kafkaCopiesSkipped()).as("polled copies skipped").isEqualTo(2);
            SagaWorld.eventually(Duration.ofSeconds(10), "every offset handled", () -> List.copyOf(handled),
                    offsets -> offsets.size() >= 4);
            assertThat(handled).as("offsets handled, in order, each once").containsExactly(0L, 1L, 2L, 3L);
            await(consumer.close());
        } finally {
            await(vertx.close());
        }
    }

    @Test
    @DisplayName("queue events committed here on an idle partition, in a batch of their own that moves no offset, and "
            + "leave those of a busy partition, or one not owned here, to Kafka")
    void queue_committed_events_while_idle(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        String topic = topic(config, "committed");
        Vertx vertx = Vertx.vertx();
        try {
            KafkaConsumer<String, byte[]> consumer = consumer(vertx, config);
            Context context = vertx.getOrCreateContext();
            List<List<String>> batches = Collections.synchronizedList(new ArrayList<>());
            Promise<Void> polledDone = Promise.promise();
            Promise<Void> committedDone = Promise.promise();
            PartitionQueues queues = new PartitionQueues(context, consumer, handler(batch -> {
                batches.add(batch.stream().map(entry -> switch (entry) {
                    case CommittedEvent committed -> "committed v" + committed.envelope().version();
                    case PartitionQueues.Polled polled -> "offset " + polled.record().offset();
                }).toList());
                return switch (batches.size()) {
                    case 1 -> polledDone.future();
                    case 2 -> committedDone.future();
                    default -> Future.succeededFuture();
                };
            }), 1_000, 100, partitions -> Future.succeededFuture(Map.of()));
            TopicPartition partition = new TopicPartition(topic, 0);
            on(context, () -> queues.assigned(Set.of(partition)));
            UUID stream = UUID.randomUUID();

            on(context, () -> queues.addAll(polled(record(topic, 0))));  // under way until polledDone
            on(context, () -> queues.committed(List.of(committed(topic, 0, stream, 1)), () -> { })); // busy: left
            on(context, () -> queues.committed(List.of(committed(topic, 1, stream, 1)), () -> { })); // a partition not owned
            on(context, () -> queues.committed(List.of(committed(topic, -1, stream, 1)), () -> { })); // partitions not known
            on(context, polledDone::complete);
            on(context, () -> { }); // the partition's next turn has run: it is idle
            on(context, () -> queues.committed(List.of(committed(topic, 0, stream, 2), committed(topic, 0, stream, 3)),
                    () -> { }));
            on(context, () -> queues.addAll(polled(record(topic, 1))));  // behind the committed events
            on(context, () -> queues.committed(List.of(committed(topic, 0, stream, 4)), () -> { })); // busy again: left
            on(context, committedDone::complete);

            SagaWorld.eventually(Duration.ofSeconds(10), "every batch handled", () -> List.copyOf(batches),
                    handled -> handled.size() >= 3);
            assertThat(batches).containsExactly(List.of("offset 0"), List.of("committed v2", "committed v3"),
                    List.of("offset 1"));
            assertThat(queues.committedLeft()).as("left to Kafka").isEqualTo(4);
            SagaWorld.eventually(Duration.ofSeconds(10), "the offset past the last record", () -> {
                Promise<Map<TopicPartition, Long>> progress = Promise.promise();
                context.runOnContext(ignored -> progress.complete(queues.progress()));
                return await(progress.future()).get(partition);
            }, next -> next == 2L);
            await(consumer.close());
        } finally {
            await(vertx.close());
        }
    }

    @Test
    @DisplayName("tell a hand-off of committed events when they are done with: at once when none was queued, once "
            + "every batch of them was handled, and when the saga stops with them queued")
    void tell_a_hand_off_when_its_events_are_done_with(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        String topic = topic(config, "hand-off-done");
        Vertx vertx = Vertx.vertx();
        try {
            KafkaConsumer<String, byte[]> consumer = consumer(vertx, config);
            Context context = vertx.getOrCreateContext();
            List<Promise<Void>> batches = Collections.synchronizedList(new ArrayList<>());
            PartitionQueues queues = new PartitionQueues(context, consumer, handler(batch -> {
                Promise<Void> handled = Promise.promise();
                batches.add(handled);
                return handled.future();
            }), 1_000, 1, partitions -> Future.succeededFuture(Map.of()));
            on(context, () -> queues.assigned(Set.of(new TopicPartition(topic, 0))));
            UUID stream = UUID.randomUUID();
            List<String> done = Collections.synchronizedList(new ArrayList<>());

            on(context, () -> queues.committed(List.of(committed(topic, 1, stream, 1)), () -> done.add("not owned")));
            assertThat(done).as("nothing queued: done at once").containsExactly("not owned");

            on(context, () -> queues.committed(List.of(committed(topic, 0, stream, 1), committed(topic, 0, stream, 2)),
                    () -> done.add("two")));
            SagaWorld.eventually(Duration.ofSeconds(10), "the first batch under way", batches::size, n -> n == 1);
            on(context, () -> batches.get(0).complete());
            SagaWorld.eventually(Duration.ofSeconds(10), "the second batch under way", batches::size, n -> n == 2);
            assertThat(done).as("one of the two events still under way").containsExactly("not owned");
            on(context, () -> batches.get(1).fail("the reaction failed: done with all the same"));
            SagaWorld.eventually(Duration.ofSeconds(10), "the hand-off told", () -> List.copyOf(done),
                    told -> told.contains("two"));

            on(context, () -> queues.committed(List.of(committed(topic, 0, stream, 3), committed(topic, 0, stream, 4)),
                    () -> done.add("stopped")));
            SagaWorld.eventually(Duration.ofSeconds(10), "the third batch under way", batches::size, n -> n == 3);
            Promise<Void> drained = Promise.promise();
            context.runOnContext(ignored -> queues.drain(100).onComplete(drained));
            await(drained.future());
            assertThat(done).as("each hand-off told once").containsExactly("not owned", "two", "stopped");
            await(consumer.close());
        } finally {
            await(vertx.close());
        }
    }

    /** A topic of one partition, made for the test. */
    private static String topic(OrdersConfig config, String name) throws Exception {
        String topic = config.kafkaTopicPrefix() + "." + name;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", config.kafkaBootstrap()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        return topic;
    }

    /** A consumer the queues can pause and resume; it never polls. */
    private static KafkaConsumer<String, byte[]> consumer(Vertx vertx, OrdersConfig config) {
        return KafkaConsumer.create(vertx, Map.of(
                "bootstrap.servers", config.kafkaBootstrap(), "group.id", config.sagaGroupId(),
                "key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer",
                "value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                "enable.auto.commit", "false"));
    }

    /** A handler that sees each batch, of records or of committed events, as the queue's entries it was made of. */
    private static PartitionQueues.Handler handler(Function<List<PartitionQueues.Entry>, Future<Void>> each) {
        return new PartitionQueues.Handler() {
            @Override
            public Future<Void> records(List<KafkaConsumerRecord<String, byte[]>> batch) {
                return each.apply(batch.stream().<PartitionQueues.Entry>map(PartitionQueues.Polled::new).toList());
            }

            @Override
            public Future<Void> committed(List<CommittedEvent> batch) {
                return each.apply(List.copyOf(batch));
            }
        };
    }

    private static CommittedEvent committed(String topic, int partition, UUID stream, long version) {
        return new CommittedEvent(topic, partition, "customer", new EventEnvelope(UUID.randomUUID(), version, 0,
                Instant.now(), 1, EventMetadata.NONE,
                new OrderCreated(stream, UUID.randomUUID(), new Money(new BigDecimal("1"), "EUR"))));
    }

    /** Runs on the queues' context and waits for it. */
    private static void on(Context context, Runnable action) throws Exception {
        Promise<Void> done = Promise.promise();
        context.runOnContext(ignored -> {
            action.run();
            done.complete();
        });
        await(done.future());
    }

    private static ConsumerRecord<String, byte[]> record(String topic, long offset) {
        return new ConsumerRecord<>(topic, 0, offset, "customer", ("event " + offset).getBytes(StandardCharsets.UTF_8));
    }

    @SafeVarargs
    private static KafkaConsumerRecordsImpl<String, byte[]> polled(ConsumerRecord<String, byte[]>... records) {
        return new KafkaConsumerRecordsImpl<>(new ConsumerRecords<>(Map.of(
                new org.apache.kafka.common.TopicPartition(records[0].topic(), 0), List.of(records))));
    }
}
