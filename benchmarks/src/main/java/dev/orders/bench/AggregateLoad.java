package dev.orders.bench;

import dev.orders.command.domain.Customer;
import dev.orders.command.domain.CustomerState;
import dev.orders.command.handling.AggregateType;
import dev.orders.command.handling.CommandHandler;
import dev.orders.command.store.EventStore;
import dev.orders.command.store.Snapshots;
import dev.orders.events.CustomerEvent;
import dev.orders.events.CustomerEvent.CreditReleased;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import dev.orders.events.Money;
import dev.orders.events.StreamType;
import io.vertx.sqlclient.Pool;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Loading a Customer with few and with many events through the command side's own
 * {@link CommandHandler#load}: the latest snapshot, then the events after it.
 *
 * <p>The long streams are written straight through the command side's {@link EventStore} in batches
 * (as the handler would append them, one stream version after the other), with the snapshot the handler
 * takes every {@code snapshot.every} events; writing 10,000 events command by command would take minutes
 * of this benchmark's budget without changing what is measured. The history is a realistic one: credit
 * reserved for an order, then released, over and over (so the state carries thousands of settled orders).
 */
final class AggregateLoad {

    /** One stream size: its events, what a load read, and the load times. */
    record Result(String label, int events, int eventsReadPerLoad, double medianMicros, double p90Micros,
                  double p99Micros) {
    }

    private static final int SNAPSHOT_EVERY = 100; // the default of snapshot.every, which the benchmark does not change
    private static final int BATCH = 500;

    private final SystemUnderTest system;

    AggregateLoad(SystemUnderTest system) {
        this.system = system;
    }

    List<Result> run(int loads) throws Exception {
        Pool pool = system.app().commandSide().pool();
        CommandHandler handler = system.app().commandSide().handler();
        Map<String, UUID> streams = new LinkedHashMap<>();
        Map<String, Integer> sizes = new LinkedHashMap<>();
        sizes.put("10 events", 10);
        sizes.put("10,000 events", 10_000);
        sizes.put("10,099 events (worst case: 99 after the snapshot)", 10_099);
        for (var size : sizes.entrySet()) {
            System.out.printf("    writing a customer with %,d events%n", size.getValue());
            streams.put(size.getKey(), write(pool, size.getValue()));
        }
        System.out.printf("    waiting for the relay and saga to settle (%d ms)%n", system.awaitQuiet(300_000));
        // warm up, then interleave the sizes so that background noise falls on all of them alike
        Map<String, long[]> nanos = new LinkedHashMap<>();
        Map<String, Integer> read = new LinkedHashMap<>();
        for (String label : streams.keySet()) {
            nanos.put(label, new long[loads]);
        }
        for (int i = 0; i < 30; i++) {
            for (UUID id : streams.values()) {
                Http.await(handler.load(AggregateType.CUSTOMER, id), Duration.ofSeconds(30));
            }
        }
        for (int i = 0; i < loads; i++) {
            for (var stream : streams.entrySet()) {
                long start = System.nanoTime();
                CommandHandler.Loaded<CustomerState> loaded =
                        Http.await(handler.load(AggregateType.CUSTOMER, stream.getValue()), Duration.ofSeconds(30));
                nanos.get(stream.getKey())[i] = System.nanoTime() - start;
                read.put(stream.getKey(), loaded.eventsRead());
                if (loaded.version() != sizes.get(stream.getKey())) {
                    throw new IllegalStateException("loaded version " + loaded.version() + " of " + stream.getKey());
                }
            }
        }
        List<Result> results = new ArrayList<>();
        for (var entry : nanos.entrySet()) {
            long[] sorted = entry.getValue().clone();
            Arrays.sort(sorted);
            results.add(new Result(entry.getKey(), sizes.get(entry.getKey()), read.get(entry.getKey()),
                    percentile(sorted, 50) / 1e3, percentile(sorted, 90) / 1e3, percentile(sorted, 99) / 1e3));
        }
        return results;
    }

    private UUID write(Pool pool, int count) throws Exception {
        UUID customerId = UUID.randomUUID();
        EventStore store = new EventStore();
        EventMetadata metadata = new EventMetadata("bench-aggregate-load", null, null, null);
        Money one = new Money(BigDecimal.ONE, "EUR");
        CustomerState state = Customer.INSTANCE.initialState();
        long version = 0;
        UUID order = null;
        List<EventEnvelope> batch = new ArrayList<>();
        long snapshotVersion = 0;
        CustomerState snapshotState = null;
        while (version < count) {
            CustomerEvent event;
            if (version == 0) {
                event = new CustomerCreated(customerId, "bench-load-" + count, new Money(new BigDecimal("1000000000"), "EUR"));
            } else if (version % 2 == 1) {
                order = UUID.randomUUID();
                event = new CreditReserved(customerId, order, one);
            } else {
                event = new CreditReleased(customerId, order, one);
            }
            version++;
            state = Customer.INSTANCE.evolve(state, event);
            batch.add(new EventEnvelope(UUID.randomUUID(), version, 0, Instant.now(), 0, metadata, event));
            if (version % SNAPSHOT_EVERY == 0) {
                snapshotVersion = version;
                snapshotState = state;
            }
            if (batch.size() == BATCH || version == count) {
                long expected = version - batch.size();
                List<EventEnvelope> events = List.copyOf(batch);
                Http.await(pool.withTransaction(tx -> store.append(tx, StreamType.CUSTOMER, customerId, expected, events)),
                        Duration.ofSeconds(60));
                batch.clear();
            }
        }
        if (snapshotState != null) {
            Http.await(new Snapshots().save(pool, StreamType.CUSTOMER, customerId, snapshotVersion,
                    AggregateType.CUSTOMER.snapshotSchemaVersion(), snapshotState), Duration.ofSeconds(60));
        }
        return customerId;
    }

    private static long percentile(long[] sorted, double p) {
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
