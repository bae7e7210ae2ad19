package dev.orders.service.tracing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("The journey's log fields")
class LogFieldsTest {

    private static final String TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    @Test
    void are_fields_of_the_json_line_not_text_in_its_message() {
        LoggerContext context = new LoggerContext();
        Logger logger = context.getLogger("journey");
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.setContext(context);
        lines.start();
        logger.addAppender(lines);
        JsonEncoder json = new JsonEncoder(); // as infrastructure's logback.xml sets it up
        json.setContext(context);
        json.setWithMDC(false);
        json.setWithArguments(false);
        json.setWithMessage(false);
        json.setWithFormattedMessage(true);
        json.setWithKVPList(true);
        json.start();

        LogFields.journey(logger.atInfo(), "corr-1", TRACEPARENT).log("{} accepted", "CreateOrder");

        String line = new String(json.encode(lines.list.getFirst()), StandardCharsets.UTF_8);
        assertThat(line).contains("\"correlationId\":\"corr-1\"", "\"traceId\":\"0af7651916cd43dd8448eb211c80319c\"",
                "\"spanId\":\"b7ad6b7169203331\"", "\"formattedMessage\":\"CreateOrder accepted\"")
                .doesNotContain("\"message\"");
    }

    @Test
    void leave_out_what_is_not_known() {
        LoggerContext context = new LoggerContext();
        Logger logger = context.getLogger("journey");
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        logger.addAppender(lines);

        LogFields.journey(logger.atInfo(), null, "not a traceparent").log("a deadline fired");
        LogFields.journey(logger.atInfo(), "corr-2", null).log("a re-drive");

        assertThat(lines.list.get(0).getKeyValuePairs()).isNullOrEmpty();
        assertThat(lines.list.get(1).getKeyValuePairs()).singleElement()
                .satisfies(pair -> assertThat(pair.key + "=" + pair.value).isEqualTo("correlationId=corr-2"));
    }
}
