package dev.orders.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Isolated;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tokens are credentials: whatever the system logs while it issues, accepts and refuses them (at
 * DEBUG, with failures), no token and no token signature appears in a log line.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("Tokens never reach the logs")
@Isolated("reads every line the JVM logs")
class TokensNotLoggedTest {

    private OrdersApp app;
    private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Logger orders = (Logger) LoggerFactory.getLogger("dev.orders");
    private Level ordersLevel;

    @BeforeAll
    void start(TestInfrastructure infra) {
        app = OrdersApp.start(infra.isolatedConfig());
        ordersLevel = orders.getLevel();
        orders.setLevel(Level.DEBUG);
        captured.start();
        root.addAppender(captured);
    }

    @AfterAll
    void stop() {
        root.detachAppender(captured);
        orders.setLevel(ordersLevel);
        if (app != null) {
            app.close();
        }
    }

    @Test
    @DisplayName("issuing, using and refusing tokens logs none of them")
    void noTokenInAnyLogLine() {
        RestApi operator = new RestApi(app.port());
        String customerId = operator.createCustomer("Ada", "100.00", "EUR");
        RestApi customer = operator.asCustomer(customerId);
        String orderId = customer.placeOrder(customerId, "10.00", "EUR").getString("orderId");
        customer.awaitOrder(orderId, "APPROVED");
        String tampered = customer.token().substring(0, customer.token().length() - 4) + "AAAA";
        RestApi.Response refused = new RestApi(app.port()).withToken(tampered).get("/api/orders/" + orderId);
        assertThat(refused.status()).isEqualTo(401);
        RestApi.Response foreign = operator.asCustomer(java.util.UUID.randomUUID().toString()).get("/api/orders/" + orderId);
        assertThat(foreign.status()).isEqualTo(404);

        List<String> secrets = new ArrayList<>();
        for (String token : List.of(operator.token(), customer.token(), tampered)) {
            secrets.add(token);
            secrets.add(token.substring(token.lastIndexOf('.') + 1));
        }
        List<ILoggingEvent> events = List.copyOf(captured.list);
        assertThat(events).as("the run logged something to check").isNotEmpty();
        for (ILoggingEvent event : events) {
            String line = event.getFormattedMessage() + (event.getThrowableProxy() == null ? ""
                    : ThrowableProxyUtil.asString(event.getThrowableProxy()));
            for (String secret : secrets) {
                assertThat(line).as("log line of %s", event.getLoggerName()).doesNotContain(secret);
            }
        }
    }
}
