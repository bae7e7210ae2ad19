package dev.orders.service.tracing;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("Tracing")
class TracingTest {

    private static final String CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    @Test
    void is_off_unless_the_standard_variables_name_an_exporter() {
        assertThat(Tracing.enabledBy(Map.<String, String>of()::get)).isFalse();
        assertThat(Tracing.enabledBy(Map.of("OTEL_TRACES_EXPORTER", "none")::get)).isFalse();
        assertThat(Tracing.enabledBy(Map.of("OTEL_TRACES_EXPORTER", "otlp", "OTEL_SDK_DISABLED", "true")::get)).isFalse();
        assertThat(Tracing.enabledBy(Map.of("OTEL_TRACES_EXPORTER", "otlp")::get)).isTrue();
        assertThat(Tracing.fromSettings("orders", Map.<String, String>of()::get)).isSameAs(Tracing.OFF);
    }

    @Test
    void off_it_creates_no_span_and_hands_the_callers_trace_context_on_unchanged() {
        Span span = Tracing.OFF.start("append CreateOrder", SpanKind.INTERNAL, CALLER);
        assertThat(span.getSpanContext().isValid()).isFalse();
        assertThat(Tracing.traceparent(span, CALLER)).isEqualTo(CALLER);
        Tracing.OFF.handOver("key", CALLER);
        assertThat(Tracing.OFF.takeOver("key")).isNull();
    }

    @Test
    void on_a_span_continues_the_trace_it_is_handed_and_hands_its_own_on() {
        InMemorySpanExporter exporter = InMemorySpanExporter.create();
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build()).build();
        Tracing tracing = Tracing.with(sdk);

        Span span = tracing.start("publish orders.order-events", SpanKind.PRODUCER, CALLER);
        String handedOn = Tracing.traceparent(span, null);
        span.end();

        SpanData data = exporter.getFinishedSpanItems().getFirst();
        assertThat(data.getTraceId()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
        assertThat(data.getParentSpanId()).isEqualTo("b7ad6b7169203331");
        assertThat(data.getKind()).isEqualTo(SpanKind.PRODUCER);
        assertThat(handedOn).isEqualTo("00-0af7651916cd43dd8448eb211c80319c-" + data.getSpanId() + "-01");
        tracing.handOver("order-change:x:1", handedOn);
        assertThat(tracing.takeOver("order-change:x:1")).isEqualTo(handedOn);
        sdk.close();
    }
}
