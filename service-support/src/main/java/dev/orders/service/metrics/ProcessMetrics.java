package dev.orders.service.metrics;

import io.micrometer.core.instrument.Meter;
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
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

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

    /** The labels Vert.x puts on its meters: low-cardinality only (the route template, never the raw path). */
    private static final EnumSet<Label> LABELS = EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE,
            Label.POOL_TYPE, Label.POOL_NAME, Label.NAMESPACE, Label.REMOTE);

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

    /** A Vert.x instance that meters itself, the JVM and the process into a registry of its own. */
    public static Vertx newVertx() {
        PrometheusMeterRegistry registry = MetricsEndpoint.newRegistry();
        registry.config().meterFilter(HISTOGRAMS);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        Vertx vertx = Vertx.builder()
                .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
                        .setLabels(LABELS)))
                .withMetrics(new MicrometerMetricsFactory(registry))
                .build();
        REGISTRIES.put(vertx, registry);
        return vertx;
    }

    /** The registry of a Vert.x instance made by {@link #newVertx()}; empty for any other instance. */
    public static Optional<PrometheusMeterRegistry> of(Vertx vertx) {
        return Optional.ofNullable(REGISTRIES.get(vertx));
    }
}
