package dev.orders.infra.kafka;

import dev.orders.service.metrics.ProcessMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.producer.KafkaProducer;

/**
 * A Kafka client's own meters ({@code kafka_producer_*}, {@code kafka_consumer_*}: sends, errors, request
 * latency, fetch rate, records lag per partition, ...) on the process's {@code /metrics}, by Micrometer's
 * {@link KafkaClientMetrics} on the registry of {@link ProcessMetrics}, tagged with the client's id.
 */
public final class KafkaClientMeters implements AutoCloseable {

    private final AutoCloseable binding;

    private KafkaClientMeters(AutoCloseable binding) {
        this.binding = binding;
    }

    public static KafkaClientMeters of(Vertx vertx, KafkaConsumer<?, ?> consumer) {
        return new KafkaClientMeters(ProcessMetrics.bind(vertx, new KafkaClientMetrics(consumer.unwrap())));
    }

    public static KafkaClientMeters of(Vertx vertx, KafkaProducer<?, ?> producer) {
        return new KafkaClientMeters(ProcessMetrics.bind(vertx, new KafkaClientMetrics(producer.unwrap())));
    }

    /** Closes the meters once the client's close completes, whichever way. */
    public <T> Future<T> after(Future<T> clientClosed) {
        return clientClosed.onComplete(ignored -> close());
    }

    /** Removes the meters and stops reading the client. */
    @Override
    public void close() {
        try {
            binding.close();
        } catch (Exception ignored) {
            // only the meters' reader stops: nothing to lose
        }
    }
}
