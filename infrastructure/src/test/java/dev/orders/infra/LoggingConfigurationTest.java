package dev.orders.infra;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The services' logging configuration ({@code logback.xml} of the jars): lines are written to the console by
 * the asynchronous appender's own thread, never by the event loop that logs them, in the format asked for.
 */
@DisplayName("The services' logging configuration")
class LoggingConfigurationTest {

    @Test
    void queues_every_line_for_a_console_appender_of_its_own_thread() throws Exception {
        LoggerContext context = configured();
        try {
            List<Appender<ILoggingEvent>> appenders = new ArrayList<>();
            context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().forEachRemaining(appenders::add);
            assertThat(appenders).as("the root's appenders").singleElement().isInstanceOf(AsyncAppender.class);
            AsyncAppender async = (AsyncAppender) appenders.getFirst();
            assertThat(async.isStarted()).isTrue();
            assertThat(async.getQueueSize()).isEqualTo(8192);
            assertThat(async.isNeverBlock()).as("WARN and ERROR wait for room rather than being dropped").isFalse();
            assertThat(async.getAppender("text")).as("the readable format by default").isInstanceOf(ConsoleAppender.class);
        } finally {
            context.stop();
        }
    }

    @Test
    void writes_out_what_it_queued_when_it_stops() throws Exception {
        LoggerContext context = configured();
        AsyncAppender async = (AsyncAppender) context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().next();
        for (int i = 0; i < 100; i++) {
            context.getLogger("test").info("line {}", i);
        }
        context.stop();
        assertThat(async.getNumberOfElementsInQueue()).as("lines left unwritten after the stop").isZero();
    }

    private static LoggerContext configured() throws Exception {
        LoggerContext context = new LoggerContext();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(LoggingConfigurationTest.class.getResource("/logback.xml"));
        return context;
    }
}
