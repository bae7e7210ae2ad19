package dev.orders.query;

import dev.orders.events.Topics;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.infra.kafka.EventTopics;
import dev.orders.service.http.Health;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.admin.Config;
import io.vertx.kafka.admin.ConfigEntry;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.client.common.ConfigResource;
import org.apache.kafka.common.config.ConfigResource.Type;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The event topics as the configuration wants them, on the real broker: created with the configured
 * partitions, replication factor and {@code min.insync.replicas}; with creation off, the side starts,
 * and readiness names the missing topic until an operator creates it.
 */
@ExtendWith(SharedInfrastructure.class)
@DisplayName("The event topics follow the configuration")
class TopicSettingsTest {

    private Vertx vertx;
    private KafkaAdminClient admin;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() throws Exception {
        if (admin != null) {
            await(admin.close());
        }
        await(vertx.close());
    }

    @Test
    @DisplayName("the query side creates the topics with kafka.partitions and min.insync.replicas")
    void creates_the_topics_with_the_configured_partitions_and_min_insync_replicas(TestInfrastructure infra)
            throws Exception {
        OrdersConfig config = infra.isolatedConfig().with(Map.of("kafka.partitions", "2",
                "kafka.replication-factor", "1", "kafka.min-insync-replicas", "1"));
        QuerySide side = await(QuerySide.deploy(vertx, config, config.effectiveQueryPgUri(), config.kafkaBootstrap()));
        try {
            admin = await(EventTopics.admin(vertx, config.kafkaBootstrap()));
            String topic = Topics.all(config.kafkaTopicPrefix()).get(0);
            assertThat(await(admin.describeTopics(List.of(topic))).get(topic).getPartitions()).hasSize(2);
            ConfigResource resource = new ConfigResource(Type.TOPIC, topic);
            Config topicConfig = await(admin.describeConfigs(List.of(resource))).get(resource);
            ConfigEntry minInsync = topicConfig.getEntries().stream()
                    .filter(e -> e.getName().equals("min.insync.replicas")).findFirst().orElseThrow();
            assertThat(minInsync.getValue()).isEqualTo("1");
            assertThat(minInsync.getSource().name()).as("set on the topic, not the broker's default")
                    .isEqualTo("DYNAMIC_TOPIC_CONFIG");
        } finally {
            await(side.close());
        }
    }

    @Test
    @DisplayName("a replication factor the cluster cannot give fails the start, saying so")
    void a_replication_factor_the_cluster_cannot_give_fails_the_start(TestInfrastructure infra) {
        OrdersConfig config = infra.isolatedConfig().with(Map.of("kafka.replication-factor", "3",
                "kafka.min-insync-replicas", "2"));
        assertThatThrownBy(() -> await(QuerySide.deploy(vertx, config, config.effectiveQueryPgUri(),
                config.kafkaBootstrap()))).hasMessageContaining("replication factor");
    }

    @Test
    @DisplayName("with kafka.topics.create=false and no topics, readiness names the missing topic until it exists")
    void with_creation_off_readiness_names_the_missing_topic(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig().with("kafka.topics.create", "false");
        QuerySide side = await(QuerySide.deploy(vertx, config, config.effectiveQueryPgUri(), config.kafkaBootstrap()));
        try {
            Health health = side.readiness(new Health());
            JsonObject notReady = await(health.ready());
            assertThat(notReady.getString("status")).isEqualTo("DOWN");
            String error = notReady.getJsonObject("checks").getJsonObject("kafka-topics").getString("error");
            for (String topic : Topics.all(config.kafkaTopicPrefix())) {
                assertThat(error).contains(topic);
            }
            assertThat(error).contains("kafka.topics.create=false");

            admin = await(EventTopics.admin(vertx, config.kafkaBootstrap()));
            await(EventTopics.of(config.with("kafka.topics.create", "true")).prepare(admin)); // as an operator would
            // The broker lists a new topic once its metadata has caught up with the controller's, a moment after the
            // creation was answered: the check turns UP then, not necessarily on the very next read.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            JsonObject topics = await(health.ready()).getJsonObject("checks").getJsonObject("kafka-topics");
            while (!"UP".equals(topics.getString("status")) && System.nanoTime() < deadline) {
                Thread.sleep(50);
                topics = await(health.ready()).getJsonObject("checks").getJsonObject("kafka-topics");
            }
            assertThat(topics.getString("status")).as(topics.encode()).isEqualTo("UP");
        } finally {
            await(side.close());
        }
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
