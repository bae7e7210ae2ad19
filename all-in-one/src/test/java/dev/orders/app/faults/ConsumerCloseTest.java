package dev.orders.app.faults;

import dev.orders.infra.kafka.Consumers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.admin.NewTopic;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A service's consumer (the saga's, the projector's: {@link Consumers}) closed after its broker died, with an
 * offset commit under way, as when a service stops during a broker's outage. Vert.x sends the commit as
 * {@code commitSync} on the consumer's thread: with Kafka's defaults it waited 60 s for the dead broker and the
 * close behind it 30 s more, so the service outlived its {@code shutdown.grace}. Here the commit fails after
 * {@link Consumers#CALL_TIMEOUT} and the close follows. The broker is the embedded one, killed with SIGKILL.
 */
@DisplayName("A consumer whose broker died")
class ConsumerCloseTest {

    private final Vertx vertx = Vertx.vertx();
    private OwnedKafka kafka;

    @AfterEach
    void stop() throws Exception {
        await(vertx.close(), 30);
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    @DisplayName("fails its offset commit under way and closes, both within their bounds")
    void closes_within_its_bounds_with_a_commit_under_way(@TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        kafka = OwnedKafka.start(dir, port);
        KafkaAdminClient admin = KafkaAdminClient.create(vertx, Map.of("bootstrap.servers", kafka.bootstrap()));
        await(admin.createTopics(List.of(new NewTopic("closing", 1, (short) 1))), 30);
        await(admin.close(), 10);

        KafkaConsumer<String, byte[]> consumer = Consumers.create(vertx, Map.of(
                "bootstrap.servers", kafka.bootstrap(),
                "group.id", "closing",
                "key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer",
                "value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                "enable.auto.commit", "false"));
        CompletableFuture<Void> assigned = new CompletableFuture<>();
        consumer.partitionsAssignedHandler(partitions -> assigned.complete(null));
        consumer.handler(record -> { });
        await(consumer.subscribe(Set.of("closing")), 30);
        assigned.get(60, TimeUnit.SECONDS); // the group's coordinator is known and the partition is held

        kafka.kill();
        Future<?> commit = consumer.commit(Map.of(new TopicPartition("closing", 0), new OffsetAndMetadata(0, "")));
        Future<Void> closed = consumer.close();

        // Kafka's defaults: the commit 60 s (default.api.timeout.ms), then the close 30 s; bounded: 5 s and 3 s
        await(closed, 30);
        assertThat(commit.failed()).as("the commit to the dead broker failed, before the close ended").isTrue();
        assertThatThrownBy(() -> await(commit, 1)).isInstanceOf(ExecutionException.class);
    }

    private static <T> T await(Future<T> future, int seconds) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
    }
}
