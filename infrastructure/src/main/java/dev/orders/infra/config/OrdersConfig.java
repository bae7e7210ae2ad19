package dev.orders.infra.config;

import static dev.orders.infra.config.ConfigKey.*;

import dev.orders.service.security.SecuritySettings;
import dev.orders.service.sql.PgSessions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The whole configuration of an orders process, immutable, parsed and validated once.
 *
 * <p>Layers, each overriding the one before: the defaults; a properties file named by
 * {@code --config FILE}, the system property {@code orders.config} or the environment variable
 * {@code ORDERS_CONFIG}; system properties {@code orders.<key>}; environment variables
 * {@code ORDERS_<KEY>} (upper case, '.' and '-' as '_'); arguments {@code --<key>=<value>}.
 * {@link ConfigKey} declares every key once (name, default, how it is read and checked, help text,
 * whether it is a secret); this class holds the values read from them, typed, and derives its map,
 * {@link #help()} and masked {@link #describe()} from that list.
 */
public final class OrdersConfig {

    /** How the process runs. */
    public enum Mode {
        /** Local work: embedded servers by default. */
        DEVELOPMENT,
        /** A deployment. */
        PRODUCTION
    }

    private static final Pattern PASSWORD_IN_URI = Pattern.compile("(://[^:/@]+:)[^@]*@");

    /** Every key's value, read and checked: of the type its accessor answers. */
    private final Map<ConfigKey, Object> values;

    private OrdersConfig(Map<ConfigKey, Object> values) {
        this.values = values;
    }

    @SuppressWarnings("unchecked")
    private <T> T get(ConfigKey key) {
        return (T) values.get(key);
    }

    /** @return development or production */
    public Mode mode() {
        return get(MODE);
    }

    /** @return address the HTTP server binds to */
    public String httpHost() {
        return get(HTTP_HOST);
    }

    /** @return HTTP port, 0 = any free port */
    public int httpPort() {
        return get(HTTP_PORT);
    }

    /** @return folder of the embedded servers' data */
    public Path dataDir() {
        return get(DATA_DIR);
    }

    /** @return wipe {@code dataDir} before starting */
    public boolean clean() {
        return get(CLEAN);
    }

    /** @return external PostgreSQL of both sides, empty = none */
    public String pgUri() {
        return get(PG_URI);
    }

    /** @return external PostgreSQL of the command side, empty = {@code pgUri} */
    public String commandPgUri() {
        return get(COMMAND_PG_URI);
    }

    /** @return external PostgreSQL of the query side, empty = {@code pgUri} */
    public String queryPgUri() {
        return get(QUERY_PG_URI);
    }

    /** The process's event-loop threads: {@code event-loops}, or one per CPU core when it is 0. */
    public int eventLoops() {
        int configured = get(EVENT_LOOPS);
        return configured > 0 ? configured : Runtime.getRuntime().availableProcessors();
    }

    /** @return connections per pool */
    public int pgPoolSize() {
        return get(PG_POOL_SIZE);
    }

    /** @return waiting requests per pool, -1 = unbounded */
    public int pgPoolMaxWaitQueue() {
        return get(PG_POOL_MAX_WAIT_QUEUE);
    }

    /** @return statement timeout of the services' PostgreSQL sessions */
    public Duration pgStatementTimeout() {
        return get(PG_STATEMENT_TIMEOUT);
    }

    /** @return idle-in-transaction timeout of the services' PostgreSQL sessions */
    public Duration pgIdleInTransactionTimeout() {
        return get(PG_IDLE_IN_TRANSACTION_TIMEOUT);
    }

    /** @return embedded PostgreSQL port, 0 = any free port */
    public int pgEmbeddedPort() {
        return get(PG_EMBEDDED_PORT);
    }

    /** @return external Kafka bootstrap servers, empty = none */
    public String kafkaBootstrap() {
        return get(KAFKA_BOOTSTRAP);
    }

    /** @return embedded Kafka port, 0 = any free port */
    public int kafkaEmbeddedPort() {
        return get(KAFKA_EMBEDDED_PORT);
    }

    /** @return prefix of every topic name */
    public String kafkaTopicPrefix() {
        return get(KAFKA_TOPIC_PREFIX);
    }

    /** @return partitions per topic */
    public int kafkaPartitions() {
        return get(KAFKA_PARTITIONS);
    }

    /** @return replication, topic creation and consumer groups on a Kafka cluster */
    public KafkaCluster kafkaCluster() {
        return new KafkaCluster((short) (int) get(KAFKA_REPLICATION_FACTOR), get(KAFKA_MIN_INSYNC_REPLICAS),
                get(KAFKA_TOPICS_CREATE), get(KAFKA_SAGA_GROUP), get(KAFKA_PROJECTOR_GROUP));
    }

    /** @return events between aggregate snapshots */
    public int snapshotEvery() {
        return get(SNAPSHOT_EVERY);
    }

    /** @return how long an order waits for its credit check */
    public Duration sagaCreditCheckTimeout() {
        return get(SAGA_CREDIT_CHECK_TIMEOUT);
    }

    /** @return how long the first answer to an Idempotency-Key is kept */
    public Duration idempotencyRetention() {
        return get(IDEMPOTENCY_RETENTION);
    }

    /** @return whether the saga reacts to the events its process commits before Kafka brings them */
    public boolean sagaCommitHandoff() {
        return get(SAGA_COMMIT_HANDOFF);
    }

    /** @return whether creations that arrive together are appended in one transaction */
    public boolean commandGroupCommit() {
        return get(COMMAND_GROUP_COMMIT);
    }

    /** @return whether this process runs the command side's workers (relay, saga, deadlines, key pruning) */
    public boolean commandWorkers() {
        return get(COMMAND_WORKERS);
    }

    /** @return whether the relay hands acknowledged records to the saga of its process */
    public boolean sagaRelayHandoff() {
        return get(SAGA_RELAY_HANDOFF);
    }

    /** @return events per relay batch */
    public int relayBatchSize() {
        return get(RELAY_BATCH_SIZE);
    }

    /** @return idle poll interval of the relay */
    public Duration relayPollInterval() {
        return get(RELAY_POLL_INTERVAL);
    }

    /** @return how often the meters that need a query (consumer and projection lag, dead letters) are read */
    public Duration metricsRefreshInterval() {
        return get(METRICS_REFRESH_INTERVAL);
    }

    /** @return origins allowed by CORS */
    public List<String> corsOrigins() {
        return get(CORS_ORIGINS);
    }

    /** @return base URL of the command side's event feed for rebuilds, empty = this process */
    public String queryEventFeedUrl() {
        return get(QUERY_EVENT_FEED_URL);
    }

    /** @return HMAC key of development tokens, empty = the built-in one; refused in production */
    public String authDevKey() {
        return get(AUTH_DEV_KEY);
    }

    /** @return file of the token issuer's public keys (PEM), empty = none */
    public String authPublicKeys() {
        return get(AUTH_PUBLIC_KEYS);
    }

    /** @return URL of the token issuer's JSON Web Key Set, empty = none */
    public String authJwksUrl() {
        return get(AUTH_JWKS_URL);
    }

    /** @return signature algorithm of the issuer's keys */
    public String authAlgorithm() {
        return get(AUTH_ALGORITHM);
    }

    /** @return required {@code iss} claim, empty = not checked */
    public String authIssuer() {
        return get(AUTH_ISSUER);
    }

    /** @return required {@code aud} claim, empty = not checked */
    public String authAudience() {
        return get(AUTH_AUDIENCE);
    }

    /** @return lifetime of development tokens */
    public Duration authTokenTtl() {
        return get(AUTH_TOKEN_TTL);
    }

    /** @return operator token for the event feed in production, empty = none */
    public String authServiceToken() {
        return get(AUTH_SERVICE_TOKEN);
    }

    /** @return commands per customer per second, sustained */
    public int rateCommandsPerSecond() {
        return get(RATE_COMMANDS_PER_SECOND);
    }

    /** @return commands per customer at once */
    public int rateCommandBurst() {
        return get(RATE_COMMAND_BURST);
    }

    /** @return how long the order-change log keeps a change for resumes */
    public Duration pushRetention() {
        return get(PUSH_RETENTION);
    }

    /** @return the most changes the order-change log keeps */
    public int pushRetentionChanges() {
        return get(PUSH_RETENTION_CHANGES);
    }

    /** @return order events one operators' stream writes per second at most */
    public int pushOperatorEventsPerSecond() {
        return get(PUSH_OPERATOR_EVENTS_PER_SECOND);
    }

    /** @return orders that may wait on one operators' stream before the oldest are dropped */
    public int pushOperatorMaxWaiting() {
        return get(PUSH_OPERATOR_MAX_WAITING);
    }

    /** @return operators' streams one query node serves at once */
    public int pushOperatorMaxStreams() {
        return get(PUSH_OPERATOR_MAX_STREAMS);
    }

    /** @return command-side processes sharing the rate, each enforcing its share */
    public int rateProcesses() {
        return get(RATE_PROCESSES);
    }

    /** @return on SIGTERM, how long readiness answers 503 before the port closes */
    public Duration shutdownNotice() {
        return get(SHUTDOWN_NOTICE);
    }

    /** @return on SIGTERM, how long requests in progress may take to finish */
    public Duration shutdownGrace() {
        return get(SHUTDOWN_GRACE);
    }


    /**
     * Loads the configuration of a process from all layers.
     *
     * @param args the command line, {@code --key=value} and {@code --config FILE}
     * @return the configuration
     * @throws ConfigException naming the key and the value, if a value is bad
     */
    public static OrdersConfig load(String[] args) {
        return load(args, System.getenv(), System.getProperties());
    }

    /**
     * Loads the configuration with the given environment and system properties (for tests).
     *
     * @param args             the command line
     * @param env              the environment variables
     * @param systemProperties the system properties
     * @return the configuration
     */
    public static OrdersConfig load(String[] args, Map<String, String> env, Properties systemProperties) {
        return parse(new ConfigLoader().load(args, env, systemProperties));
    }

    /** @return the defaults */
    public static OrdersConfig defaults() {
        return parse(new ConfigLoader());
    }

    /**
     * @param values keys and values, layered over the defaults
     * @return the configuration
     */
    public static OrdersConfig fromMap(Map<String, String> values) {
        return parse(new ConfigLoader().map(values, "map"));
    }

    /**
     * @param overrides keys and values that replace this configuration's
     * @return a copy with the overrides applied and validated
     */
    public OrdersConfig with(Map<String, String> overrides) {
        return parse(new ConfigLoader().map(toMap(), "map").map(overrides, "override"));
    }

    /**
     * @param key   a key such as {@code http.port}
     * @param value its new value
     * @return a copy with the value applied and validated
     */
    public OrdersConfig with(String key, String value) {
        return with(Map.of(key, value));
    }

    /**
     * @param args the command line
     * @return whether it asks for {@code --help}
     */
    public static boolean helpRequested(String[] args) {
        return Arrays.stream(args).anyMatch(a -> a.equals("--help") || a.equals("-h"));
    }

    /** @return the text of {@code --help}: every key, its default and its meaning */
    public static String help() {
        StringBuilder text = new StringBuilder("""
                Configuration (each layer overrides the one before):
                  defaults < properties file (--config FILE, -Dorders.config, ORDERS_CONFIG)
                  < system properties -Dorders.<key> < environment ORDERS_<KEY> < arguments --<key>=<value>

                """);
        for (ConfigKey key : ConfigKey.values()) {
            text.append(String.format(Locale.ROOT, "  %-26s %-12s %s%n", key.key(),
                    key.defaultValue().isEmpty() ? "\"\"" : key.defaultValue(), key.meaning()));
        }
        return text.toString();
    }

    /** @return every key with its value as text, so that {@link #fromMap} gives this configuration back */
    public Map<String, String> toMap() {
        Map<String, String> map = new LinkedHashMap<>();
        values.forEach((key, value) -> map.put(key.key(), text(value)));
        return map;
    }

    private static String text(Object value) {
        return switch (value) {
            case Mode mode -> mode.name().toLowerCase(Locale.ROOT);
            case List<?> list -> list.stream().map(String::valueOf).collect(Collectors.joining(","));
            default -> String.valueOf(value);
        };
    }

    /** @return the command side's external PostgreSQL URI ({@code command.pg.uri}, else {@code pg.uri}), or "" */
    public String effectiveCommandPgUri() {
        return commandPgUri().isEmpty() ? pgUri() : commandPgUri();
    }

    /** @return how the services' PostgreSQL sessions are bounded ({@code pg.statement-timeout}, {@code pg.idle-in-transaction-timeout}) */
    public PgSessions pgSessions() {
        return new PgSessions(pgStatementTimeout(), pgIdleInTransactionTimeout());
    }

    /** @return the query side's external PostgreSQL URI ({@code query.pg.uri}, else {@code pg.uri}), or "" */
    public String effectiveQueryPgUri() {
        return queryPgUri().isEmpty() ? pgUri() : queryPgUri();
    }

    /**
     * Checks that the configuration names the servers that a process without embedded ones needs: a
     * PostgreSQL ({@code pg.uri}, or both {@code command.pg.uri} and {@code query.pg.uri}) and a Kafka
     * ({@code kafka.bootstrap}).
     *
     * @param why when they are required, for the message, e.g. {@code "in production mode()"}
     * @throws ConfigException naming the first missing key
     */
    public void requireExternalServers(String why) {
        if (effectiveCommandPgUri().isEmpty() || effectiveQueryPgUri().isEmpty()) {
            ConfigKey missing = commandPgUri().isEmpty() == queryPgUri().isEmpty() ? PG_URI
                    : commandPgUri().isEmpty() ? COMMAND_PG_URI : QUERY_PG_URI;
            throw new ConfigException("config key '" + missing.key() + "' is missing: required " + why
                    + " (the PostgreSQL server, postgresql://user:password@host:5432/orders; pg.uri serves both sides,"
                    + " command.pg.uri and query.pg.uri one each)");
        }
        if (kafkaBootstrap().isEmpty()) {
            throw new ConfigException("config key '" + KAFKA_BOOTSTRAP.key() + "' is missing: required " + why
                    + " (the Kafka cluster's bootstrap servers, host:port,host:port)");
        }
    }

    /** @return the saga's consumer group id ({@code kafka.group.saga}, else {@code <prefix>.saga}) */
    public String sagaGroupId() {
        return kafkaCluster().sagaGroup().isEmpty() ? kafkaTopicPrefix() + ".saga" : kafkaCluster().sagaGroup();
    }

    /** @return the projector's consumer group id ({@code kafka.group.projector}, else {@code <prefix>.query-projector}) */
    public String projectorGroupId() {
        return kafkaCluster().projectorGroup().isEmpty() ? kafkaTopicPrefix() + ".query-projector"
                : kafkaCluster().projectorGroup();
    }

    /**
     * @return the base URL of the command side's event feed that a query-side rebuild reads
     *         ({@code query.event-feed-url}, else this process: {@code http://127.0.0.1:<http.port>})
     */
    public String effectiveEventFeedUrl() {
        return queryEventFeedUrl().isEmpty() ? "http://127.0.0.1:" + httpPort() : queryEventFeedUrl();
    }

    /**
     * How this process authenticates and limits its callers. Reads the issuer's public keys. The command
     * rate is this process's share: {@code rate.processes} processes behind one load balancer each see
     * about that share of a customer's commands, so together they allow the configured rate.
     *
     * @throws ConfigException in production without the issuer's keys, or when the key file cannot be read
     */
    public SecuritySettings securitySettings() {
        List<String> keys = List.of();
        if (!authPublicKeys().isEmpty()) {
            try {
                keys = PemKeys.split(Files.readString(Path.of(authPublicKeys())));
            } catch (IOException | RuntimeException e) {
                throw ConfigException.badValue(AUTH_PUBLIC_KEYS.key(), authPublicKeys(), "cannot be read: " + e.getMessage());
            }
            if (keys.isEmpty()) {
                throw ConfigException.badValue(AUTH_PUBLIC_KEYS.key(), authPublicKeys(), "holds no PEM public key");
            }
        }
        boolean production = mode() == Mode.PRODUCTION;
        if (production && keys.isEmpty() && authJwksUrl().isEmpty()) {
            throw ConfigException.badValue(AUTH_PUBLIC_KEYS.key(), authPublicKeys(),
                    "is required in production: the token issuer's public keys (PEM), unless auth.jwks-url names its key set");
        }
        return new SecuritySettings(production, authDevKey(), keys, authAlgorithm(), authIssuer(), authAudience(),
                authTokenTtl(), corsOrigins(), rateCommandsPerSecond() / (double) rateProcesses(),
                (int) Math.ceil(rateCommandBurst() / (double) rateProcesses()), authServiceToken(), authJwksUrl());
    }

    /** True for keys whose values are secrets, never printed. */
    static boolean isSecret(String key) {
        return ConfigKey.of(key).map(ConfigKey::secret).orElse(false);
    }

    /** @return one line per key for a startup log, passwords and secrets masked */
    public String describe() {
        return toMap().entrySet().stream()
                .map(e -> "  " + e.getKey() + " = " + (isSecret(e.getKey()) && !e.getValue().isEmpty()
                        ? "***" : maskPassword(e.getValue())))
                .collect(Collectors.joining("\n", "configuration:\n", ""));
    }

    /**
     * @param uri a URI that may carry {@code user:password@}
     * @return the URI with the password replaced by {@code ***}
     */
    public static String maskPassword(String uri) {
        return PASSWORD_IN_URI.matcher(uri).replaceAll("$1***@");
    }

    private static OrdersConfig parse(ConfigLoader loaded) {
        OrdersConfig config = parseValues(loaded);
        if (config.mode() == Mode.PRODUCTION) {
            config.requireExternalServers("in production mode(): it starts no PostgreSQL or Kafka of its own");
        }
        return config;
    }

    private static OrdersConfig parseValues(ConfigLoader loaded) {
        ConfigValues raw = new ConfigValues(loaded);
        Map<ConfigKey, Object> values = new EnumMap<>(ConfigKey.class);
        for (ConfigKey key : ConfigKey.values()) {
            values.put(key, key.read(raw));
        }
        return new OrdersConfig(java.util.Collections.unmodifiableMap(values));
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof OrdersConfig config && values.equals(config.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    /** The masked description: secrets and passwords never reach a log through this either. */
    @Override
    public String toString() {
        return describe();
    }
}
