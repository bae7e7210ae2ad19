package dev.orders.app;

import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.TestTokens;
import io.vertx.core.Vertx;

/**
 * The all-in-one system as the security tests start it: the app, an HTTP probe on its port, and test
 * tokens signed like the development ones (on a Vert.x instance of their own). Closed in reverse order.
 */
record SecuredApp(OrdersApp app, HttpProbe probe, Vertx tokenVertx, TestTokens tokens) implements AutoCloseable {

    static SecuredApp start(OrdersConfig config) {
        OrdersApp app = OrdersApp.start(config);
        try {
            Vertx tokenVertx = Vertx.vertx();
            return new SecuredApp(app, new HttpProbe(app.port()), tokenVertx, new TestTokens(tokenVertx));
        } catch (RuntimeException failure) {
            app.close();
            throw failure;
        }
    }

    @Override
    public void close() {
        try {
            probe.close();
            HttpProbe.await(tokenVertx.close());
        } finally {
            app.close();
        }
    }
}
