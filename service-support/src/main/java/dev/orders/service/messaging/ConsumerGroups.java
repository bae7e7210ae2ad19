package dev.orders.service.messaging;

import java.util.Map;

/** What every Kafka consumer group of the services sets alike. */
public final class ConsumerGroups {

    /**
     * How soon Kafka hands a dead member's partitions on: a process killed without leaving its group holds
     * its partitions until its session expires, and the saga and projector of a service started again at
     * once wait that long (45 s with Kafka's default) before they get any partition back.
     */
    public static final Map<String, String> LIVENESS = Map.of(
            "session.timeout.ms", "10000",
            "heartbeat.interval.ms", "2000");

    private ConsumerGroups() {
    }
}
