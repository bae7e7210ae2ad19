package dev.orders.query.status;

import dev.orders.query.push.ChangeRow;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("The recent command-to-push latencies")
class LatencyWindowTest {

    @Test
    @DisplayName("counts an order's first decision only, from its createdAt, and answers percentiles of the window")
    void counts_first_decisions_and_answers_percentiles() {
        long now = Instant.parse("2026-12-05T10:00:00Z").toEpochMilli();
        Clock clock = Clock.fixed(Instant.ofEpochMilli(now), ZoneOffset.UTC);
        LatencyWindow window = new LatencyWindow(clock);
        window.observe(List.of(
                change(1, "PENDING", now - 5_000),
                change(2, "APPROVED", now - 2_000),
                change(2, "REJECTED", now - 4_000),
                change(3, "CANCELLED", now - 9_000)));
        JsonObject summary = window.summary(60_000);
        assertThat(summary.getInteger("count")).isEqualTo(2);
        assertThat(summary.getLong("p50")).isEqualTo(2_000L);
        assertThat(summary.getLong("max")).isEqualTo(4_000L);

        JsonObject empty = new LatencyWindow(clock).summary(60_000);
        assertThat(empty.getInteger("count")).isZero();
        assertThat(empty.containsKey("p50")).isFalse();
        LatencyWindow exact = new LatencyWindow(clock);
        for (int i = 1; i <= 100; i++) {
            exact.record(now, i);
        }
        exact.record(now - 120_000, 99_999); // outside the window
        JsonObject figures = exact.summary(60_000);
        assertThat(figures.getInteger("count")).isEqualTo(100);
        assertThat(figures.getLong("p50")).isEqualTo(50);
        assertThat(figures.getLong("p90")).isEqualTo(90);
        assertThat(figures.getLong("p99")).isEqualTo(99);
        assertThat(figures.getLong("max")).isEqualTo(100);
    }

    private static ChangeRow change(int version, String status, long createdAtMillis) {
        String view = new JsonObject().put("status", status).put("version", version)
                .put("createdAt", Instant.ofEpochMilli(createdAtMillis).toString()).encode();
        return new ChangeRow(version, UUID.randomUUID(), UUID.randomUUID(), version, view, Instant.now());
    }
}
