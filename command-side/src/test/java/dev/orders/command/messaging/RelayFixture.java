package dev.orders.command.messaging;

import dev.orders.command.store.AppendSignal;
import dev.orders.command.store.CommandSchema;
import dev.orders.command.store.EventStore;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent.OrderApproved;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.events.StreamType;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.sql.PgPools;
import dev.orders.testsupport.EarlierMigrationRunner;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** One test's own database and topics, a pool on it, and the relays it deployed. */
final class RelayFixture implements AutoCloseable {

    static final Money ONE = Money.parse("1.00", "EUR");

    final Vertx vertx;
    final OrdersConfig config;
    final String pgUri;
    final Pool pool;
    final EventStore store = new EventStore();
    private final Map<RelayVerticle, String> deployments = new LinkedHashMap<>();

    RelayFixture(Vertx vertx, OrdersConfig config) {
        this(vertx, config, null);
    }

    /**
     * A store that an earlier release wrote: its schema as the earlier migration runner left it (before V11, when
     * the relay stamped each published event), {@code earlierState} written on it, then every script since.
     */
    static RelayFixture upgradedFrom(Vertx vertx, OrdersConfig config, Consumer<RelayFixture> earlierState) {
        return new RelayFixture(vertx, config, earlierState);
    }

    private RelayFixture(Vertx vertx, OrdersConfig config, Consumer<RelayFixture> earlierState) {
        this.vertx = vertx;
        this.config = config;
        this.pgUri = config.effectiveCommandPgUri();
        this.pool = PgPools.create(vertx, pgUri, 24, 2000, "relay-test");
        if (earlierState != null) {
            await(EarlierMigrationRunner.migrate(pool, EarlierMigrationRunner.COMMAND));
            earlierState.accept(this);
        }
        await(CommandSchema.MIGRATIONS.migrate(vertx, pgUri));
    }

    RelaySettings settings(int batchSize) {
        return RelaySettings.from(config).withBatchSize(batchSize)
                .withObserveInterval(Duration.ofMillis(300), Duration.ofSeconds(2));
    }

    RelayVerticle deploy(RelaySettings settings, String bootstrap) {
        return deploy(settings, bootstrap, new RelayBatches());
    }

    /** Deploys a relay that reads and records its batches through {@code batches} (a test's faulty one). */
    RelayVerticle deploy(RelaySettings settings, String bootstrap, RelayBatches batches) {
        RelayVerticle relay = new RelayVerticle(settings, pgUri, bootstrap, batches);
        deployments.put(relay, await(vertx.deployVerticle(relay)));
        return relay;
    }

    void undeploy(RelayVerticle relay) {
        await(undeployLater(relay));
    }

    /** Starts undeploying the relay; the future completes when its {@code stop()} has. */
    Future<Void> undeployLater(RelayVerticle relay) {
        return vertx.undeploy(deployments.remove(relay));
    }

    /**
     * The configuration of a Kafka broker of the test's own (on a fixed port, so that it can be stopped and
     * started again where the relay expects it), PostgreSQL as before; start it with {@code Infrastructure.start}.
     */
    OrdersConfig privateBrokerConfig() {
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "relay-kafka-");
            return config.with(Map.of("kafka.bootstrap", "", "kafka.embedded.port",
                    Integer.toString(RelayChecks.freePort()), "data.dir", dir.toString(), "clean", "true"));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Appends {@code count} events to a customer stream, inside the caller's transaction. */
    Future<List<EventEnvelope>> append(SqlConnection tx, UUID stream, long expectedVersion, int count) {
        List<EventEnvelope> events = new ArrayList<>(count);
        for (int i = 1; i <= count; i++) {
            long version = expectedVersion + i;
            DomainEvent event = version == 1 ? new CustomerCreated(stream, "customer", Money.parse("100.00", "EUR"))
                    : new CreditReserved(stream, UUID.randomUUID(), ONE);
            events.add(new EventEnvelope(UUID.randomUUID(), version, 0, Instant.now(), 0,
                    new EventMetadata("corr-" + stream, null, null, null), event));
        }
        return store.append(tx, StreamType.CUSTOMER, stream, expectedVersion, events).map(events);
    }

    /** Creates an order of {@code customer} and approves it: two events on the order's stream, committed. */
    List<EventEnvelope> appendOrderNow(UUID order, UUID customer) {
        List<EventEnvelope> events = List.of(
                new EventEnvelope(UUID.randomUUID(), 1, 0, Instant.now(), 0, new EventMetadata("corr-" + order, null,
                        null, null), new OrderCreated(order, customer, ONE)),
                new EventEnvelope(UUID.randomUUID(), 2, 0, Instant.now(), 0, new EventMetadata("corr-" + order, null,
                        null, null), new OrderApproved(order, customer)));
        await(pool.withTransaction(tx -> store.append(tx, StreamType.ORDER, order, 0, events)));
        committed();
        return events;
    }

    /** Appends in a transaction of its own that stays open for a random while before it commits. */
    Future<List<EventEnvelope>> appendSlowly(UUID stream, long expectedVersion, int count, int maxDelayMillis) {
        long delay = 1 + ThreadLocalRandom.current().nextInt(Math.max(1, maxDelayMillis));
        return pool.withTransaction(tx -> append(tx, stream, expectedVersion, count)
                .compose(events -> vertx.timer(delay).map(events))).onSuccess(events -> committed());
    }

    /** Appends in a transaction of its own and, once it committed, signals the relay as the command side does. */
    List<EventEnvelope> appendNow(UUID stream, long expectedVersion, int count) {
        List<EventEnvelope> events = appendQuietly(stream, expectedVersion, count);
        committed();
        return events;
    }

    /** Appends in a transaction of its own, and signals nobody. */
    List<EventEnvelope> appendQuietly(UUID stream, long expectedVersion, int count) {
        return await(pool.withTransaction(tx -> append(tx, stream, expectedVersion, count)));
    }

    /** What the command side does after every commit that appended events. */
    void committed() {
        AppendSignal.committed(vertx);
    }

    Row one(String sql, Object... params) {
        return await(pool.preparedQuery(sql).execute(Tuple.from(params))).iterator().next();
    }

    io.vertx.sqlclient.RowSet<Row> rows(String sql, Object... params) {
        return await(pool.preparedQuery(sql).execute(Tuple.from(params)));
    }

    /**
     * Ends the database session holding the relay's lease (as a dead host's is ended), found where PostgreSQL
     * shows it: the granted advisory lock on {@link RelaySql#LEASE_KEY} in this test's database.
     */
    void terminateLeaseHolder() {
        Row ended = one("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_locks"
                + " WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                + " AND classid::bigint = ($1::bigint >> 32) AND objid::bigint = ($1::bigint & 4294967295)",
                RelaySql.LEASE_KEY);
        if (ended.getLong(0) != 1) {
            throw new IllegalStateException("no session holds the relay's lease");
        }
    }

    long checkpoint() {
        return one("SELECT last_position FROM relay_checkpoint WHERE id = 1").getLong(0);
    }

    static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("future did not succeed: " + e, e);
        }
    }

    static void eventually(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            sleep(50);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        for (String id : deployments.values()) {
            vertx.undeploy(id).toCompletionStage().toCompletableFuture().exceptionally(e -> null).join();
        }
        pool.close();
    }
}
