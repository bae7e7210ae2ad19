package dev.orders.command.messaging;

import dev.orders.events.EventJson;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static dev.orders.command.messaging.RelayFixture.await;

/** What every relay test class shares: the test JVM's servers and a Vert.x that reports a blocked event loop. */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RelayTestBase {

    static final Duration LONG = Duration.ofSeconds(60);

    TestInfrastructure infra;
    Vertx vertx;

    @BeforeAll
    void startVertx(TestInfrastructure infra) {
        this.infra = infra;
        // as a service does while it starts: the fixtures' appends then build no serializer on an event loop
        EventJson.prepare();
        // a blocked event loop is reported with its stack at once, not after Vert.x's default 5 s
        vertx = Vertx.vertx(new VertxOptions().setBlockedThreadCheckInterval(200)
                .setMaxEventLoopExecuteTime(200_000_000L).setWarningExceptionTime(200_000_000L));
    }

    @AfterAll
    void closeVertx() {
        await(vertx.close());
    }

    /** A fixture on a fresh database with topics of its own. */
    RelayFixture fixture() {
        return new RelayFixture(vertx, infra.isolatedConfig());
    }
}
