package dev.orders.command.http;

import dev.orders.command.CommandSide;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.http.ApiRouter;
import dev.orders.service.http.HttpServerVerticle;
import dev.orders.service.http.ContractRequests;
import dev.orders.service.security.Security;
import dev.orders.service.security.SessionApi;
import dev.orders.service.security.SecuritySettings;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.client.WebClientSession;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The command side behind a real HTTP server on a free port, secured as in production but with
 * development tokens, and clients for it: {@link #client} sends an operator's token with every request,
 * {@link #anonymous} sends none, {@link #as} sends a given token.
 */
final class CommandApiFixture implements AutoCloseable {

    final Vertx vertx;
    final CommandSide side;
    /** Sends an operator's bearer token with every request: an operator may do everything. */
    final WebClientSession client;
    /** Sends no credentials; the other clients share its connections. */
    final WebClient anonymous;
    final TestTokens tokens;
    final int port;

    private CommandApiFixture(Vertx vertx, CommandSide side, WebClient anonymous, int port) {
        this.vertx = vertx;
        this.side = side;
        this.anonymous = anonymous;
        this.port = port;
        this.tokens = new TestTokens(vertx);
        this.client = as(tokens.operator());
    }

    /** The command side with the development security settings. */
    static CommandApiFixture start(OrdersConfig config) throws Exception {
        return start(config, SecuritySettings.development());
    }

    static CommandApiFixture start(OrdersConfig config, SecuritySettings security) throws Exception {
        Vertx vertx = Vertx.vertx();
        CommandSide side = await(CommandSide.deploy(vertx, config, config.effectiveCommandPgUri(), config.kafkaBootstrap()));
        ContractRequests sessionContract = await(SessionApi.load(vertx));
        HttpServerVerticle http = new HttpServerVerticle("127.0.0.1", 0, v -> {
            Router router = ApiRouter.create(v, Security.create(v, security), sessionContract);
            side.mount(router);
            ApiRouter.finish(router);
            return router;
        });
        await(vertx.deployVerticle(http));
        WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
                .setDefaultPort(http.actualPort()), new PoolOptions().setHttp1MaxSize(64));
        return new CommandApiFixture(vertx, side, client, http.actualPort());
    }

    /** A client that sends this token as {@code Authorization: Bearer} with every request. */
    WebClientSession as(String token) {
        return WebClientSession.create(anonymous).addHeader("Authorization", TestTokens.bearer(token));
    }

    /** A client that sends this customer's bearer token with every request. */
    WebClientSession asCustomer(UUID customerId) {
        return as(tokens.customer(customerId));
    }

    /** The service's own origin, as a browser on its pages names it in {@code Origin}. */
    String ownOrigin() {
        return "http://127.0.0.1:" + port;
    }

    /** The number of events stored, all streams. */
    long eventCount() throws Exception {
        return await(side.pool().query("SELECT count(*) FROM events").execute()
                .map(rows -> rows.iterator().next().getLong(0)));
    }

    /** The number of events written on behalf of requests with this correlation id. */
    long eventsOfCorrelation(String correlationId) throws Exception {
        return count("SELECT count(*) FROM events WHERE metadata->>'correlationId' = $1", Tuple.of(correlationId));
    }

    /** The number of events of one type written under a correlation id (the saga's reactions carry it too). */
    long eventsOfCorrelation(String correlationId, String eventType) throws Exception {
        return count("SELECT count(*) FROM events WHERE metadata->>'correlationId' = $1 AND event_type = $2",
                Tuple.of(correlationId, eventType));
    }

    /** The number of events of one stream. */
    long eventsOfStream(String streamId) throws Exception {
        return count("SELECT count(*) FROM events WHERE stream_id = $1", Tuple.of(UUID.fromString(streamId)));
    }

    /** The number of events of one type in one stream. */
    long eventsOfStream(String streamId, String eventType) throws Exception {
        return count("SELECT count(*) FROM events WHERE stream_id = $1 AND event_type = $2",
                Tuple.of(UUID.fromString(streamId), eventType));
    }

    /** The number of events, of any stream, about this customer: its own and those of its orders. */
    long eventsAboutCustomer(String customerId) throws Exception {
        return count("SELECT count(*) FROM events WHERE stream_id = $1 OR data->>'customerId' = $2",
                Tuple.of(UUID.fromString(customerId), customerId));
    }

    /** The number of saga deadlines of this customer's orders. */
    long deadlinesOfCustomer(String customerId) throws Exception {
        return count("SELECT count(*) FROM saga_deadlines WHERE customer_id = $1", Tuple.of(UUID.fromString(customerId)));
    }

    private long count(String sql, Tuple arguments) throws Exception {
        return await(side.pool().preparedQuery(sql).execute(arguments).map(rows -> rows.iterator().next().getLong(0)));
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        anonymous.close();
        await(side.close());
        await(vertx.close());
    }
}
