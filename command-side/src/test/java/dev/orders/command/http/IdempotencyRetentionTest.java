package dev.orders.command.http;

import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.UUID;

import static dev.orders.command.http.CommandApiFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Idempotency-Keys are kept for {@code idempotency.retention}, on real PostgreSQL: {@link IdempotencyRetention}
 * forgets the older ones in chunks and keeps the younger ones, and a request repeated with a forgotten key runs
 * as a new one, while one repeated with a kept key still gets its first answer.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("Idempotency-Key retention")
class IdempotencyRetentionTest {

    private static final Duration RETENTION = Duration.ofHours(1);
    private static final String COUNT = "SELECT count(*) FROM idempotency_keys WHERE key = ANY($1::text[])";

    private CommandApiFixture api;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        api = CommandApiFixture.start(infra.isolatedConfig());
    }

    @AfterAll
    void stop() throws Exception {
        api.close();
    }

    @Test
    @DisplayName("forgets the keys past the retention, more than a chunk of them, and keeps the younger ones")
    void forgets_old_keys_and_keeps_young_ones() throws Exception {
        String prefix = "aged-" + UUID.randomUUID() + "-";
        int aged = IdempotencyRetention.CHUNK * 2 + 17;
        await(api.side.pool().preparedQuery("""
                INSERT INTO idempotency_keys (subject, key, request_hash, status, location, body, created_at)
                SELECT 'operator', $1 || i, 'hash', 201, NULL, '{}'::jsonb, now() - interval '2 hours' - i * interval '1 ms'
                  FROM generate_series(1, $2) AS i""").execute(Tuple.of(prefix, aged)));
        String young = "young-" + UUID.randomUUID();
        await(api.side.pool().preparedQuery("""
                INSERT INTO idempotency_keys (subject, key, request_hash, status, location, body, created_at)
                VALUES ('operator', $1, 'hash', 201, NULL, '{}'::jsonb, now() - interval '59 minutes')""")
                .execute(Tuple.of(young)));

        IdempotencyRetention retention = new IdempotencyRetention(api.side.pool(), RETENTION, Duration.ofMillis(200));
        String deployment = await(api.vertx.deployVerticle(retention));
        try {
            awaitThat(() -> agedLeft(prefix) == 0);
        } finally {
            await(api.vertx.undeploy(deployment));
        }
        assertThat(retention.forgotten()).as("keys forgotten").isGreaterThanOrEqualTo(aged);
        assertThat(count(young)).as("the key younger than the retention").isEqualTo(1);
    }

    @Test
    @DisplayName("a request repeated with a forgotten key runs as a new one; with a kept key it gets its first answer")
    void a_forgotten_key_runs_again() throws Exception {
        String body = """
                {"name": "Kept or not", "creditLimit": {"amount": "10.00", "currency": "EUR"}}""";
        String forgottenKey = UUID.randomUUID().toString();
        String keptKey = UUID.randomUUID().toString();
        JsonObject first = created(body, forgottenKey);
        JsonObject kept = created(body, keptKey);
        await(api.side.pool().preparedQuery("UPDATE idempotency_keys SET created_at = now() - interval '2 hours'"
                + " WHERE key = $1").execute(Tuple.of(forgottenKey)));

        String deployment = await(api.vertx.deployVerticle(
                new IdempotencyRetention(api.side.pool(), RETENTION, Duration.ofMillis(200))));
        try {
            awaitThat(() -> count(forgottenKey) == 0);
        } finally {
            await(api.vertx.undeploy(deployment));
        }

        JsonObject again = created(body, forgottenKey);
        assertThat(again.getString("customerId")).as("the customer made by the repeat")
                .isNotEqualTo(first.getString("customerId"));
        assertThat(created(body, keptKey)).as("the answer to the kept key's repeat").isEqualTo(kept);
    }

    private JsonObject created(String body, String key) throws Exception {
        HttpResponse<Buffer> response = await(api.client.post("/api/customers").putHeader("Content-Type", "application/json")
                .putHeader("Idempotency-Key", key).sendBuffer(Buffer.buffer(body)));
        assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(201);
        return response.bodyAsJsonObject();
    }

    private long agedLeft(String prefix) throws Exception {
        return await(api.side.pool().preparedQuery("SELECT count(*) FROM idempotency_keys WHERE key LIKE $1")
                .execute(Tuple.of(prefix + "%")).map(rows -> rows.iterator().next().getLong(0)));
    }

    private long count(String key) throws Exception {
        return await(api.side.pool().preparedQuery(COUNT).execute(Tuple.of((Object) new String[] {key}))
                .map(rows -> rows.iterator().next().getLong(0)));
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private static void awaitThat(Check check) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!check.holds()) {
            assertThat(System.nanoTime()).as("waited 20 s").isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
