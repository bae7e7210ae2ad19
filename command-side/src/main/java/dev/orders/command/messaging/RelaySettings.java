package dev.orders.command.messaging;

import dev.orders.infra.config.OrdersConfig;
import dev.orders.infra.kafka.EventTopics;
import dev.orders.service.sql.PgSessions;

import java.time.Duration;
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
