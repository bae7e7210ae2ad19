package dev.orders.infra.kafka;

import io.vertx.core.Vertx;
import io.vertx.kafka.client.common.KafkaClientOptions;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.Deserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The services' Kafka consumers (the saga's, the projector's), whose waits on a broker are bounded, so that a
 * dead broker never holds a stopping service.
 *
 * <p>Vert.x runs each consumer's calls one after the other on a thread of its own, and sends an offset commit as
 * {@code commitSync}: against a broker that died, a commit under way waits for Kafka's
 * {@code default.api.timeout.ms} (60 s by default), and the consumer's close, queued behind it, then waits its own
 * 30 s. Here a call gives up after {@link #CALL_TIMEOUT} (a commit that failed is sent again by its caller), and
 * the close after {@link #CLOSE_TIMEOUT}, within the services' {@code shutdown.grace}.
 */
public final class Consumers {

    /** The longest a blocking call of a consumer (an offset commit) waits for its broker. */
    public static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    /** The longest a consumer's close waits to leave its group and end what it has under way. */
    public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(3);

    private Consumers() {
    }

    /** A consumer with these settings (bootstrap servers, group, deserializers by name) and the bounds above. */
    public static <K, V> KafkaConsumer<K, V> create(Vertx vertx, Map<String, String> settings) {
        return create(vertx, settings, null, null);
    }

    /** A consumer with these settings, these deserializers (null: named in the settings) and the bounds above. */
    public static <K, V> KafkaConsumer<K, V> create(Vertx vertx, Map<String, String> settings,
                                                    Deserializer<K> keys, Deserializer<V> values) {
        Map<String, Object> config = bounded(settings);
        // the options Vert.x itself takes from the settings (its tracing), as KafkaConsumer.create(vertx, settings) does
        return KafkaConsumer.create(vertx, new BoundedConsumer<>(config, keys, values), KafkaClientOptions.fromMap(config, false));
    }

    static Map<String, Object> bounded(Map<String, String> settings) {
        Map<String, Object> config = new HashMap<>(settings);
        config.put("default.api.timeout.ms", Long.toString(CALL_TIMEOUT.toMillis()));
        return config;
    }

    /** Kafka's consumer whose plain {@code close()}, the one Vert.x calls, waits at most {@link #CLOSE_TIMEOUT}. */
    private static final class BoundedConsumer<K, V> extends org.apache.kafka.clients.consumer.KafkaConsumer<K, V> {

        BoundedConsumer(Map<String, Object> config, Deserializer<K> keys, Deserializer<V> values) {
            super(config, keys, values);
        }

        @Override
        public void close() {
            close(CLOSE_TIMEOUT);
        }
    }
}
