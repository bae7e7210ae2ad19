package dev.orders.command.saga;

import dev.orders.events.EventEnvelope;

/**
 * An event the command handler of this process has just committed ({@code CommitHandOff}), placed on the partition
 * of {@code topic} its Kafka copy will land in ({@code partition}, -1 when the topic's partitions are not known yet).
 * It has no offset and moves none: its Kafka copy does, when it comes. Its event is already decoded.
 */
record CommittedEvent(String topic, int partition, String key, EventEnvelope envelope)
        implements PartitionQueues.Entry {
}
