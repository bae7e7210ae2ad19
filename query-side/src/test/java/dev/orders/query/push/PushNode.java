package dev.orders.query.push;

import dev.orders.query.http.QueryApiDocument;
import dev.orders.service.http.ApiRouter;
import dev.orders.service.http.ContractRequests;
import dev.orders.service.security.Security;
import dev.orders.service.security.SecuritySettings;
import dev.orders.service.security.SessionApi;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

/**
 * One query node in a test: its own pool, push hub and HTTP server on a free port, behind the same
 * {@link ApiRouter} (authentication included) as a real node, in development mode: tokens from
 * {@code TestTokens} are valid.
 */
final class PushNode {

    final Pool pool;
    final PushHub hub;
    final HttpServer server;

    private PushNode(Pool pool, PushHub hub, HttpServer server) {
        this.pool = pool;
        this.hub = hub;
        this.server = server;
    }

    static Future<PushNode> start(Vertx vertx, PgConnectOptions db, PushSettings settings, HttpServerOptions http) {
        return start(vertx, db, db, settings, http);
    }

    /** A node whose LISTEN connection goes to {@code listenDb}: notifications sent on {@code db} never reach it. */
    static Future<PushNode> start(Vertx vertx, PgConnectOptions db, PgConnectOptions listenDb, PushSettings settings,
                                  HttpServerOptions http) {
        return start(vertx, db, listenDb, settings, OperatorStreamSettings.defaults(), http);
    }

    static Future<PushNode> start(Vertx vertx, PgConnectOptions db, PgConnectOptions listenDb, PushSettings settings,
                                  OperatorStreamSettings operators, HttpServerOptions http) {
        Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(8)).connectingTo(db).using(vertx).build();
        return ContractRequests.load(vertx, QueryApiDocument.load()).compose(contract -> SessionApi.load(vertx)
                .compose(session -> PushHub.start(vertx, pool, listenDb, settings).compose(hub -> {
            Router router = ApiRouter.create(vertx, Security.create(vertx, SecuritySettings.development()), session);
            new OperatorStreams(vertx, pool, hub, settings, operators).mount(router, contract);
            hub.mount(router, contract);
            ApiRouter.finish(router);
            return vertx.createHttpServer(http.setPort(0).setHost("127.0.0.1")).requestHandler(router).listen()
                    .map(server -> new PushNode(pool, hub, server));
        })));
    }

    int port() {
        return server.actualPort();
    }

    Future<Void> close() {
        return hub.close().eventually(() -> server.shutdown(100, java.util.concurrent.TimeUnit.MILLISECONDS)).eventually(() -> pool.close());
    }
}
