package dev.orders.service.metrics;

import dev.orders.service.tracing.Tracing;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.tracing.opentelemetry.OpenTelemetryTracingFactory;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * The meters of a process rather than of a side: Vert.x's own (HTTP server and clients, SQL pools, event
 * loops and worker pools, by vertx-micrometer-metrics) and the JVM's and the process's (memory, GC,
 * threads, CPU, uptime, file descriptors, by Micrometer's binders), in one registry per Vert.x instance
 * that {@code /metrics} writes next to the sides' registries.
 */
public final class ProcessMetrics {

    /**
     * The labels Vert.x puts on its meters: low-cardinality only (the route template, never the raw path; never
     * the remote address, which on a server's meters is each client's address and port: a series per connection,
     * without bound, that made every scrape longer).
     */
    private static final EnumSet<Label> LABELS = EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE,
            Label.POOL_TYPE, Label.POOL_NAME, Label.NAMESPACE);

    /** Latencies a dashboard draws as percentiles get histogram buckets (a sum and a count alone cannot). */
    private static final Set<String> TIMED_WITH_BUCKETS = Set.of("vertx.http.server.response.time",
            "vertx.sql.processing.time", "vertx.pool.queue.time");
    private static final MeterFilter HISTOGRAMS = new MeterFilter() {
        @Override
        public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
            return TIMED_WITH_BUCKETS.contains(id.getName())
                    ? DistributionStatisticConfig.builder().percentilesHistogram(true).build().merge(config)
                    : config;
        }
    };

    private static final Map<Vertx, PrometheusMeterRegistry> REGISTRIES = Collections.synchronizedMap(new WeakHashMap<>());

    private ProcessMetrics() {
    }

    /**
     * A Vert.x instance that meters itself, the JVM and the process into a registry of its own, and traces
     * as the standard {@code OTEL_*} variables say ({@link Tracing#fromEnvironment}: off unless they name an
     * exporter).
     */
    public static Vertx newVertx() {
        return newVertx(Tracing.fromEnvironment("orders"));
    }

    /**
     * A Vert.x instance that meters itself, the JVM and the process into a registry of its own, and traces
     * through {@code tracing} ({@link Tracing#of(Vertx)}): its HTTP servers open a server span per request
     * (continuing the caller's {@code traceparent}), under which the sides start theirs.
     */
    public static Vertx newVertx(Tracing tracing) {
        return newVertx(tracing, VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE);
    }

    /**
     * {@link #newVertx(Tracing)} with {@code eventLoops} event-loop threads (Vert.x's default is two per core;
     * a service whose event loops never block needs no more threads than cores, and on a machine it shares with
     * PostgreSQL and Kafka, more threads mean more hand-offs and wake-ups between them).
     */
    public static Vertx newVertx(Tracing tracing, int eventLoops) {
        PrometheusMeterRegistry registry = MetricsEndpoint.newRegistry();
        registry.config().meterFilter(HISTOGRAMS);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        VertxBuilder builder = Vertx.builder()
                .with(new VertxOptions().setEventLoopPoolSize(eventLoops)
                        .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setLabels(LABELS)))
                .withMetrics(new MicrometerMetricsFactory(registry));
        if (tracing.enabled()) {
            builder.withTracer(new OpenTelemetryTracingFactory(tracing.openTelemetry()));
        }
        Vertx vertx = builder.build();
        REGISTRIES.put(vertx, registry);
        Tracing.register(vertx, tracing);
        return vertx;
    }

    /**
     * Binds a library's meters (a Kafka client's, say) into the registry of a Vert.x instance made by
     * {@link #newVertx()}; nothing for any other instance. Close the result when the library's object goes.
     */
    public static AutoCloseable bind(Vertx vertx, MeterBinder binder) {
        return of(vertx).<AutoCloseable>map(registry -> {
            binder.bindTo(registry);
            return binder instanceof AutoCloseable closeable ? closeable : () -> { };
        }).orElse(() -> { });
    }

    /** The registry of a Vert.x instance made by {@link #newVertx()}; empty for any other instance. */
    public static Optional<PrometheusMeterRegistry> of(Vertx vertx) {
        return Optional.ofNullable(REGISTRIES.get(vertx));
    }
}
