package dev.orders.devservers;

import dev.orders.infra.config.OrdersConfig;
import java.util.Map;

/** Run in a child JVM by a test: starts the infrastructure, then dies like kill -9 (no shutdown hooks). */
public final class KilledParentMain {

    private KilledParentMain() {
    }

    public static void main(String[] args) throws Exception {
        Infrastructure infra = Infrastructure.start(OrdersConfig.fromMap(Map.of("data.dir", args[0])));
        System.out.println("KAFKA_PID=" + infra.kafkaProcess().orElseThrow().pid());
        System.out.flush();
        Runtime.getRuntime().halt(9);
    }
}
