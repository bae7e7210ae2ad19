package dev.orders.command.messaging;

import dev.orders.command.messaging.TopicReader.Published;
import dev.orders.events.EventEnvelope;
import dev.orders.devservers.Infrastructure;
import dev.orders.infra.config.OrdersConfig;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.orders.command.messaging.RelayChecks.assertEveryEventAtLeastOnceInStreamOrder;
import static dev.orders.command.messaging.RelayFixture.await;
import static dev.orders.command.messaging.RelayFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("A relay that loses its lease")
class RelayLeaseLossTest extends RelayTestBase {



    @Test
    @DisplayName("closes its producer: the sends it had waiting for Kafka never land, and it publishes again with a new one")
    void sends_waiting_for_kafka_do_not_land_after_the_lease_is_lost() throws Exception {
        try (RelayFixture f = fixture()) {
            OrdersConfig kafkaConfig = f.privateBrokerConfig();
            Infrastructure broker = Infrastructure.start(kafkaConfig);
            String bootstrap = broker.kafkaBootstrap();
            SqlConnection rival = null;
            try {
                // its producer would go on retrying for two minutes, well past the broker's restart
                RelayVerticle relay = f.deploy(f.settings(50).withProducerOverrides(Map.of("delivery.timeout.ms", "120000")),
                        bootstrap);
                UUID stream = UUID.randomUUID();
                List<EventEnvelope> written = new ArrayList<>(f.appendNow(stream, 0, 10));
                eventually(LONG, "the first events published", () -> f.checkpoint() == 10);

                // Kafka goes away; the relay reads the next events and its producer holds them, retrying
                broker.close();
                written.addAll(f.appendNow(stream, 10, 20));
                eventually(LONG, "20 events sent and waiting for Kafka", () -> relay.metrics().inFlight() == 20);

                // the relay's session is cut and someone else holds the lease
                rival = await(f.pool.getConnection());
                Future<RowSet<Row>> rivalLease = rival.preparedQuery("SELECT pg_advisory_lock($1)")
                        .execute(Tuple.of(RelaySql.LEASE_KEY));
                f.terminateLeaseHolder();
                await(rivalLease);
                eventually(Duration.ofSeconds(10), "the relay knows it lost the lease", () -> !relay.isActive());

                broker = Infrastructure.start(kafkaConfig.with("clean", "false"));
                try (TopicReader reader = new TopicReader(bootstrap, f.config.kafkaTopicPrefix())) {
                    List<Published> landed = reader.readFor(Duration.ofSeconds(5));
                    assertThat(landed).as("records on the topic while another holds the lease")
                            .extracting(Published::position).containsOnly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
                }

                await(rival.preparedQuery("SELECT pg_advisory_unlock($1)").execute(Tuple.of(RelaySql.LEASE_KEY)));
                rival.close();
                rival = null;
                eventually(LONG, "the relay takes the lease back and publishes the rest", () -> f.checkpoint() == 30);
                try (TopicReader reader = new TopicReader(bootstrap, f.config.kafkaTopicPrefix())) {
                    assertEveryEventAtLeastOnceInStreamOrder(written, reader.readUntilUnique(30, LONG));
                }
            } finally {
                if (rival != null) {
                    rival.close();
                }
                broker.close();
            }
        }
    }
}
