package dev.orders.infra.config;

/**
 * How the services use a Kafka cluster: the replication of the topics they create, whether they
 * create them at all, and their consumer groups. Part of {@link OrdersConfig}, read from its {@code kafka.*} keys.
 *
 * @param replicationFactor replicas of each topic created ({@code kafka.replication-factor})
 * @param minInsyncReplicas {@code min.insync.replicas} of each topic created ({@code kafka.min-insync-replicas})
 * @param createTopics      whether the services create missing topics ({@code kafka.topics.create})
 * @param sagaGroup         the saga's consumer group id, empty = derived from the topic prefix
 * @param projectorGroup    the projector's consumer group id, empty = derived from the topic prefix
 */
public record KafkaCluster(short replicationFactor, int minInsyncReplicas, boolean createTopics,
                           String sagaGroup, String projectorGroup) {
}
