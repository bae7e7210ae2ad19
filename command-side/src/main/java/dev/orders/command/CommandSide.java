package dev.orders.command;

import dev.orders.command.handling.CommandHandler;
import dev.orders.command.http.CommandRoutes;
import dev.orders.command.http.IdempotencyRetention;
import dev.orders.command.http.OpenApiDocument;
import dev.orders.command.http.SagaControlRoutes;
import dev.orders.command.http.SagaDeadLetterRoutes;
import dev.orders.command.messaging.LocalHandOff;
import dev.orders.command.messaging.RelayVerticle;
import dev.orders.command.saga.DeadlineVerticle;
import dev.orders.command.saga.SagaDeadLetters;
import dev.orders.command.saga.SagaVerticle;
import dev.orders.command.store.CommandSchema;
import dev.orders.command.store.EventStore;
import dev.orders.command.store.Snapshots;
import dev.orders.events.EventJson;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.infra.kafka.ConsumerLag;
import dev.orders.infra.kafka.EventTopics;
import dev.orders.service.ServicePart;
import dev.orders.service.http.ContractRequests;
import dev.orders.service.http.Health;
import dev.orders.service.metrics.MetricsEndpoint;
import dev.orders.service.sql.PgPools;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The command side, composed: its pool and schema, the command API, the relay that publishes the
 * event store to Kafka, and the saga. Deployable on its own ({@link CommandMain}) or beside the query
 * side in one process. With {@code command.workers=false} it is an API-only node: it appends, and the relay,
 * the saga and their kin run in the processes that have them on (several may: one relay holds the lease,
 * the sagas share the consumer group).
 */
public final class CommandSide implements ServicePart {

    private static final Logger LOG = LoggerFactory.getLogger(CommandSide.class);
    private static final int MAX_COMMAND_ATTEMPTS = 8;

    private final Vertx vertx;
    private final OrdersConfig config;
    private final Pool pool;
    private final String pgUri;
    private final String kafkaBootstrap;
    private final CommandHandler handler;
    private final CommandRoutes routes;
    /** The requests of the served OpenAPI document, which every route with parameters or a body checks. */
    private final ContractRequests contract;
    private final SagaDeadLetters sagaDeadLetters;
    private final List<String> deployments = new ArrayList<>();
    private final PrometheusMeterRegistry registry = MetricsEndpoint.newRegistry();
    /** For the readiness check of the topics; null where the workers do not run (an API-only node). */
    private KafkaAdminClient admin;
    private RelayVerticle relay;
    private SagaVerticle saga;
    private DeadlineVerticle deadlines;
    private IdempotencyRetention idempotencyRetention;
    /** Whether this process runs the workers (relay, saga, deadlines, key pruning): {@code command.workers}. */
    private final boolean workers;

    private CommandSide(Vertx vertx, OrdersConfig config, Pool pool, String pgUri, String kafkaBootstrap,
                        ContractRequests contract) {
        this.vertx = vertx;
        this.config = config;
        this.pool = pool;
        this.pgUri = pgUri;
        this.kafkaBootstrap = kafkaBootstrap;
        Clock clock = Clock.systemUTC();
        this.handler = new CommandHandler(vertx, pool, new EventStore(), new Snapshots(), clock, UUID::randomUUID,
                config.snapshotEvery(), MAX_COMMAND_ATTEMPTS, registry, config.commandGroupCommit(),
                config.pgPoolMaxWaitQueue());
        this.contract = contract;
        this.routes = new CommandRoutes(handler, pool, contract, UUID::randomUUID);
        this.sagaDeadLetters = new SagaDeadLetters(handler, config.sagaCreditCheckTimeout());
        this.workers = config.commandWorkers();
    }

    /**
     * Loads the OpenAPI document the requests are checked against, creates the pool, migrates the schema and
     * starts the background workers (relay, saga).
     */
    public static Future<CommandSide> deploy(Vertx vertx, OrdersConfig config, String pgUri, String kafkaBootstrap) {
        return ContractRequests.load(vertx, OpenApiDocument.load())
                .compose(contract -> deploy(vertx, config, pgUri, kafkaBootstrap, contract));
    }

