package dev.orders.command.http;

import dev.orders.command.CommandSide;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.http.ApiRouter;
import dev.orders.service.http.HttpServerVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.util.concurrent.TimeUnit;

/** The command side behind a real HTTP server on a free port, with a client for it. */
final class CommandApiFixture implements AutoCloseable {

    final Vertx vertx;
    final CommandSide side;
    final WebClient client;
    final int port;

    private CommandApiFixture(Vertx vertx, CommandSide side, WebClient client, int port) {
        this.vertx = vertx;
        this.side = side;
        this.client = client;
        this.port = port;
    }

    static CommandApiFixture start(OrdersConfig config) throws Exception {
        Vertx vertx = Vertx.vertx();
        CommandSide side = await(CommandSide.deploy(vertx, config, config.effectiveCommandPgUri(), config.kafkaBootstrap()));
        HttpServerVerticle http = new HttpServerVerticle("127.0.0.1", 0, v -> {
            Router router = ApiRouter.create(v);
            side.mount(router);
            ApiRouter.finish(router);
            return router;
        });
        await(vertx.deployVerticle(http));
        WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
                .setDefaultPort(http.actualPort()), new PoolOptions().setHttp1MaxSize(64));
        return new CommandApiFixture(vertx, side, client, http.actualPort());
    }

    /** The number of events stored, all streams. */
    long eventCount() throws Exception {
        return await(side.pool().query("SELECT count(*) FROM events").execute()
                .map(rows -> rows.iterator().next().getLong(0)));
    }

    /** The number of events written on behalf of requests with this correlation id. */
    long eventsOfCorrelation(String correlationId) throws Exception {
        return await(side.pool().preparedQuery("SELECT count(*) FROM events WHERE metadata->>'correlationId' = $1")
                .execute(io.vertx.sqlclient.Tuple.of(correlationId)).map(rows -> rows.iterator().next().getLong(0)));
    }

    /** The number of events of one stream. */
    long eventsOfStream(String streamId) throws Exception {
        return await(side.pool().preparedQuery("SELECT count(*) FROM events WHERE stream_id = $1")
                .execute(io.vertx.sqlclient.Tuple.of(java.util.UUID.fromString(streamId)))
                .map(rows -> rows.iterator().next().getLong(0)));
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        client.close();
        await(side.close());
        await(vertx.close());
    }
}
