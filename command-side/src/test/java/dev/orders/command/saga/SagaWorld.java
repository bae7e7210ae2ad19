package dev.orders.command.saga;

import dev.orders.command.domain.CustomerCommand.CreateCustomer;
import dev.orders.command.domain.CustomerState;
import dev.orders.command.domain.DomainException;
import dev.orders.command.domain.OrderCommand.CancelOrder;
import dev.orders.command.domain.OrderCommand.CreateOrder;
import dev.orders.command.domain.OrderState;
import dev.orders.command.domain.Rejection;
import dev.orders.command.handling.AggregateType;
import dev.orders.command.handling.CommandHandler;
import dev.orders.command.handling.CommandHandler.InTransaction;
import dev.orders.command.store.CommandSchema;
import dev.orders.command.store.ConcurrencyConflictException;
import dev.orders.command.store.EventStore;
import dev.orders.command.store.Snapshots;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.EventMetadata;
import dev.orders.events.Money;
import dev.orders.events.StreamType;
import dev.orders.events.Topics;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.sql.PgPools;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The test's side of the world: a client that places and cancels orders as the HTTP API does (an
 * order's OrderCreated, nothing else), reads the event store, republishes events, and
 * waits until everything is quiet. Blocking helpers run on the test thread only.
 */
final class SagaWorld implements AutoCloseable {

    final OrdersConfig config;
    final Vertx vertx = Vertx.vertx();
    final Pool pool;
    final CommandHandler handler;
    final Deadlines deadlines = new Deadlines();
    private final Admin admin;

    SagaWorld(OrdersConfig config) throws Exception {
        this.config = config;
        this.pool = PgPools.create(vertx, config.effectiveCommandPgUri(), 16, 10_000, "saga-world");
        await(CommandSchema.MIGRATIONS.migrate(vertx, config.effectiveCommandPgUri()));
        this.handler = new CommandHandler(vertx, pool, new EventStore(), new Snapshots(), Clock.systemUTC(),
                UUID::randomUUID, config.snapshotEvery(), 8);
        this.admin = Admin.create(Map.of("bootstrap.servers", config.kafkaBootstrap()));
        admin.createTopics(Topics.all(config.kafkaTopicPrefix()).stream()
                .map(topic -> new NewTopic(topic, config.kafkaPartitions(), (short) 1)).toList())
                .all().get(30, TimeUnit.SECONDS);
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    }

    UUID createCustomer(Money limit) throws Exception {
        return createCustomer(handler, limit);
    }

    /** Creates a customer through {@code via} (the saga's own process, say) instead of this world's handler. */
    static UUID createCustomer(CommandHandler via, Money limit) throws Exception {
        UUID id = UUID.randomUUID();
        await(via.handle(AggregateType.CUSTOMER, id, new CreateCustomer(id, "customer " + id, limit),
                new EventMetadata("customer-" + id, null, UUID.randomUUID().toString(), null), InTransaction.nothing()));
        return id;
    }

    /** Places an order as {@code POST /api/orders} does: its OrderCreated, nothing else. */
    Future<UUID> placeOrder(UUID orderId, UUID customerId, Money total) {
        return placeOrder(handler, orderId, customerId, total);
    }

    /** Places an order through {@code via} (the saga's own process, say) instead of this world's handler. */
    static Future<UUID> placeOrder(CommandHandler via, UUID orderId, UUID customerId, Money total) {
        return via.handle(AggregateType.ORDER, orderId, new CreateOrder(orderId, customerId, total),
                        new EventMetadata("order-" + orderId, null, UUID.randomUUID().toString(), null),
                        InTransaction.nothing())
                .map(orderId);
    }

    /** Starts the deadlines of these orders now, as the saga does when their credit check goes unanswered. */
    void armDeadlines(UUID customerId, List<UUID> orderIds) throws Exception {
        await(deadlines.arm(pool, orderIds.stream()
                .map(order -> new Deadlines.Deadline(order, customerId, "order-" + order)).toList(),
                config.sagaCreditCheckTimeout()));
    }

