package dev.orders.query;

import dev.orders.events.EventJson;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.query.http.OperatorRoutes;
import dev.orders.query.http.QueryApiDocument;
import dev.orders.query.http.QueryRoutes;
import dev.orders.query.http.RebuildRoutes;
import dev.orders.query.rebuild.Rebuilder;
import dev.orders.query.http.ReadGate;
import dev.orders.query.messaging.Projectors;
import dev.orders.query.rebuild.SchemaRecovery;
import dev.orders.infra.kafka.ConsumerLag;
import dev.orders.infra.kafka.EventTopics;
import dev.orders.events.Topics;
import dev.orders.query.push.OperatorStreamSettings;
import dev.orders.query.push.OperatorStreams;
import dev.orders.query.push.PushHub;
import dev.orders.query.push.PushSettings;
import dev.orders.query.status.LatencyWindow;
import dev.orders.query.status.StatusStream;
import dev.orders.query.store.ProjectionStore;
import dev.orders.query.store.ReadStore;
import dev.orders.query.store.ReadStore.CheckpointRow;
import dev.orders.service.http.ContractRequests;
import dev.orders.service.ServicePart;
import dev.orders.service.http.Health;
import dev.orders.service.security.OriginPolicy;
import dev.orders.service.security.Security;
import dev.orders.service.metrics.MetricsEndpoint;
import dev.orders.service.sql.Migrations;
import dev.orders.service.sql.PgPools;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The query side, composed: its PostgreSQL pool and schema, the projector(s), the query routes, the
 * push hub, and the readiness checks. Deployable on its own or inside the all-in-one process.
 */
public final class QuerySide implements ServicePart {

    private static final Logger LOG = LoggerFactory.getLogger(QuerySide.class);
    /** Events per page of the event feed, and per transaction, of a rebuild. */
    private static final int REBUILD_PAGE_SIZE = 5_000;
    /**
     * The query side's schema: its scripts are {@code db/query/V<n>__<description>.sql}, found there by
     * Flyway (also what tests of its parts migrate a database with).
     */
    public static final Migrations MIGRATIONS = new Migrations("query", "db/query");

    private final Vertx vertx;
    private final OrdersConfig config;
    private final Pool pool;
    private final PgConnectOptions connect;
    private final ProjectionStore projection;
    private final Projectors projectors;
    private final ReadGate gate;
    private final SchemaRecovery recovery;
    private final KafkaAdminClient admin;
    private final ReadStore reads;
    private final QueryRoutes routes;
    private final ContractRequests contract;
    private final PushHub push;
    private final Rebuilder rebuilder;
    private final PrometheusMeterRegistry registry = MetricsEndpoint.newRegistry();
    private final QueryMetrics metrics;
    /** The projector's lag: the topics' end offsets against its checkpoints. */
    private final ConsumerLag projectionLag = new ConsumerLag();
    private final OperatorStreams operatorStreams;
    private final StatusStream status;

    private QuerySide(Vertx vertx, OrdersConfig config, Pool pool, PgConnectOptions connect, KafkaAdminClient admin,
                      ProjectionStore projection, Projectors projectors, ReadGate gate, ReadStore reads,
                      QueryRoutes routes, PushHub push, PushSettings pushSettings, ContractRequests contract) {
        this.vertx = vertx;
        this.contract = contract;
        this.config = config;
        this.pool = pool;
        this.connect = connect;
        this.projection = projection;
        this.projectors = projectors;
        this.gate = gate;
        this.admin = admin;
        this.reads = reads;
        this.routes = routes;
        this.push = push;
        Security security = Security.create(vertx, config.securitySettings());
        this.rebuilder = new Rebuilder(vertx, connect, config.effectiveEventFeedUrl(), REBUILD_PAGE_SIZE,
                security::serviceToken);
        projectionLag.bindTo(registry, "orders.consumer.lag", "records behind per topic-partition",
                EventTopics.of(config).topicPartitions());
        this.metrics = new QueryMetrics(vertx, registry, config.metricsRefreshInterval(), reads::pendingDeadLetters,
                this::lag, push.metrics());
        this.recovery = new SchemaRecovery(vertx, reads::schemaState, new Recovery());
        recovery.bindTo(registry);
        this.operatorStreams = new OperatorStreams(vertx, pool, push, pushSettings, OperatorStreamSettings.of(config));
        LatencyWindow latency = new LatencyWindow(Clock.systemUTC());
        push.observe(latency::observe);
        this.status = new StatusStream(vertx, reads, this::lag, push.metrics(), latency,
                new OriginPolicy(pushSettings.allowedOrigins()));
        rebuilder.headPosition(() -> lag().map(json -> json.getLong("lastAppliedPosition", 0L)));
    }

