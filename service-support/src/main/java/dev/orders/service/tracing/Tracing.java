package dev.orders.service.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.vertx.core.AsyncResult;
import io.vertx.core.Vertx;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Function;

/**
 * One trace per order, continued wherever the order goes: the HTTP command's server span (Vert.x's own),
 * the append, the relay's publish, the saga's reaction and its appends, the projector and the push to each
 * client. Between processes and across Kafka and PostgreSQL the trace travels as a W3C {@code traceparent}
 * string, the one the event metadata stores and the {@code ce_traceparent} header carries: each step starts
 * its span as a child of the {@code traceparent} it was handed, and hands its own on.
 *
 * <p>Off unless the standard OpenTelemetry variables turn it on ({@code OTEL_TRACES_EXPORTER=otlp} and the
 * {@code OTEL_EXPORTER_OTLP_*} settings, read by the SDK's autoconfiguration). Off, nothing is created: no
 * SDK, no Vert.x tracer, every span here is the invalid one and a {@code traceparent} is passed on as it
 * came (the caller's, if any).
 */
public final class Tracing {

    /** What {@code --help} says about turning tracing on. */
    public static final String HELP = """
            Tracing (OpenTelemetry) is off unless the standard variables turn it on, e.g.
              OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4317 OTEL_SERVICE_NAME=orders
            (the SDK reads every OTEL_* variable, or the matching -Dotel.* system property; OTEL_SDK_DISABLED=true
            turns it off again).""";

    /** Tracing off: no spans; {@code traceparent}s pass through unchanged. */
    public static final Tracing OFF = new Tracing(OpenTelemetry.noop(), false);

    private static final String INSTRUMENTATION = "dev.orders";
    private static final String TRACEPARENT = "traceparent";
    private static final int HANDED_OVER = 10_000;
    private static final Map<Vertx, Tracing> BY_VERTX = Collections.synchronizedMap(new WeakHashMap<>());
    private static final TextMapGetter<String> ONE_HEADER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(String carrier) {
            return List.of(TRACEPARENT);
        }

        @Override
        public String get(String carrier, String key) {
            return TRACEPARENT.equals(key) ? carrier : null;
        }
    };

    private final OpenTelemetry openTelemetry;
    private final Tracer tracer;
    private final boolean enabled;
    /** Trace contexts handed from one step to a later one in this process through a store (least recent out). */
    private final Map<String, String> handedOver = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > HANDED_OVER;
        }
    };

    private Tracing(OpenTelemetry openTelemetry, boolean enabled) {
        this.openTelemetry = openTelemetry;
        this.tracer = openTelemetry.getTracer(INSTRUMENTATION);
        this.enabled = enabled;
    }

    /** Tracing through a configured SDK (an embedding process's, or a test's with an in-memory exporter). */
    public static Tracing with(OpenTelemetry openTelemetry) {
        return new Tracing(openTelemetry, true);
    }

    /**
     * Tracing as the standard variables say: on when {@code OTEL_TRACES_EXPORTER} (or the system property
     * {@code otel.traces.exporter}) names an exporter other than {@code none} and {@code OTEL_SDK_DISABLED} is
     * not {@code true}; the SDK then reads the rest of its settings itself. The service name defaults to
     * {@code serviceName} unless {@code OTEL_SERVICE_NAME} says otherwise.
     */
    public static Tracing fromEnvironment(String serviceName) {
        return fromSettings(serviceName, name -> {
            String property = System.getProperty(name.toLowerCase(Locale.ROOT).replace('_', '.'));
            return property != null ? property : System.getenv(name);
        });
    }

    static Tracing fromSettings(String serviceName, Function<String, String> settings) {
        if (!enabledBy(settings)) {
            return OFF;
        }
        OpenTelemetry sdk = AutoConfiguredOpenTelemetrySdk.builder()
                .addPropertiesSupplier(() -> Map.of("otel.service.name", serviceName,
                        // traces only: metrics are on /metrics, logs on the console
                        "otel.metrics.exporter", "none", "otel.logs.exporter", "none"))
                .build()
                .getOpenTelemetrySdk();
        return with(sdk);
    }

    static boolean enabledBy(Function<String, String> settings) {
        String exporter = settings.apply("OTEL_TRACES_EXPORTER");
        return exporter != null && !exporter.isBlank() && !exporter.trim().equalsIgnoreCase("none")
                && !"true".equalsIgnoreCase(String.valueOf(settings.apply("OTEL_SDK_DISABLED")).trim());
    }

    /** Records the tracing of a Vert.x instance, for the steps that run on it. */
    public static void register(Vertx vertx, Tracing tracing) {
        BY_VERTX.put(vertx, tracing);
    }

    /** The tracing of a Vert.x instance; {@link #OFF} for one that has none. */
    public static Tracing of(Vertx vertx) {
        return BY_VERTX.getOrDefault(vertx, OFF);
    }

    public boolean enabled() {
        return enabled;
    }

    public OpenTelemetry openTelemetry() {
        return openTelemetry;
    }

    /**
     * Starts a span that continues the trace of {@code parent} (a {@code traceparent}); a new trace when
     * there is none. The invalid span when tracing is off.
     */
    public Span start(String name, SpanKind kind, String parent) {
        if (!enabled) {
            return Span.getInvalid();
        }
        Context context = parent == null ? Context.root()
                : W3CTraceContextPropagator.getInstance().extract(Context.root(), parent, ONE_HEADER);
        return tracer.spanBuilder(name).setSpanKind(kind).setParent(context).startSpan();
    }

    /** Starts a span under the one current on this thread or Vert.x context (a request's server span). */
    public Span startInCurrent(String name, SpanKind kind) {
        if (!enabled) {
            return Span.getInvalid();
        }
        return tracer.spanBuilder(name).setSpanKind(kind).setParent(Context.current()).startSpan();
    }

    /** The {@code traceparent} of the span current on this thread or Vert.x context, else {@code otherwise}. */
    public String currentTraceparent(String otherwise) {
        return enabled ? traceparent(Span.current(), otherwise) : otherwise;
    }

    /** The {@code traceparent} that hands a span on, or {@code otherwise} when the span is not a real one. */
    public static String traceparent(Span span, String otherwise) {
        SpanContext context = span.getSpanContext();
        if (!context.isValid()) {
            return otherwise;
        }
        return "00-" + context.getTraceId() + "-" + context.getSpanId() + "-" + context.getTraceFlags().asHex();
    }

    /** Ends a span when the work it measures completes, marking it failed when the work failed. */
    public static <T> void endOn(Span span, AsyncResult<T> outcome) {
        if (outcome.failed()) {
            span.setStatus(StatusCode.ERROR, String.valueOf(outcome.cause().getMessage()));
        }
        span.end();
    }

    /**
     * Hands a trace context over to a later step of this process that finds its work through a store
     * rather than a message (the push, which reads the changes the projector wrote): the later step
     * {@link #takeOver takes it over} by the same key. Only the most recent ones are kept.
     */
    public void handOver(String key, String traceparent) {
        if (enabled && traceparent != null) {
            synchronized (handedOver) {
                handedOver.put(key, traceparent);
            }
        }
    }

    /** The trace context handed over under a key, or null (another process's work, or too long ago). */
    public String takeOver(String key) {
        if (!enabled) {
            return null;
        }
        synchronized (handedOver) {
            return handedOver.get(key);
        }
    }
}
