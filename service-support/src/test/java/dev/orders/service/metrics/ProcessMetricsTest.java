package dev.orders.service.metrics;

import dev.orders.service.tracing.Tracing;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ProcessMetricsTest {

    /** Verticles are given the event loops in turn: as many verticles as twice the loops meet every loop twice. */
    @Test
    void a_vertx_of_n_event_loops_runs_its_verticles_on_n_threads() throws Exception {
        Vertx vertx = ProcessMetrics.newVertx(Tracing.OFF, 3);
        try {
            Set<String> threads = ConcurrentHashMap.newKeySet();
            List<Future<String>> deployed = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                deployed.add(vertx.deployVerticle(new VerticleBase() {
                    @Override
                    public Future<?> start() {
                        threads.add(Thread.currentThread().getName());
                        return Future.succeededFuture();
                    }
                }));
            }
            Future.all(deployed).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

            assertThat(threads).hasSize(3).allMatch(name -> name.startsWith("vert.x-eventloop-thread-"));
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
