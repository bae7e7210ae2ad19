package dev.orders.infra.kafka;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.admin.OffsetSpec;
import io.vertx.kafka.client.common.TopicPartition;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A consumer's lag, the one way both sides read it: per topic-partition, the records in Kafka it has not
 * handled yet, that is the partition's end offset (asked of the broker through the admin client) minus the
 * offset of the next record the consumer will handle (its {@link Progress}: the saga's from its memory or
 * its committed offsets, the projector's from its checkpoints in PostgreSQL). The latest reading is kept,
 * for gauges ({@link #bindTo}) and for figures read without I/O.
 */
public final class ConsumerLag {

    /** Where a consumer is: per partition, the offset of the next record it will handle; one left out has none handled (0). */
    @FunctionalInterface
    public interface Progress {
        Future<Map<TopicPartition, Long>> nextOffsets(Set<TopicPartition> partitions);
    }

    /**
     * One reading: records behind per partition ({@code <topic>-<partition>}).
     *
     * @param partitions records behind per partition, in the order asked
     */
    public record Reading(Map<String, Long> partitions) {

        static final Reading NONE = new Reading(Map.of());

        /** Records behind in every partition of the reading. */
        public long total() {
            return partitions.values().stream().mapToLong(Long::longValue).sum();
        }

        /** Records behind in one partition; 0 for a partition the reading does not hold. */
        public long of(String partition) {
            return partitions.getOrDefault(partition, 0L);
        }

        /** {@code {"<topic>-<partition>": records behind, ...}} */
        public JsonObject toJson() {
            JsonObject json = new JsonObject();
            partitions.forEach(json::put);
            return json;
        }
    }

    private volatile Reading latest = Reading.NONE;

    /** The name of a partition in readings, meters and JSON: {@code <topic>-<partition>}. */
    public static String name(TopicPartition partition) {
        return partition.getTopic() + "-" + partition.getPartition();
    }

    /**
     * Reads the lag of these partitions now (an empty set reads as no lag at all); the reading becomes the
     * latest one.
     *
     * @param admin      an admin client of the cluster, which answers the end offsets
     * @param partitions the partitions to read
     * @param progress   where the consumer is in them
     */
    public Future<Reading> read(KafkaAdminClient admin, Collection<TopicPartition> partitions, Progress progress) {
        if (partitions.isEmpty()) {
            latest = Reading.NONE;
            return Future.succeededFuture(latest);
        }
        Map<TopicPartition, OffsetSpec> ends = new LinkedHashMap<>();
        partitions.forEach(partition -> ends.put(partition, OffsetSpec.LATEST));
        return Future.all(admin.listOffsets(ends), progress.nextOffsets(ends.keySet())).map(both -> {
            Map<TopicPartition, io.vertx.kafka.admin.ListOffsetsResultInfo> end = both.resultAt(0);
            Map<TopicPartition, Long> next = both.resultAt(1);
            Map<String, Long> behind = new LinkedHashMap<>();
            for (TopicPartition partition : ends.keySet()) {
                long endOffset = end.containsKey(partition) ? end.get(partition).getOffset() : 0;
                behind.put(name(partition), Math.max(0, endOffset - next.getOrDefault(partition, 0L)));
            }
            latest = new Reading(behind);
            return latest;
        });
    }

    /** The latest reading (no I/O). */
    public Reading latest() {
        return latest;
    }

    /**
     * Registers a gauge per partition, tagged {@code partition}, that shows the latest reading's figure (0 until a
     * reading holds it).
     */
    public void bindTo(MeterRegistry registry, String meter, String description, Collection<TopicPartition> partitions) {
        for (TopicPartition partition : partitions) {
            String name = name(partition);
            Gauge.builder(meter, this, lag -> lag.latest().of(name)).description(description).tag("partition", name)
                    .register(registry);
        }
    }
}
