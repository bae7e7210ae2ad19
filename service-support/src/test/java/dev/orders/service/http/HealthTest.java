package dev.orders.service.http;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("Readiness")
class HealthTest {

    @Test
    void a_check_that_never_answers_is_down_within_the_deadline_and_the_others_still_show(Vertx vertx,
                                                                                          VertxTestContext test) {
        Health health = new Health()
                .check("answers", () -> Future.succeededFuture(new JsonObject().put("lag", 0)))
                .check("hangs", () -> Promise.<JsonObject>promise().future()); // a paused server: no answer, no error
        long started = System.nanoTime();
        vertx.runOnContext(ignored -> health.ready().onComplete(test.succeeding(body -> test.verify(() -> {
            assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(Health.CHECK_DEADLINE_MILLIS + 1_000);
            assertThat(body.getString("status")).isEqualTo("DOWN");
            assertThat(body.getJsonObject("checks").getJsonObject("answers").getString("status")).isEqualTo("UP");
            assertThat(body.getJsonObject("checks").getJsonObject("hangs").getString("error"))
                    .isEqualTo("no answer within " + Health.CHECK_DEADLINE_MILLIS + " ms");
            test.completeNow();
        }))));
    }
}
