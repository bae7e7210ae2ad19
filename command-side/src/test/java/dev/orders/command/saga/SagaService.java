package dev.orders.command.saga;

import dev.orders.command.handling.CommandHandler;
import dev.orders.command.messaging.LocalHandOff;
import dev.orders.command.messaging.RelayVerticle;
import dev.orders.command.store.EventStore;
import dev.orders.command.store.Snapshots;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.sql.PgPools;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static dev.orders.command.saga.SagaWorld.await;

/**
 * One instance of the command side's background work, as a process would run it: its own Vert.x, pool
 * and command handler, the real relay (or, with {@code -Dorders.saga.testRelay=true}, the
 * {@link TestRelay} stand-in), the saga (handed the real relay's records as the command side wires them) and
 * the deadline poller. {@link #crash()} takes it down
 * the hard way: the pool's open transactions are cut and the saga's group loses what it committed since.
 */
final class SagaService implements AutoCloseable {

    final Vertx vertx;
    final Pool pool;
    final CommandHandler handler;
    private final OrdersConfig config;
    private final Duration deadlinePoll;
    private final Duration deadlineLease;
    /** Between the real relay and the saga, as the command side wires them ({@code saga.relay-handoff}). */
    private final LocalHandOff handOff;
    SagaVerticle saga;
    private TestRelay relay;
    DeadlineVerticle deadlines;
    private String sagaDeployment;
    private boolean closed;

    private SagaService(OrdersConfig config, Duration deadlinePoll, Duration deadlineLease) {
        this.config = config;
        this.deadlinePoll = deadlinePoll;
        this.deadlineLease = deadlineLease;
        this.vertx = Vertx.vertx();
        this.handOff = config.sagaRelayHandoff() ? LocalHandOff.create() : LocalHandOff.disabled();
        this.pool = PgPools.create(vertx, config.effectiveCommandPgUri(), 16, 10_000, "saga-service");
        this.handler = new CommandHandler(vertx, pool, new EventStore(), new Snapshots(), Clock.systemUTC(),
                UUID::randomUUID, config.snapshotEvery(), 8);
    }

    /** Starts the relay (if asked), the deadline poller and, if asked, the saga. */
    static SagaService start(OrdersConfig config, boolean withSaga, Duration deadlinePoll, Duration deadlineLease)
            throws Exception {
        return start(config, true, withSaga, deadlinePoll, deadlineLease);
    }

    static SagaService start(OrdersConfig config, boolean withRelay, boolean withSaga, Duration deadlinePoll,
                             Duration deadlineLease) throws Exception {
        SagaService service = new SagaService(config, deadlinePoll, deadlineLease);
        if (withRelay) {
            service.startRelay();
        }
        service.deadlines = new DeadlineVerticle(service.handler, service.pool, deadlinePoll, deadlineLease);
        await(service.vertx.deployVerticle(service.deadlines));
        if (withSaga) {
            service.deploySaga();
        }
        return service;
    }

    /** Starts the relay: the real one, handing over to the saga, or the test's stand-in ({@code orders.saga.testRelay}). */
    void startRelay() throws Exception {
        if (!Boolean.getBoolean("orders.saga.testRelay")) {
            await(vertx.deployVerticle(new RelayVerticle(config, config.effectiveCommandPgUri(), config.kafkaBootstrap(),
                    handOff)));
        } else {
            relay = new TestRelay(vertx, pool, config.kafkaBootstrap(), config.kafkaTopicPrefix());
            await(relay.start());
        }
    }

    static SagaService start(OrdersConfig config) throws Exception {
        return start(config, true, Duration.ofMillis(200), Duration.ofSeconds(5));
    }

    void deploySaga() throws Exception {
        saga = new SagaVerticle(config, handler, new SagaDeadLetters(handler, config.sagaCreditCheckTimeout()),
                config.kafkaBootstrap(), handOff);
        sagaDeployment = await(vertx.deployVerticle(saga));
    }

    void undeploySaga() throws Exception {
        await(vertx.undeploy(sagaDeployment));
    }

    /**
     * A crash stand-in, done from the outside: the offsets the saga's group has committed are noted, the pool is
     * closed (its open transactions are cut, as a dead process's are), the instance goes, and the group's offsets
     * are put back where they were: what the saga handled and committed since is delivered again, as after a
     * crash that lost its last commits.
     */
    void crash() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", config.kafkaBootstrap()))) {
            Map<TopicPartition, OffsetAndMetadata> before = committed(admin);
            closed = true;
            await(pool.close());
            stopRelay();
            await(vertx.close());
            // the group is empty now: its offsets can be set
            Set<TopicPartition> since = new HashSet<>(committed(admin).keySet());
            since.removeAll(before.keySet());
            if (!since.isEmpty()) {
                admin.deleteConsumerGroupOffsets(config.sagaGroupId(), since).all().get();
            }
            if (!before.isEmpty()) {
                admin.alterConsumerGroupOffsets(config.sagaGroupId(), before).all().get();
            }
        }
    }

    private Map<TopicPartition, OffsetAndMetadata> committed(Admin admin) throws Exception {
        return admin.listConsumerGroupOffsets(config.sagaGroupId()).partitionsToOffsetAndMetadata().get();
    }

    private void stopRelay() throws Exception {
        if (relay != null) {
            await(relay.stop());
        }
    }

    @Override
    public void close() throws Exception {
        if (!closed) {
            closed = true;
            stopRelay();
            await(vertx.close());
        }
    }
}