    private static Future<CommandSide> deploy(Vertx vertx, OrdersConfig config, String pgUri, String kafkaBootstrap,
                                              ContractRequests contract) {
        Pool pool = PgPools.create(vertx, pgUri, config.pgPoolSize(), config.pgPoolMaxWaitQueue(), "command",
                config.pgSessions());
        CommandSide side = new CommandSide(vertx, config, pool, pgUri, kafkaBootstrap, contract);
        return vertx.executeBlocking(EventJson::prepare)
                .compose(prepared -> CommandSchema.MIGRATIONS.migrate(vertx, pgUri))
                .recover(failure -> Future.failedFuture(new IllegalStateException("cannot use PostgreSQL at "
                        + describe(pgUri) + ": " + failure.getMessage(), failure)))
                // an API-only node never talks to Kafka: it opens no client to it
                .compose(ignored -> side.workers ? EventTopics.admin(vertx, kafkaBootstrap).map(admin -> side.admin = admin)
                        : Future.succeededFuture())
                .compose(ignored -> side.deployWorkers())
                .map(side)
                .onFailure(failure -> {
                    if (side.admin != null) {
                        EventTopics.close(side.admin);
                    }
                    pool.close();
                });
    }

    private static String describe(String uri) {
        var options = PgPools.connectOptions(uri);
        return options.getHost() + ":" + options.getPort() + "/" + options.getDatabase() + " as " + options.getUser();
    }

    /**
     * The relay (event store to Kafka), the saga (Kafka to commands), its deadlines and the pruning of old
     * idempotency keys: one verticle each.
     */
    private Future<Void> deployWorkers() {
        if (!workers) {
            LOG.info("command.workers=false: this process serves the command API only; the relay, the saga, its"
                    + " deadlines and the pruning of Idempotency-Keys run where command.workers is true");
            return Future.succeededFuture();
        }
        LocalHandOff handOff = config.sagaRelayHandoff() ? LocalHandOff.create() : LocalHandOff.disabled();
        relay = new RelayVerticle(config, pgUri, kafkaBootstrap, handOff);
        saga = new SagaVerticle(config, handler, sagaDeadLetters, kafkaBootstrap, handOff);
        deadlines = new DeadlineVerticle(handler, pool);
        idempotencyRetention = new IdempotencyRetention(pool, config.idempotencyRetention());
        bindWorkerMetrics();
        return sagaDeadLetters.refreshCount()
                .compose(ignored -> deploy(relay, "relay"))
                .compose(ignored -> deploy(saga, "saga"))
                .compose(ignored -> deploy(deadlines, "saga deadlines"))
                .compose(ignored -> deploy(idempotencyRetention, "idempotency-key retention"));
    }

    private void bindWorkerMetrics() {
        Gauge.builder("orders.relay.unpublished", relay, r -> r.metrics().unpublished())
                .description("events committed but not yet published").register(registry);
        Gauge.builder("orders.relay.lag.seconds", relay, r -> r.metrics().secondsBehind())
                .description("age of the oldest unpublished event").register(registry);
        Gauge.builder("orders.relay.horizon.held.seconds", relay, r -> r.metrics().horizonHeldSeconds())
                .description("how long the transaction that committed events wait behind has been running;"
                        + " 0 when none waits").register(registry);
        Gauge.builder("orders.relay.inflight", relay, r -> r.metrics().inFlight())
                .description("events sent to Kafka and not yet recorded as published").register(registry);
        Gauge.builder("orders.relay.position", relay, r -> r.metrics().lastPosition())
                .description("last global position published").register(registry);
        Gauge.builder("orders.relay.active", relay, r -> "active".equals(r.metrics().role()) ? 1 : 0)
                .description("1 while this instance holds the relay lease").register(registry);
        FunctionCounter.builder("orders.relay.published", relay, r -> r.metrics().publishedTotal())
                .description("events published to Kafka").register(registry);
        FunctionCounter.builder("orders.saga.records.handled", saga, SagaVerticle::handledRecords)
                .description("saga input events handled").register(registry);
        FunctionCounter.builder("orders.saga.records.skipped", saga, SagaVerticle::skippedRecords)
                .description("saga input events whose command the domain refused").register(registry);
        FunctionCounter.builder("orders.saga.handoff.taken", saga, SagaVerticle::handOffsTaken)
                .description("records the relay of this process handed to the saga and the saga took").register(registry);
        FunctionCounter.builder("orders.saga.handoff.dropped", saga, SagaVerticle::handOffsDropped)
                .description("records the relay handed over that the saga left to Kafka (not the offset it expected"
                        + " next, or paused)").register(registry);
        FunctionCounter.builder("orders.saga.handoff.kafka.skipped", saga, SagaVerticle::kafkaCopiesSkipped)
                .description("records polled from Kafka and skipped, their handed-over copy taken").register(registry);
        FunctionCounter.builder("orders.saga.committed.taken", saga, SagaVerticle::committedTaken)
                .description("events committed in this process that the saga reacted to before Kafka brought them")
                .register(registry);
        FunctionCounter.builder("orders.saga.committed.left", saga, SagaVerticle::committedLeft)
                .description("events committed in this process that the saga left to Kafka (another instance's"
                        + " partition, paused, not their stream's next version, or their reaction failed)")
                .register(registry);
        FunctionCounter.builder("orders.saga.committed.kafka.skipped", saga, SagaVerticle::committedCopiesSkipped)
                .description("records from Kafka the saga skipped: copies of events it reacted to when they were"
                        + " committed here").register(registry);
        Gauge.builder("orders.saga.dead.letters", sagaDeadLetters, SagaDeadLetters::parkedCount)
                .description("saga input records parked and not re-driven").register(registry);
        Gauge.builder("orders.saga.records.inflight", saga, SagaVerticle::recordsInFlight)
                .description("saga input events waiting or in progress").register(registry);
        saga.lag().bindTo(registry, "orders.saga.consumer.lag", "records of the partition the saga has not handled yet",
                EventTopics.of(config).topicPartitions());
        Gauge.builder("orders.saga.deadlines.pending", deadlines, DeadlineVerticle::deadlinesPending)
                .description("orders whose credit check went unanswered, waiting to time out").register(registry);
        FunctionCounter.builder("orders.saga.deadlines.fired", deadlines, DeadlineVerticle::deadlinesFired)
                .description("orders rejected because their credit check timed out").register(registry);
        FunctionCounter.builder("orders.idempotency.keys.forgotten", idempotencyRetention, IdempotencyRetention::forgotten)
                .description("Idempotency-Keys older than idempotency.retention deleted by this process").register(registry);
    }