    /** What a lost schema's recovery does here (see {@link SchemaRecovery}). */
    private final class Recovery implements SchemaRecovery.Steps {

        @Override
        public Future<Void> suspend() {
            gate.shut();
            push.suspend();
            return operatorStreams.close().compose(v -> projectors.stop());
        }

        @Override
        public Future<Void> recreate() {
            // Above every id of the lost log: its positions were below this process's follower's and below the
            // clock in microseconds (which a log started at an earlier recovery's clock would need more than a
            // change per microsecond to pass).
            long floor = Math.max(push.followerPosition() + 1,
                    TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()));
            return MIGRATIONS.migrate(vertx, connect).compose(applied -> projection.raiseChangePositions(floor));
        }

        @Override
        public Future<Void> refill() {
            return rebuilder.restore(events -> projection.applyFromFeed(events, projectors.batchSize()));
        }

        @Override
        public Future<Void> resume() {
            return push.resume().onSuccess(v -> gate.open()).compose(v -> projectors.start());
        }
    }

    /** This side's meters, for {@code GET /metrics}. */
    public PrometheusMeterRegistry meterRegistry() {
        return registry;
    }

    @Override
    public List<PrometheusMeterRegistry> meterRegistries() {
        return List.of(registry);
    }

    public static Future<QuerySide> deploy(Vertx vertx, OrdersConfig config, String queryPgUri, String kafkaBootstrap) {
        return deploy(vertx, config, queryPgUri, kafkaBootstrap, QueryOptions.defaults());
    }

    /**
     * Loads the OpenAPI document the requests are checked against, creates the pool (sized by {@code pg.pool.size}, wait queue bounded by {@code pg.pool.max-wait-queue}),
     * migrates the {@code query} schema, makes sure the topics exist, deploys the projector(s) and
     * starts the push hub.
     */
    public static Future<QuerySide> deploy(Vertx vertx, OrdersConfig config, String queryPgUri, String kafkaBootstrap,
                                           QueryOptions options) {
        return ContractRequests.load(vertx, QueryApiDocument.load())
                .compose(contract -> deploy(vertx, config, queryPgUri, kafkaBootstrap, options, contract));
    }

    private static Future<QuerySide> deploy(Vertx vertx, OrdersConfig config, String queryPgUri, String kafkaBootstrap,
                                            QueryOptions options, ContractRequests contract) {
        PgConnectOptions connect = PgConnectOptions.fromUri(queryPgUri);
        // sized by pg.pool.size, its wait queue bounded, its sessions named and bounded, as the command side's
        // (one builder: PgPools); the rebuild's and the push hub's own connections keep the server's defaults
        Pool pool = PgPools.create(vertx, queryPgUri, config.pgPoolSize(), config.pgPoolMaxWaitQueue(), "query",
                config.pgSessions());
        ProjectionStore projection = new ProjectionStore(vertx, pool);
        ReadStore reads = new ReadStore(pool);
        String prefix = config.kafkaTopicPrefix();
        ReadGate gate = new ReadGate();
        Projectors projectors = new Projectors(vertx, projection, kafkaBootstrap, prefix, config.projectorGroupId(),
                options.projectors(), options.projectorBatchSize());
        PushSettings pushSettings = PushSettings.defaults().withAllowedOrigins(config.corsOrigins())
                .withRetention(PushSettings.Retention.of(config.pushRetention(), config.pushRetentionChanges()));
        // the admin client is constructed on a worker (constructing a Kafka client blocks), as the command side's
        return vertx.executeBlocking(EventJson::prepare)
                .compose(prepared -> EventTopics.admin(vertx, kafkaBootstrap))
                .recover(failure -> pool.close().transform(ignored -> Future.failedFuture(failure)))
                .compose(admin -> MIGRATIONS.migrate(vertx, connect)
                        .compose(applied -> EventTopics.of(config).prepare(admin))
                        .compose(v -> unreadHistory(reads, projectors, admin))
                        // an empty schema over history Kafka does not give: the projectors start after the fill
                        .compose(unread -> (unread.isEmpty() ? projectors.start() : Future.<Void>succeededFuture())
                                // ---- push hub hook: dev.orders.query.push.PushHub follows order_changes (LISTEN) ----
                                .compose(v -> PushHub.start(vertx, pool, connect, pushSettings))
                                .map(push -> {
                                    QueryRoutes routes = new QueryRoutes(vertx, reads, projection,
                                            options.minVersionWait(), gate, contract);
                                    LOG.info("query side up: topics {}, {} projector(s)", Topics.all(prefix),
                                            options.projectors());
                                    QuerySide side = new QuerySide(vertx, config, pool, connect, admin, projection,
                                            projectors, gate, reads, routes, push, pushSettings, contract);
                                    if (unread.isEmpty()) {
                                        side.recovery.start();
                                    } else {
                                        side.recovery.startFilling("group " + config.projectorGroupId()
                                                + " would begin at " + unread);
                                    }
                                    return side;
                                }))
                        .recover(failure -> projectors.stop().eventually(() -> EventTopics.close(admin)).eventually(pool::close)
                                .transform(ignored -> Future.failedFuture(failure))));
    }

    /**
     * What Kafka will not give the projectors of a schema that has projected nothing yet (see
     * {@link Projectors#unreadHistory}); empty for a schema that has projected something, whose checkpoints
     * say where its projectors go on.
     */
    private static Future<Map<TopicPartition, Long>> unreadHistory(ReadStore reads, Projectors projectors,
                                                                   KafkaAdminClient admin) {
        return reads.projectedNothing().compose(nothing -> nothing
                ? projectors.unreadHistory(admin)
                : Future.succeededFuture(Map.of()));
    }

    /** Mounts the query routes and the push hub's streams. The caller adds body handling and auth around it. */
    @Override
    public void mount(Router router) {
        router.get(OperatorStreams.PATH).handler(ctx -> {
            gate.check();
            ctx.next();
        });
        operatorStreams.mount(router, contract);
        new OperatorRoutes(reads, gate, contract).mount(router);
        status.mount(router);
        routes.mount(router);
        new RebuildRoutes(rebuilder).mount(router);
        push.mount(router, contract);
    }

    /** The operators' status stream; the all-in-one mode gives it the command side's figures. */
    public StatusStream status() {
        return status;
    }

    /** The zero-downtime rebuild of the projections ({@code POST/GET /api/admin/rebuild}). */
    public Rebuilder rebuilder() {
        return rebuilder;
    }

    /** Adds this side's readiness checks: PostgreSQL answers, Kafka answers, and the projection's lag. */
    @Override
    public Health readiness(Health health) {
        return health
                .check("query-postgres", () -> reads.ping().map(v -> new JsonObject()))
                .check("query-schema", recovery::check)
                .check("kafka", () -> admin.describeCluster()
                        .map(cluster -> new JsonObject().put("brokers", cluster.getNodes().size())))
                .check("kafka-topics", () -> EventTopics.of(config).check(admin))
                .check("projection", this::lag);
    }

    /**
     * The projection's lag: records not yet applied per topic-partition (end offset minus checkpoint),
     * their sum, the last applied global position, and seconds since the last applied event occurred
     * while records are waiting (0 when caught up).
     */
    public Future<JsonObject> lag() {
        Future<List<CheckpointRow>> checkpoints = reads.checkpoints();
        return projectionLag.read(admin, EventTopics.of(config).topicPartitions(), partitions -> checkpoints.map(rows -> {
            Map<TopicPartition, Long> next = new HashMap<>();
            rows.forEach(c -> next.put(new TopicPartition(c.topic(), c.partition()), c.nextOffset()));
            return next;
        })).map(lag -> {
            long lastPosition = 0;
            Instant lastOccurred = null;
            for (CheckpointRow c : checkpoints.result()) {
                lastPosition = Math.max(lastPosition, c.lastPosition());
                if (c.lastOccurredAt() != null && (lastOccurred == null || c.lastOccurredAt().isAfter(lastOccurred))) {
                    lastOccurred = c.lastOccurredAt();
                }
            }
            long behind = lag.total();
            long seconds = behind == 0 || lastOccurred == null ? 0
                    : Math.max(0, Duration.between(lastOccurred, Instant.now()).toSeconds());
            return new JsonObject().put("recordsBehind", behind).put("secondsBehind", seconds)
                    .put("lastAppliedPosition", lastPosition).put("partitions", lag.toJson());
        });
    }

    public Pool pool() {
        return pool;
    }

    public PushHub push() {
        return push;
    }

    /** The push hub's drain: SSE {@code event: reconnect}, WebSocket close 1012, new streams {@code 503}. */
    @Override
    public Future<Void> endStreams() {
        return push.drain();
    }

    @Override
    public Future<Void> close() {
        metrics.close();
        status.close();
        recovery.close();
        List<Future<?>> steps = new ArrayList<>();
        steps.add(operatorStreams.close());
        steps.add(projectors.stop());
        steps.add(push.close());
        steps.add(rebuilder.close());
        return Future.join(steps).eventually(() -> EventTopics.close(admin)).eventually(pool::close).mapEmpty();
    }
}
