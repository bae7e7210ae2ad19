package dev.orders.infra.kafka;

import dev.orders.events.Topics;
import dev.orders.infra.config.OrdersConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.admin.NewTopic;
import io.vertx.kafka.client.common.TopicPartition;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The event topics on Kafka as the configuration wants them, for both sides: whichever starts first
 * creates the missing ones ({@code kafka.partitions}, {@code kafka.replication-factor},
 * {@code min.insync.replicas}); a topic another process created meanwhile is fine. With
 * {@code kafka.topics.create=false} nothing is created: {@link #check} fails readiness naming each
 * missing topic until an operator creates it.
 *
 * @param names             the topics, {@code <prefix>.<type>-events}
 * @param partitions        partitions of a topic created here
 * @param replicationFactor replicas of a topic created here
 * @param minInsyncReplicas {@code min.insync.replicas} of a topic created here
 * @param create            whether missing topics are created
 */
public record EventTopics(List<String> names, int partitions, short replicationFactor, int minInsyncReplicas,
                          boolean create) {

    private static final Logger LOG = LoggerFactory.getLogger(EventTopics.class);

    public EventTopics {
        names = List.copyOf(names);
        if (partitions < 1 || replicationFactor < 1 || minInsyncReplicas < 1) {
            throw new IllegalArgumentException("partitions, replication factor and min.insync.replicas must be at least 1");
        }
    }

    /** @return the event topics of a configuration */
    public static EventTopics of(OrdersConfig config) {
        return new EventTopics(Topics.all(config.kafkaTopicPrefix()), config.kafkaPartitions(),
                config.kafkaCluster().replicationFactor(), config.kafkaCluster().minInsyncReplicas(),
                config.kafkaCluster().createTopics());
    }

    /** @return every partition of the topics, as the configuration wants them */
    public List<TopicPartition> topicPartitions() {
        List<TopicPartition> all = new ArrayList<>();
        for (String topic : names) {
            for (int p = 0; p < partitions; p++) {
                all.add(new TopicPartition(topic, p));
            }
        }
        return all;
    }

    /**
     * How long closing an admin client waits for its calls still under way before failing them. Kafka's own
     * close waits for every pending call to end on its own, up to {@code default.api.timeout.ms}, which a call
     * to a dead broker takes in full: a service stopped after a broker died waited that long.
     */
    public static final Duration ADMIN_CLOSE = Duration.ofSeconds(2);

    /** Closes an admin client, failing what it still has under way after {@link #ADMIN_CLOSE}. */
    public static Future<Void> close(KafkaAdminClient admin) {
        return admin.close(ADMIN_CLOSE.toMillis());
    }

    /** Opens an admin client on a worker thread: constructing a Kafka client blocks; close it with {@link #close}. */
    public static Future<KafkaAdminClient> admin(Vertx vertx, String bootstrap) {
        Map<String, Object> config = Map.of("bootstrap.servers", bootstrap, "default.api.timeout.ms", "15000",
                "request.timeout.ms", "10000");
        return vertx.executeBlocking(() -> AdminClient.create(config)).map(client -> KafkaAdminClient.create(vertx, client));
    }

    /**
     * At start: creates the missing topics, or, with creation off, only logs them (readiness names them).
     *
     * @param admin an admin client of the cluster
     * @return done when every topic exists or creation is off
     */
    public Future<Void> prepare(KafkaAdminClient admin) {
        return missing(admin).compose(missing -> {
            if (missing.isEmpty()) {
                return Future.succeededFuture();
            }
            if (!create) {
                LOG.warn("topics {} do not exist and kafka.topics.create=false: not ready until they are created", missing);
                return Future.succeededFuture();
            }
            List<NewTopic> topics = missing.stream().map(name -> new NewTopic(name, partitions, replicationFactor)
                    .setConfig(Map.of("min.insync.replicas", Integer.toString(minInsyncReplicas)))).toList();
            return admin.createTopics(topics)
                    .onSuccess(ignored -> LOG.info("created topics {}: {} partitions, replication factor {},"
                            + " min.insync.replicas {}", missing, partitions, replicationFactor, minInsyncReplicas))
                    .recover(e -> e instanceof TopicExistsException || e.getCause() instanceof TopicExistsException
                            ? Future.succeededFuture() : Future.failedFuture(e));
        });
    }

    /**
     * A readiness check: succeeds listing the topics, fails naming each missing one.
     *
     * @param admin an admin client of the cluster
     * @return the check's detail
     */
    public Future<JsonObject> check(KafkaAdminClient admin) {
        return missing(admin).compose(missing -> missing.isEmpty()
                ? Future.succeededFuture(new JsonObject().put("topics", new JsonArray(names)))
                : Future.failedFuture("missing topic" + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing)
                        + (create ? "" : " (kafka.topics.create=false: an operator creates it)")));
    }

    private Future<List<String>> missing(KafkaAdminClient admin) {
        return admin.listTopics().map(existing -> missingFrom(existing));
    }

    private List<String> missingFrom(Set<String> existing) {
        return names.stream().filter(name -> !existing.contains(name)).toList();
    }
}
