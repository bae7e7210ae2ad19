package dev.orders.query.rebuild;

import dev.orders.service.http.ApiRouter;
import dev.orders.service.http.HttpServerVerticle;
import dev.orders.service.security.Security;
import dev.orders.service.security.SecuritySettings;
import dev.orders.service.security.SessionApi;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

import java.util.function.Consumer;

/** A side's routes served on a free port behind the real {@link ApiRouter}, in development security. */
public final class ApiServer {

    private ApiServer() {
    }

    /** @return the port it listens on */
    public static Future<Integer> serve(Vertx vertx, Consumer<Router> mount) {
        return SessionApi.load(vertx).compose(session -> {
            HttpServerVerticle http = new HttpServerVerticle("127.0.0.1", 0, v -> {
                Router router = ApiRouter.create(v, Security.create(v, SecuritySettings.development()), session);
                mount.accept(router);
                ApiRouter.finish(router);
                return router;
            });
            return vertx.deployVerticle(http).map(id -> http.actualPort());
        });
    }
}
