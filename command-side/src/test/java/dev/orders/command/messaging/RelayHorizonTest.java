package dev.orders.command.messaging;

import dev.orders.service.sql.PgPools;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Transaction;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

import java.time.Duration;
import java.util.UUID;

import static dev.orders.command.messaging.RelayFixture.await;
import static dev.orders.command.messaging.RelayFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("The relay's horizon watch")
@Isolated("names the oldest transaction on the whole server: another class's transaction, in its own database, may be it")
class RelayHorizonTest extends RelayTestBase {


    @Test
    @DisplayName("names another application's session left idle in a transaction in the readiness detail and the metric")
    void a_leaked_idle_transaction_of_another_application_is_named() {
        try (RelayFixture f = fixture()) {
            RelayVerticle relay = f.deploy(f.settings(50), f.config.kafkaBootstrap());
            eventually(Duration.ofSeconds(10), "the relay active", relay::isActive);
            // another application (the query side's role, a reporting tool) opens a transaction that takes an id
            // and forgets it
            PgConnection leaked = await(PgConnection.connect(vertx, PgPools.connectOptions(f.config.effectiveQueryPgUri())
                    .addProperty("application_name", "nightly-report")));
            try {
                Transaction tx = await(leaked.begin());
                await(leaked.query("SELECT pg_current_xact_id()").execute());
                f.appendNow(UUID.randomUUID(), 0, 5);

                eventually(Duration.ofSeconds(10), "the holder named", () -> holder(relay) != null);
                JsonObject holder = holder(relay);
                assertThat(holder.getString("applicationName")).isEqualTo("nightly-report");
                assertThat(holder.getInteger("pid")).isEqualTo(leaked.processId());
                assertThat(holder.getString("state")).isEqualTo("idle in transaction");
                eventually(Duration.ofSeconds(10), "the metric counts the seconds held",
                        () -> relay.metrics().horizonHeldSeconds() >= 1);
                assertThat(f.checkpoint()).as("nothing published while the horizon is held").isZero();

                await(tx.rollback());
                eventually(Duration.ofSeconds(10), "published once the transaction ended", () -> f.checkpoint() == 5);
                eventually(Duration.ofSeconds(10), "the holder no longer named", () -> holder(relay) == null);
                assertThat(relay.metrics().horizonHeldSeconds()).isZero();
            } finally {
                leaked.close();
            }
        }
    }

    private static JsonObject holder(RelayVerticle relay) {
        return await(relay.readiness()).getJsonObject("horizonHeldBy");
    }

    @Test
    @DisplayName("names a prepared transaction left behind by its global id")
    void a_prepared_transaction_left_behind_is_named() {
        try (RelayFixture f = fixture()) {
            RelayVerticle relay = f.deploy(f.settings(50), f.config.kafkaBootstrap());
            eventually(Duration.ofSeconds(10), "the relay active", relay::isActive);
            String gid = "forgotten-" + UUID.randomUUID();
            PgConnection other = await(PgConnection.connect(vertx, PgPools.connectOptions(f.config.effectiveQueryPgUri())));
            try {
                await(other.query("BEGIN").execute());
                await(other.query("SELECT pg_current_xact_id()").execute());
                await(other.query("PREPARE TRANSACTION '" + gid + "'").execute());
                f.appendNow(UUID.randomUUID(), 0, 3);

                eventually(Duration.ofSeconds(10), "the prepared transaction named", () -> holder(relay) != null);
                JsonObject holder = holder(relay);
                assertThat(holder.getString("preparedTransaction")).isEqualTo(gid);
                assertThat(holder.getString("state")).isEqualTo("prepared");
                assertThat(f.checkpoint()).as("nothing published while it is prepared").isZero();
            } finally {
                await(other.query("ROLLBACK PREPARED '" + gid + "'").execute());
                other.close();
            }
            eventually(Duration.ofSeconds(10), "published once it was rolled back", () -> f.checkpoint() == 3);
        }
    }
}
