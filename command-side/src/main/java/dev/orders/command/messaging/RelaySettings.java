package dev.orders.command.messaging;

import dev.orders.infra.config.OrdersConfig;
import dev.orders.infra.kafka.EventTopics;
import dev.orders.service.sql.PgSessions;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the relay needs to know, taken from {@link OrdersConfig} with the few knobs the configuration
 * does not (yet) carry.
 *
 * @param topicPrefix       prefix of the event topics ({@code Topics.of(prefix, type)})
 * @param topics            the event topics the relay makes sure of before it publishes
 * @param batchSize         events per batch
 * @param pollInterval      how often an idle relay looks for events that no signal announced (a safety net)
 * @param leaseRetry        how often a standby relay asks for the lease
 * @param observeInterval   how often the lag gauges are refreshed
 * @param lagWarning        age of a running transaction that earns a warning while events wait
 * @param maxBackoff        longest wait between two attempts at a batch that Kafka refused
 * @param stopGrace         how long a stopping relay waits for the batches it sent to be acknowledged and recorded
 * @param sessions          bounds of the relay's PostgreSQL sessions
 * @param producerOverrides Kafka producer properties that replace the relay's defaults
 */
public record RelaySettings(String topicPrefix, EventTopics topics, int batchSize,
                            Duration pollInterval, Duration leaseRetry, Duration observeInterval,
                            Duration lagWarning, Duration maxBackoff, Duration stopGrace, PgSessions sessions,
                            Map<String, String> producerOverrides) {

    public RelaySettings {
        Objects.requireNonNull(topicPrefix, "topicPrefix");
        Objects.requireNonNull(sessions, "sessions");
        producerOverrides = Map.copyOf(producerOverrides);
        Objects.requireNonNull(topics, "topics");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1");
        }
    }

    /** The settings of a configuration: topics, batch size, poll interval and session bounds from it. */
    public static RelaySettings from(OrdersConfig config) {
        return new RelaySettings(config.kafkaTopicPrefix(), EventTopics.of(config),
                config.relayBatchSize(), config.relayPollInterval(), Duration.ofSeconds(1), Duration.ofSeconds(5),
                Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(10), config.pgSessions(), Map.of());
    }

    /** The producer's properties: safe defaults, the settings' overrides, then what keeps records in order. */
    public Map<String, String> producerConfig(String bootstrap) {
        Map<String, String> config = new HashMap<>();
        config.put("bootstrap.servers", bootstrap);
        config.put("delivery.timeout.ms", "30000");
        config.put("request.timeout.ms", "10000");
        config.put("max.block.ms", "10000");
        config.put("linger.ms", "0");
        // A topic's partitions stay known while the system is idle (the default forgets them after 5 minutes
        // without a send), so a send from the event loop never waits to learn them again.
        config.put("metadata.max.idle.ms", Integer.toString(Integer.MAX_VALUE));
        config.put("compression.type", "lz4");
        config.put("client.id", "orders-relay");
        config.putAll(producerOverrides);
        // What keeps a partition's records in order, not to be overridden (see EventPublisher's comment for the rest).
        config.put("acks", "all");
        config.put("enable.idempotence", "true");
        // One request in flight: records sent while it is under way go together in the next one (batched
        // under load, immediate when quiet), and a retried request can never be overtaken by a later one.
        // With five, a first produce to a partition whose leader is not known yet (NOT_LEADER) left the
        // batches behind it answering OUT_OF_ORDER_SEQUENCE until the delivery timeout, after which the
        // later records were on the topic and the first was not: one stream's versions out of order.
        config.put("max.in.flight.requests.per.connection", "1");
        config.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        config.put("value.serializer", "io.vertx.kafka.client.serialization.BufferSerializer");
        return config;
    }

    public RelaySettings withBatchSize(int size) {
        return new RelaySettings(topicPrefix, topics, size, pollInterval, leaseRetry,
                observeInterval, lagWarning, maxBackoff, stopGrace, sessions, producerOverrides);
    }

    public RelaySettings withPollInterval(Duration interval) {
        return new RelaySettings(topicPrefix, topics, batchSize, interval, leaseRetry,
                observeInterval, lagWarning, maxBackoff, stopGrace, sessions, producerOverrides);
    }

    public RelaySettings withObserveInterval(Duration interval, Duration warning) {
        return new RelaySettings(topicPrefix, topics, batchSize, pollInterval, leaseRetry,
                interval, warning, maxBackoff, stopGrace, sessions, producerOverrides);
    }

    public RelaySettings withStopGrace(Duration grace) {
        return new RelaySettings(topicPrefix, topics, batchSize, pollInterval, leaseRetry,
                observeInterval, lagWarning, maxBackoff, grace, sessions, producerOverrides);
    }

    public RelaySettings withProducerOverrides(Map<String, String> overrides) {
        return new RelaySettings(topicPrefix, topics, batchSize, pollInterval, leaseRetry,
                observeInterval, lagWarning, maxBackoff, stopGrace, sessions, overrides);
    }
}
