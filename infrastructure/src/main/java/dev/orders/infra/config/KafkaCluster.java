package dev.orders.infra.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How the services use a Kafka cluster: the replication of the topics they create, whether they
 * create them at all, and their consumer groups. Part of {@link OrdersConfig}, validated there.
 *
 * @param replicationFactor replicas of each topic created ({@code kafka.replication-factor})
 * @param minInsyncReplicas {@code min.insync.replicas} of each topic created ({@code kafka.min-insync-replicas})
 * @param createTopics      whether the services create missing topics ({@code kafka.topics.create})
 * @param sagaGroup         the saga's consumer group id, empty = derived from the topic prefix
 * @param projectorGroup    the projector's consumer group id, empty = derived from the topic prefix
 */
public record KafkaCluster(short replicationFactor, int minInsyncReplicas, boolean createTopics,
                           String sagaGroup, String projectorGroup) {

    /** @return the keys and values, as {@link OrdersConfig#toMap()} lists them */
    Map<String, String> toMap() {
        Map<String, String> map = new LinkedHashMap<>();
        map.put(ConfigKey.KAFKA_REPLICATION_FACTOR.key(), Short.toString(replicationFactor));
        map.put(ConfigKey.KAFKA_MIN_INSYNC_REPLICAS.key(), Integer.toString(minInsyncReplicas));
        map.put(ConfigKey.KAFKA_TOPICS_CREATE.key(), Boolean.toString(createTopics));
        map.put(ConfigKey.KAFKA_SAGA_GROUP.key(), sagaGroup);
        map.put(ConfigKey.KAFKA_PROJECTOR_GROUP.key(), projectorGroup);
        return map;
    }
}