    /** Whether this process runs the relay and the saga ({@code command.workers}), and so has their figures. */
    public boolean runsWorkers() {
        return workers;
    }

    /**
     * The relay's and the saga's figures now, from memory (no I/O): {@code {"relay": {role, unpublished,
     * secondsBehind, lastPosition, ...}, "saga": {recordsBehind, partitions: {topic-partition: lag},
     * inFlight, deadlinesPending}}}. The operators' status stream shows them where both sides share a process.
     * Only where this process {@linkplain #runsWorkers runs the workers}.
     */
    public JsonObject statusFigures() {
        ConsumerLag.Reading lag = saga.lag().latest();
        JsonObject partitions = new JsonObject();
        for (TopicPartition partition : EventTopics.of(config).topicPartitions()) {
            partitions.put(ConsumerLag.name(partition), lag.of(ConsumerLag.name(partition)));
        }
        long behind = lag.total();
        return new JsonObject()
                .put("relay", relay.metrics().toJson())
                .put("saga", new JsonObject().put("recordsBehind", behind).put("partitions", partitions)
                        .put("inFlight", saga.recordsInFlight()).put("deadlinesPending", deadlines.deadlinesPending())
                        .put("deadLetters", sagaDeadLetters.parkedCount()));
    }

    /** This side's meters, for {@code GET /metrics}. */
    public PrometheusMeterRegistry meterRegistry() {
        return registry;
    }

    @Override
    public List<PrometheusMeterRegistry> meterRegistries() {
        return List.of(registry);
    }

    private Future<Void> deploy(VerticleBase verticle, String name) {
        return vertx.deployVerticle(verticle)
                .onSuccess(deployments::add)
                .onSuccess(id -> LOG.info("{} started", name))
                .mapEmpty();
    }

    /** Mounts the command API on a router made by {@code ApiRouter}. */
    @Override
    public void mount(Router router) {
        routes.mount(router);
        new dev.orders.command.http.EventFeedRoutes(pool, contract).mount(router);
        new SagaDeadLetterRoutes(sagaDeadLetters, contract).mount(router);
        new SagaControlRoutes(saga).mount(router);
    }

    /**
     * Adds this side's readiness checks: PostgreSQL answers; where the workers run, the relay's figures and the
     * topics exist (the relay creates them; an API-only node never sends to Kafka).
     */
    @Override
    public Health readiness(Health health) {
        health.check("command-postgres", () -> pool.query("SELECT 1").execute().map(rows -> new JsonObject()));
        if (workers) {
            health.check("relay", () -> relay.readiness())
                    .check("kafka-topics", () -> EventTopics.of(config).check(admin));
        }
        return health;
    }

    public CommandHandler handler() {
        return handler;
    }

    public Pool pool() {
        return pool;
    }

    @Override
    public Future<Void> close() {
        List<Future<Void>> undeployed = deployments.stream().map(vertx::undeploy).toList();
        return Future.join(undeployed).eventually(() -> admin == null ? Future.succeededFuture() : EventTopics.close(admin))
                .transform(ignored -> pool.close())
                .onComplete(done -> LOG.info("command side stopped"));
    }

    OrdersConfig config() {
        return config;
    }

    String pgUri() {
        return pgUri;
    }

    String kafkaBootstrap() {
        return kafkaBootstrap;
    }
}
