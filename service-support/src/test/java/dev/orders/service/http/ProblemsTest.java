package dev.orders.service.http;

import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ConnectException;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("The failure handler")
class ProblemsTest {

    /** What a route's PostgreSQL call fails with while the server is stopped, starting or gone. */
    private static final Map<String, Throwable> OUTAGES = Map.of(
            "/closed", ClosedConnectionException.INSTANCE,
            "/shutting-down", new PgException("the database system is shutting down", "FATAL", "57P03", null),
            "/admin-shutdown", new PgException("terminating connection due to administrator command", "FATAL", "57P01", null),
            "/refused", new ConnectException("Connection refused"),
            "/schema-dropped", new PgException("relation \"order_view\" does not exist", "ERROR", "42P01", null),
            "/no-schema", new PgException("no schema has been selected to create in", "ERROR", "3F000", null));

    @Test
    void answers_503_with_retry_after_when_the_pool_has_no_connection_to_spare(Vertx vertx, VertxTestContext test) {
        Router router = Router.router(vertx);
        router.route("/queue-full").handler(ctx -> ctx.fail(
                new ConnectionPoolTooBusyException("Connection pool reached max wait queue size of 1")));
        router.route("/waited-too-long").handler(ctx -> ctx.fail(new VertxException("Timeout waiting for connection", true)));
        router.route().failureHandler(Problems.failureHandler());
        WebClient client = WebClient.create(vertx);
        vertx.createHttpServer().requestHandler(router).listen(0).compose(server -> io.vertx.core.Future.all(
                Stream.of("/queue-full", "/waited-too-long")
                        .map(path -> client.request(HttpMethod.GET, server.actualPort(), "127.0.0.1", path).send()).toList()))
                .onComplete(test.succeeding(all -> test.verify(() -> {
                    for (int i = 0; i < 2; i++) {
                        HttpResponse<?> overloaded = all.resultAt(i);
                        assertThat(overloaded.statusCode()).as("overload %d", i).isEqualTo(503);
                        assertThat(overloaded.getHeader("Retry-After")).isEqualTo("1");
                        assertThat(overloaded.bodyAsJsonObject().getString("detail")).contains("overloaded");
                    }
                    client.close(); // held until here: a client nobody refers to is closed when collected
                    test.completeNow();
                })));
    }

    @Test
    void answers_503_with_retry_after_when_postgres_is_away_and_500_for_a_bug(Vertx vertx, VertxTestContext test) {
        Router router = Router.router(vertx);
        OUTAGES.forEach((path, failure) -> router.route(path).handler(ctx -> ctx.fail(failure)));
        router.route("/bug").handler(ctx -> ctx.fail(new IllegalStateException("a bug")));
        router.route().failureHandler(Problems.failureHandler());
        WebClient client = WebClient.create(vertx);
        vertx.createHttpServer().requestHandler(router).listen(0).compose(server -> {
            List<String> paths = List.of("/closed", "/shutting-down", "/admin-shutdown", "/refused", "/schema-dropped",
                    "/no-schema", "/bug");
            return io.vertx.core.Future.all(paths.stream()
                    .map(path -> client.request(HttpMethod.POST, server.actualPort(), "127.0.0.1", path).send()).toList());
        }).onComplete(test.succeeding(all -> test.verify(() -> {
            for (int i = 0; i < 6; i++) {
                HttpResponse<?> outage = all.resultAt(i);
                assertThat(outage.statusCode()).as("outage %d", i).isEqualTo(503);
                assertThat(outage.getHeader("Retry-After")).isEqualTo("2");
            }
            assertThat(all.<HttpResponse<?>>resultAt(6).statusCode()).isEqualTo(500);
            client.close(); // held until here: a client nobody refers to is closed when collected
            test.completeNow();
        })));
    }
}