    /** Whether the order's deadline exists and runs (the saga asked its customer and got no answer). */
    Optional<Boolean> deadlineRunning(UUID orderId) throws Exception {
        var rows = await(pool.preparedQuery("SELECT due_at IS NOT NULL FROM saga_deadlines WHERE order_id = $1")
                .execute(Tuple.of(orderId)));
        return rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next().getBoolean(0));
    }

    /** Cancels an order; false when it was decided already (the domain's INVALID_STATE). */
    Future<Boolean> cancel(UUID orderId) {
        return handler.handle(AggregateType.ORDER, orderId, new CancelOrder(orderId),
                        new EventMetadata("order-" + orderId, null, UUID.randomUUID().toString(), null),
                        InTransaction.nothing())
                .map(result -> !result.appended().isEmpty())
                .recover(failure -> {
                    if (failure instanceof DomainException refused && refused.rejection() == Rejection.INVALID_STATE) {
                        return Future.succeededFuture(false);
                    }
                    if (failure instanceof ConcurrencyConflictException) {
                        return vertx.timer(5).compose(ignored -> cancel(orderId));
                    }
                    return Future.failedFuture(failure);
                });
    }

    OrderState order(UUID orderId) throws Exception {
        return await(handler.load(AggregateType.ORDER, orderId)).state();
    }

    CustomerState customer(UUID customerId) throws Exception {
        return await(handler.load(AggregateType.CUSTOMER, customerId)).state();
    }

    /** Every stored event, per stream, in stream order. */
    Map<UUID, List<EventEnvelope>> allStreams() throws Exception {
        Map<UUID, List<EventEnvelope>> streams = new LinkedHashMap<>();
        for (Row row : await(pool.query("""
                SELECT stream_id, event_id, version, global_position, event_type, schema_version,
                       data::text AS data, metadata::text AS metadata, occurred_at
                  FROM events ORDER BY stream_id, version""").execute())) {
            streams.computeIfAbsent(row.getUUID("stream_id"), id -> new ArrayList<>()).add(envelope(row));
        }
        return streams;
    }

    List<EventEnvelope> events(UUID streamId) throws Exception {
        return allStreams().getOrDefault(streamId, List.of());
    }

    long count(String sql) throws Exception {
        return await(pool.query(sql).execute()).iterator().next().getLong(0);
    }

    long pendingDeadlines() throws Exception {
        return await(deadlines.countPending(pool));
    }

    /** Publishes every published event once more, in global order, as the relay did: a redelivery of all. */
    int republishAll() throws Exception {
        KafkaProducer<String, byte[]> producer = KafkaProducer.create(vertx, Map.of(
                "bootstrap.servers", config.kafkaBootstrap(), "acks", "all",
                "key.serializer", "org.apache.kafka.common.serialization.StringSerializer",
                "value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer"));
        try {
            List<Future<?>> sent = new ArrayList<>();
            for (Row row : await(pool.query("""
                    SELECT event_id, version, global_position, event_type, schema_version, data::text AS data,
                           metadata::text AS metadata, occurred_at
                      FROM published_events(0, 2147483647)""").execute())) {
                EventEnvelope envelope = envelope(row);
                sent.add(producer.send(record(envelope.streamType(), envelope.event().partitionKey().toString(),
                        EventJson.encode(envelope))));
            }
            await(Future.all(sent));
            return sent.size();
        } finally {
            await(producer.close());
        }
    }

    /** Sends raw bytes to a topic, as a broken or foreign producer might. */
    void publishRaw(StreamType type, String key, byte[] value) throws Exception {
        KafkaProducer<String, byte[]> producer = KafkaProducer.create(vertx, Map.of(
                "bootstrap.servers", config.kafkaBootstrap(), "acks", "all",
                "key.serializer", "org.apache.kafka.common.serialization.StringSerializer",
                "value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer"));
        try {
            await(producer.send(record(type, key, value)));
        } finally {
            await(producer.close());
        }
    }

    private KafkaProducerRecord<String, byte[]> record(StreamType type, String key, byte[] value) {
        return KafkaProducerRecord.create(Topics.of(config.kafkaTopicPrefix(), type), key, value);
    }

    /**
     * Waits until the relay published every event, the saga committed offsets at the end of every
     * partition, and the event store stopped growing.
     */
    void awaitQuiet(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long lastCount = -1;
        int calm = 0;
        while (System.nanoTime() < deadline) {
            boolean caughtUp = sagaCaughtUp();
            long unpublished = count("SELECT count(*) FROM unpublished_events");
            long events = count("SELECT count(*) FROM events");
            calm = caughtUp && unpublished == 0 && events == lastCount ? calm + 1 : 0;
            if (calm >= 2) {
                return;
            }
            lastCount = events;
            Thread.sleep(300);
        }
        throw new AssertionError("not quiet after " + timeout + ": saga caught up " + sagaCaughtUp()
                + ", unpublished events " + count("SELECT count(*) FROM unpublished_events"));
    }

    /** Whether the saga's group has committed the end offset of every partition of both topics. */
    boolean sagaCaughtUp() throws Exception {
        List<String> topics = Topics.all(config.kafkaTopicPrefix());
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS).values().forEach(topic ->
                topic.partitions().forEach(p -> latest.put(new TopicPartition(topic.name(), p.partition()),
                        OffsetSpec.latest())));
        Map<TopicPartition, Long> ends = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet()
                .stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
        Map<TopicPartition, OffsetAndMetadata> committed = admin
                .listConsumerGroupOffsets(config.sagaGroupId())
                .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        return ends.entrySet().stream().allMatch(end -> {
            OffsetAndMetadata at = committed.get(end.getKey());
            return (at == null ? 0 : at.offset()) >= end.getValue();
        });
    }

    /** Polls until a condition holds (blocking, test thread). */
    static <T> T eventually(Duration timeout, String what, ThrowingSupplier<T> value, Function<T, Boolean> holds)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = value.get();
        while (!holds.apply(last)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("after " + timeout + ", still not " + what + "; last seen: " + last);
            }
            Thread.sleep(100);
            last = value.get();
        }
        return last;
    }

    interface ThrowingSupplier<T> {
        T get() throws Exception;
    }

    static EventEnvelope envelope(Row row) {
        DomainEvent event = EventJson.eventOf(row.getString("event_type"), row.getInteger("schema_version"),
                row.getString("data"));
        JsonObject meta = new JsonObject(row.getString("metadata"));
        Long position = row.getLong("global_position");
        return new EventEnvelope(row.getUUID("event_id"), row.getInteger("version"), position == null ? 0 : position,
                row.getOffsetDateTime("occurred_at").toInstant(), row.getInteger("schema_version"),
                new EventMetadata(meta.getString("correlationId"), meta.getString("causationId"),
                        meta.getString("commandId"), meta.getString("traceparent")), event);
    }

    @Override
    public void close() throws Exception {
        admin.close();
        await(vertx.close());
    }
}
