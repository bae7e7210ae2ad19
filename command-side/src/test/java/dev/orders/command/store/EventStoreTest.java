package dev.orders.command.store;

import dev.orders.command.domain.CustomerCommand.ReserveCredit;
import dev.orders.command.domain.CustomerState;
import dev.orders.command.handling.AggregateType;
import dev.orders.command.handling.CommandHandler;
import dev.orders.events.CustomerEvent.CreditReleased;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.events.StreamType;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The event store")
class EventStoreTest {

    private static final int SNAPSHOT_EVERY = 100;
    private final EventStore store = new EventStore();
    private MigratedCommandStore database;
    private Vertx vertx;
    private Pool pool;
    private CommandHandler handler;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        database = MigratedCommandStore.open(infra, 70, 1000, "store-test");
        vertx = database.vertx();
        pool = database.pool();
        handler = new CommandHandler(vertx, pool, store, new Snapshots(), Clock.systemUTC(), UUID::randomUUID,
                SNAPSHOT_EVERY, 8);
    }

    @AfterAll
    void stop() throws Exception {
        database.close();
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    }

    private static EventEnvelope envelope(long version, DomainEvent event) {
        return new EventEnvelope(UUID.randomUUID(), version, 0, Instant.now(), 0, EventMetadata.NONE, event);
    }

    @Test
    @DisplayName("of 64 concurrent appends at the same expected version exactly one wins, round after round")
    void exactly_one_of_many_concurrent_appends_at_one_version_wins() throws Exception {
        UUID orderId = UUID.randomUUID();
        UUID customerId = UUID.randomUUID();
        int rounds = 200;
        for (int round = 0; round < rounds; round++) {
            long expected = round;
            List<Future<Void>> attempts = new ArrayList<>();
            for (int writer = 0; writer < 64; writer++) {
                DomainEvent event = new OrderCreated(orderId, customerId, Money.parse("1.00", "EUR"));
                attempts.add(pool.withTransaction(tx -> store.append(tx, StreamType.ORDER, orderId, expected,
                        List.of(envelope(expected + 1, event)))));
            }
            await(Future.join(attempts).otherwise(ignored -> null));
            long won = attempts.stream().filter(Future::succeeded).count();
            assertThat(won).as("winners of round %d", round).isEqualTo(1);
            assertThat(attempts.stream().filter(Future::failed)
                    .allMatch(f -> f.cause() instanceof ConcurrencyConflictException)).isTrue();
        }
        List<Integer> versions = await(pool.preparedQuery("SELECT version FROM events WHERE stream_id = $1 ORDER BY version")
                .execute(Tuple.of(orderId)).map(rows -> {
                    List<Integer> list = new ArrayList<>();
                    rows.forEach(row -> list.add(row.getInteger(0)));
                    return list;
                }));
        assertThat(versions).hasSize(rounds);
        for (int i = 0; i < versions.size(); i++) {
            assertThat(versions.get(i)).isEqualTo(i + 1);
        }
    }

    @Test
    void an_append_of_several_events_with_one_conflicting_writes_none() throws Exception {
        UUID orderId = UUID.randomUUID();
        UUID customerId = UUID.randomUUID();
        DomainEvent event = new OrderCreated(orderId, customerId, Money.parse("1.00", "EUR"));
        await(pool.withTransaction(tx -> store.append(tx, StreamType.ORDER, orderId, 0, List.of(envelope(1, event)))));
        Future<Void> second = pool.withTransaction(tx -> store.append(tx, StreamType.ORDER, orderId, 0,
                List.of(envelope(1, event), envelope(2, event))));
        await(second.otherwise(ignored -> null));
        assertThat(second.cause()).isInstanceOf(ConcurrencyConflictException.class);
        assertThat(storedEvents(orderId)).isEqualTo(1);
    }

    @Test
    void an_append_that_names_a_version_ahead_of_the_stream_fails_and_leaves_no_gap() throws Exception {
        UUID orderId = UUID.randomUUID();
        DomainEvent event = new OrderCreated(orderId, UUID.randomUUID(), Money.parse("1.00", "EUR"));
        await(pool.withTransaction(tx -> store.append(tx, StreamType.ORDER, orderId, 0, List.of(envelope(1, event)))));
        Future<Void> ahead = pool.withTransaction(tx -> store.append(tx, StreamType.ORDER, orderId, 5,
                List.of(envelope(6, event))));
        await(ahead.otherwise(ignored -> null));
        assertThat(ahead.cause()).isInstanceOf(ConcurrencyConflictException.class);
        assertThat(storedEvents(orderId)).isEqualTo(1);
    }

    @Test
    @DisplayName("loading a stream of 10,000 events with snapshots reads at most N events")
    void loading_a_long_stream_reads_the_snapshot_and_at_most_n_events() throws Exception {
        UUID customerId = UUID.randomUUID();
        Money limit = new Money(new BigDecimal("1000000.00"), "EUR");
        Money one = Money.parse("1.00", "EUR");
        List<EventEnvelope> events = new ArrayList<>();
        events.add(envelope(1, new CustomerCreated(customerId, "Long", limit)));
        int total = 9_999;
        UUID orderId = null;
        for (int version = 2; version <= total; version++) {
            if (version % 2 == 0) {
                orderId = UUID.randomUUID();
                events.add(envelope(version, new CreditReserved(customerId, orderId, one)));
            } else {
                events.add(envelope(version, new CreditReleased(customerId, orderId, one)));
            }
        }
        await(pool.withTransaction(tx -> store.append(tx, StreamType.CUSTOMER, customerId, 0, events)));

        var withoutSnapshot = await(handler.load(AggregateType.CUSTOMER, customerId));
        assertThat(withoutSnapshot.eventsRead()).isEqualTo(total);

        // the 10,000th event crosses a snapshot boundary: the handler stores a snapshot
        await(handler.handle(AggregateType.CUSTOMER, customerId, new ReserveCredit(customerId, UUID.randomUUID(), one),
                EventMetadata.NONE, CommandHandler.InTransaction.nothing()));
        awaitSnapshotAt(customerId, total + 1);

        var loaded = await(handler.load(AggregateType.CUSTOMER, customerId));
        assertThat(loaded.version()).isEqualTo(total + 1);
        assertThat(loaded.eventsRead()).isLessThanOrEqualTo(SNAPSHOT_EVERY);
        CustomerState replayed = replay(customerId);
        assertThat(loaded.state()).isEqualTo(replayed);
    }

    @Test
    void a_snapshot_of_an_older_schema_is_ignored_not_misread() throws Exception {
        UUID customerId = UUID.randomUUID();
        Money limit = Money.parse("500.00", "EUR");
        await(pool.withTransaction(tx -> store.append(tx, StreamType.CUSTOMER, customerId, 0,
                List.of(envelope(1, new CustomerCreated(customerId, "Old", limit))))));
        // a snapshot in a shape of long ago, that would mislead if it were read
        storeSnapshot(customerId, 1, 0, "{\"legacy\": true}");
        var loaded = await(handler.load(AggregateType.CUSTOMER, customerId));
        assertThat(loaded.eventsRead()).isEqualTo(1);
        assertThat(loaded.state().name()).isEqualTo("Old");
        assertThat(loaded.state().creditLimit()).isEqualTo(limit);
    }

    @Test
    @DisplayName("ignores a snapshot of its own version that is not JSON (stored as text since V13) and replays the stream")
    void an_unreadable_snapshot_is_ignored() throws Exception {
        UUID customerId = UUID.randomUUID();
        Money limit = Money.parse("500.00", "EUR");
        await(pool.withTransaction(tx -> store.append(tx, StreamType.CUSTOMER, customerId, 0,
                List.of(envelope(1, new CustomerCreated(customerId, "Torn", limit))))));
        storeSnapshot(customerId, 1, AggregateType.CUSTOMER.snapshotSchemaVersion(), "{\"customerId\": ");
        var loaded = await(handler.load(AggregateType.CUSTOMER, customerId));
        assertThat(loaded.eventsRead()).isEqualTo(1);
        assertThat(loaded.state().name()).isEqualTo("Torn");
    }

    @Test
    @DisplayName("stores a large snapshot as it is, uncompressed (V14), and reads it back whole")
    void a_large_snapshot_is_stored_uncompressed() throws Exception {
        UUID customerId = UUID.randomUUID();
        // a state of the size a busy customer reaches, as compressible as JSON is, past where PostgreSQL compresses
        Map<String, Object> state = Map.of("entries", Collections.nCopies(1500,
                Map.of("orderId", "5b0c6a3e-1111-4a5b-9c9d-000000000000", "amount", "1.00")));
        await(new Snapshots().save(pool, StreamType.CUSTOMER, customerId, 1, 0, state));
        Row stored = await(pool.preparedQuery("SELECT pg_column_compression(state) AS compression,"
                + " pg_column_size(state) AS size, octet_length(state) AS length FROM snapshots WHERE stream_id = $1")
                .execute(Tuple.of(customerId))).iterator().next();
        assertThat(stored.getString("compression")).as("compression method of the stored state").isNull();
        assertThat(stored.getInteger("size")).as("stored bytes").isGreaterThanOrEqualTo(stored.getInteger("length"));
        assertThat(stored.getInteger("length")).isGreaterThan(60_000);
    }

    @Test
    @DisplayName("ignores a snapshot written by other code (another snapshot version), even one that parses")
    void a_snapshot_of_other_code_is_ignored() throws Exception {
        UUID customerId = UUID.randomUUID();
        Money limit = Money.parse("500.00", "EUR");
        await(pool.withTransaction(tx -> store.append(tx, StreamType.CUSTOMER, customerId, 0, List.of(
                envelope(1, new CustomerCreated(customerId, "Now", limit)),
                envelope(2, new CreditReserved(customerId, UUID.randomUUID(), Money.parse("20.00", "EUR")))))));
        // the state as an older fold left it: the same field names, a stale reserved total
        storeSnapshot(customerId, 2, AggregateType.CUSTOMER.snapshotSchemaVersion() + 1, """
                {"customerId": "%s", "name": "Stale", "creditLimit": {"amount": "500.00", "currency": "EUR"},
                 "reserved": {"amount": "0.00", "currency": "EUR"}, "reservations": {}}""".formatted(customerId));
        var loaded = await(handler.load(AggregateType.CUSTOMER, customerId));
        assertThat(loaded.eventsRead()).isEqualTo(2);
        assertThat(loaded.state()).isEqualTo(replay(customerId));
        assertThat(loaded.state().reserved()).isEqualTo(Money.parse("20.00", "EUR"));
    }

    @Test
    @DisplayName("answers snapshot plus tail equal to a full replay, at every point of a long random history")
    void snapshot_plus_tail_is_a_full_replay() throws Exception {
        UUID customerId = UUID.randomUUID();
        await(handler.create(AggregateType.CUSTOMER, customerId, new dev.orders.command.domain.CustomerCommand
                .CreateCustomer(customerId, "Random", Money.parse("100.00", "EUR")), EventMetadata.NONE,
                CommandHandler.InTransaction.nothing()));
        java.util.Random random = new java.util.Random();
        List<UUID> open = new ArrayList<>();
        for (int i = 0; i < 450; i++) {
            if (!open.isEmpty() && random.nextInt(3) == 0) {
                UUID order = open.remove(random.nextInt(open.size()));
                await(handler.handle(AggregateType.CUSTOMER, customerId, new dev.orders.command.domain.CustomerCommand
                        .ReleaseCredit(customerId, order), EventMetadata.NONE, CommandHandler.InTransaction.nothing()));
            } else {
                UUID order = UUID.randomUUID();
                open.add(order);
                await(handler.handle(AggregateType.CUSTOMER, customerId, new ReserveCredit(customerId, order,
                        Money.parse(random.nextInt(1, 30) + ".00", "EUR")), EventMetadata.NONE,
                        CommandHandler.InTransaction.nothing()));
            }
            if (i % 37 == 0) {
                // the handler saves a due snapshot after the append's answer: wait for it, or the load races it
                long stored = storedEvents(customerId);
                if (stored >= SNAPSHOT_EVERY) {
                    awaitSnapshotAt(customerId, stored / SNAPSHOT_EVERY * SNAPSHOT_EVERY);
                }
                var loaded = await(handler.load(AggregateType.CUSTOMER, customerId));
                assertThat(loaded.eventsRead()).isLessThanOrEqualTo(SNAPSHOT_EVERY);
                assertThat(loaded.state()).as("after %d commands", i + 1).isEqualTo(replay(customerId));
            }
        }
    }

    private CustomerState replay(UUID customerId) throws Exception {
        List<EventEnvelope> all = await(store.load(pool, customerId, 0));
        CustomerState state = AggregateType.CUSTOMER.decider().initialState();
        for (EventEnvelope event : all) {
            state = AggregateType.CUSTOMER.decider().evolve(state, (dev.orders.events.CustomerEvent) event.event());
        }
        return state;
    }

    private void awaitSnapshotAt(UUID streamId, long version) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            Integer stored = await(pool.preparedQuery("SELECT version FROM snapshots WHERE stream_id = $1")
                    .execute(Tuple.of(streamId)).map(rows -> rows.size() == 0 ? null : rows.iterator().next().getInteger(0)));
            if (stored != null && stored == version) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no snapshot at version " + version);
    }

    /** The stream's stored events, counted in the table. */
    /** Stores a customer's snapshot as other code could have: any version, any schema, any text. */
    private void storeSnapshot(UUID customerId, int version, int schemaVersion, String state) throws Exception {
        await(pool.preparedQuery("INSERT INTO snapshots (stream_id, stream_type, version, schema_version, state) "
                + "VALUES ($1, 'customer', $2, $3, $4)").execute(Tuple.of(customerId, version, schemaVersion, state)));
    }

    private long storedEvents(UUID streamId) throws Exception {
        return await(pool.preparedQuery("SELECT count(*) FROM events WHERE stream_id = $1").execute(Tuple.of(streamId)))
                .iterator().next().getLong(0);
    }
}
