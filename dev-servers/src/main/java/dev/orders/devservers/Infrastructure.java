package dev.orders.devservers;

import dev.orders.infra.Servers;
import dev.orders.infra.config.OrdersConfig;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL and Kafka for one process, decided per part: a URI or bootstrap given in the
 * configuration is used as it is; otherwise, when a Docker engine answers, Testcontainers starts the
 * server; otherwise an embedded server starts, its data in {@code data.dir}, so a restart keeps them.
 *
 * <p>Each side owns its data: the command side gets role {@value PgProvisioner#COMMAND_ROLE} with schema
 * {@value PgProvisioner#COMMAND_SCHEMA}, the query side role {@value PgProvisioner#QUERY_ROLE} with schema
 * {@value PgProvisioner#QUERY_SCHEMA}, in database {@value #DATABASE} (when this class started the server).
 *
 * <p>{@link #start} blocks: call it from {@code main()} before Vert.x starts, never on an event loop.
 * {@link #close()} stops what runs on it, then what was started; a shutdown hook does the same on Ctrl-C or
 * SIGTERM ({@link Servers}).
 */
public final class Infrastructure extends Servers {

    /** The database that this class creates on a server it started. */
    public static final String DATABASE = "orders";

    private static final Logger LOG = LoggerFactory.getLogger(Infrastructure.class);

    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final List<String> descriptions = new ArrayList<>();
    private String commandPgUri;
    private String queryPgUri;
    private String kafkaBootstrap;
    private PgProvisioner provisioner;
    private ProcessHandle kafkaProcess;

    private Infrastructure() {
    }

    /**
     * Starts whatever the configuration does not point at, and waits until it is ready.
     *
     * @param config the configuration
     * @return the running infrastructure; close it to stop what it started
     * @throws InfrastructureException with a one-line message if something cannot start
     */
    public static Infrastructure start(OrdersConfig config) {
        Infrastructure infra = new Infrastructure();
        try {
            infra.startParts(config);
            LOG.info("infrastructure ready:\n{}", infra.describe());
            return infra;
        } catch (RuntimeException e) {
            infra.close();
            throw e;
        }
    }

    private void startParts(OrdersConfig config) {
        commandPgUri = config.effectiveCommandPgUri();
        queryPgUri = config.effectiveQueryPgUri();
        kafkaBootstrap = config.kafkaBootstrap();
        boolean needPg = commandPgUri.isEmpty() || queryPgUri.isEmpty();
        boolean needKafka = kafkaBootstrap.isEmpty();
        if (!needPg && !needKafka) {
            descriptions.add("PostgreSQL and Kafka: external, as configured");
            return;
        }
        long probeStart = System.nanoTime();
        boolean docker = DockerProbe.available();
        LOG.debug("Docker {} (checked in {} ms)", docker ? "answers" : "absent", millisSince(probeStart));
        if (docker) {
            startContainers(needPg, needKafka);
        } else {
            startEmbedded(config, needPg, needKafka);
        }
    }

    private void startContainers(boolean needPg, boolean needKafka) {
        if (needKafka) {
            long t = System.nanoTime();
            ContainerServers.Kafka kafka = track(ContainerServers.kafka());
            kafkaBootstrap = kafka.bootstrap();
            started("Kafka container " + ContainerServers.KAFKA_IMAGE + " at " + kafkaBootstrap, t);
        }
        if (needPg) {
            long t = System.nanoTime();
            usePostgres(track(ContainerServers.postgres()).server(), t);
        }
    }

    private void startEmbedded(OrdersConfig config, boolean needPg, boolean needKafka) {
        DataDir dataDir = track(DataDir.open(config.dataDir(), config.clean()));
        long kafkaStart = System.nanoTime();
        EmbeddedKafkaBroker kafka = needKafka
                ? track(EmbeddedKafkaBroker.launch(dataDir.root().resolve("kafka-lib"),
                        dataDir.root().resolve("kafka"), config.kafkaEmbeddedPort(), config.kafkaPartitions()))
                : null;
        if (needPg) {
            long t = System.nanoTime();
            EmbeddedPostgresServer postgres = track(EmbeddedPostgresServer.start(dataDir.root().resolve("postgres"),
                    config.pgEmbeddedPort(), config.mode() == OrdersConfig.Mode.PRODUCTION));
            usePostgres(postgres.server(), t);
        }
        if (kafka != null) {
            kafka.awaitReady();
            kafkaBootstrap = kafka.bootstrap();
            kafkaProcess = kafka.process();
            started("embedded Kafka (pid " + kafkaProcess.pid() + ") at " + kafkaBootstrap + ", data and broker.log in "
                    + dataDir.root().resolve("kafka"), kafkaStart);
        }
    }

    private void usePostgres(PgServer server, long startNanos) {
        provisioner = PgProvisioner.connect(server);
        PgDatabase database = provisioner.provision(DATABASE);
        commandPgUri = commandPgUri.isEmpty() ? database.commandPgUri() : commandPgUri;
        queryPgUri = queryPgUri.isEmpty() ? database.queryPgUri() : queryPgUri;
        started(server.description() + " at " + server.host() + ":" + server.port() + ", database " + DATABASE,
                startNanos);
    }

    @Override
    public String commandPgUri() {
        return commandPgUri;
    }

    @Override
    public String queryPgUri() {
        return queryPgUri;
    }

    @Override
    public String kafkaBootstrap() {
        return kafkaBootstrap;
    }

    /** @return the provisioner of the PostgreSQL server this instance started, empty if it started none */
    public Optional<PgProvisioner> provisioner() {
        return Optional.ofNullable(provisioner);
    }

    /** @return the embedded Kafka broker's child process, empty if none was started */
    public Optional<ProcessHandle> kafkaProcess() {
        return Optional.ofNullable(kafkaProcess);
    }

    /** @return what runs where, passwords masked, for a startup log */
    public String describe() {
        return String.join("\n", descriptions)
                + "\n  command side: " + OrdersConfig.maskPassword(commandPgUri)
                + "\n  query side:   " + OrdersConfig.maskPassword(queryPgUri)
                + "\n  Kafka:        " + kafkaBootstrap;
    }

    /** Stops what was started, in reverse order. */
    @Override
    protected void stopServers() {
        long t = System.nanoTime();
        boolean any = !started.isEmpty();
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                LOG.warn("stopping infrastructure: {}", e.toString());
            }
        }
        if (any) {
            LOG.info("infrastructure stopped in {} ms", millisSince(t));
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        started.push(resource);
        return resource;
    }

    private void started(String what, long startNanos) {
        long ms = millisSince(startNanos);
        descriptions.add(what + " (started in " + ms + " ms)");
        LOG.info("started {} in {} ms", what, ms);
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
