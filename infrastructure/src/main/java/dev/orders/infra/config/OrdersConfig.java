package dev.orders.infra.config;

import static dev.orders.infra.config.ConfigKey.*;

import dev.orders.service.security.SecuritySettings;
import dev.orders.service.sql.PgSessions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
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
 * {@link ConfigKey} lists the keys; {@link #help()} prints them.
 *
 * @param mode                   development or production
 * @param httpHost               address the HTTP server binds to
 * @param httpPort               HTTP port, 0 = any free port
 * @param dataDir                folder of the embedded servers' data
 * @param clean                  wipe {@code dataDir} before starting
 * @param pgUri                  external PostgreSQL of both sides, empty = none
 * @param commandPgUri           external PostgreSQL of the command side, empty = {@code pgUri}
 * @param queryPgUri             external PostgreSQL of the query side, empty = {@code pgUri}
 * @param pgPoolSize             connections per pool
 * @param pgPoolMaxWaitQueue     waiting requests per pool, -1 = unbounded
 * @param pgStatementTimeout     statement timeout of the services' PostgreSQL sessions
 * @param pgIdleInTransactionTimeout idle-in-transaction timeout of the services' PostgreSQL sessions
 * @param pgEmbeddedPort         embedded PostgreSQL port, 0 = any free port
 * @param kafkaBootstrap         external Kafka bootstrap servers, empty = none
 * @param kafkaEmbeddedPort      embedded Kafka port, 0 = any free port
 * @param kafkaTopicPrefix       prefix of every topic name
 * @param kafkaPartitions        partitions per topic
 * @param kafkaCluster           replication, topic creation and consumer groups on a Kafka cluster
 * @param snapshotEvery          events between aggregate snapshots
 * @param sagaCreditCheckTimeout how long an order waits for its credit check
 * @param relayBatchSize         events per relay batch
 * @param relayPollInterval      idle poll interval of the relay
 * @param corsOrigins            origins allowed by CORS
 * @param queryEventFeedUrl      base URL of the command side's event feed for rebuilds, empty = this process
 * @param authDevKey             HMAC key of development tokens, empty = the built-in one; refused in production
 * @param authPublicKeys         file of the token issuer's public keys (PEM), empty = none
 * @param authJwksUrl            URL of the token issuer's JSON Web Key Set, empty = none
 * @param authAlgorithm          signature algorithm of the issuer's keys
 * @param authIssuer             required {@code iss} claim, empty = not checked
 * @param authAudience           required {@code aud} claim, empty = not checked
 * @param authTokenTtl           lifetime of development tokens
 * @param authServiceToken       operator token for the event feed in production, empty = none
 * @param rateCommandsPerSecond  commands per customer per second, sustained
 * @param rateCommandBurst       commands per customer at once
 * @param pushRetention          how long the order-change log keeps a change for resumes
 * @param pushRetentionChanges   the most changes the order-change log keeps
 * @param rateProcesses          command-side processes sharing the rate, each enforcing its share
 * @param shutdownNotice         on SIGTERM, how long readiness answers 503 before the port closes
 * @param shutdownGrace          on SIGTERM, how long requests in progress may take to finish
 */
public record OrdersConfig(
        Mode mode,
        String httpHost,
        int httpPort,
        Path dataDir,
        boolean clean,
        String pgUri,
        String commandPgUri,
        String queryPgUri,
        int pgPoolSize,
        int pgPoolMaxWaitQueue,
        Duration pgStatementTimeout,
        Duration pgIdleInTransactionTimeout,
        int pgEmbeddedPort,
        String kafkaBootstrap,
        int kafkaEmbeddedPort,
        String kafkaTopicPrefix,
        int kafkaPartitions,
        KafkaCluster kafkaCluster,
        int snapshotEvery,
        Duration sagaCreditCheckTimeout,
        int relayBatchSize,
        Duration relayPollInterval,
        List<String> corsOrigins,
        String queryEventFeedUrl,
        String authDevKey,
        String authPublicKeys,
        String authJwksUrl,
        String authAlgorithm,
        String authIssuer,
        String authAudience,
        Duration authTokenTtl,
        String authServiceToken,
        int rateCommandsPerSecond,
        int rateCommandBurst,
        Duration pushRetention,
        int pushRetentionChanges,
        int rateProcesses,
        Duration shutdownNotice,
        Duration shutdownGrace) {

    /** How the process runs. */
    public enum Mode {
        /** Local work: embedded servers by default. */
        DEVELOPMENT,
        /** A deployment. */
        PRODUCTION
    }

    private static final java.util.Set<String> SECRETS = java.util.Set.of(AUTH_DEV_KEY.key(), AUTH_SERVICE_TOKEN.key());
    private static final Pattern PASSWORD_IN_URI = Pattern.compile("(://[^:/@]+:)[^@]*@");

    /** Copies the list of origins, so that the record stays immutable. */
    public OrdersConfig {
        corsOrigins = List.copyOf(corsOrigins);
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
        map.put(MODE.key(), mode.name().toLowerCase(Locale.ROOT));
        map.put(HTTP_HOST.key(), httpHost);
        map.put(HTTP_PORT.key(), Integer.toString(httpPort));
        map.put(DATA_DIR.key(), dataDir.toString());
        map.put(CLEAN.key(), Boolean.toString(clean));
        map.put(PG_URI.key(), pgUri);
        map.put(COMMAND_PG_URI.key(), commandPgUri);
        map.put(QUERY_PG_URI.key(), queryPgUri);
        map.put(PG_POOL_SIZE.key(), Integer.toString(pgPoolSize));
        map.put(PG_POOL_MAX_WAIT_QUEUE.key(), Integer.toString(pgPoolMaxWaitQueue));
        map.put(PG_STATEMENT_TIMEOUT.key(), pgStatementTimeout.toString());
        map.put(PG_IDLE_IN_TRANSACTION_TIMEOUT.key(), pgIdleInTransactionTimeout.toString());
        map.put(PG_EMBEDDED_PORT.key(), Integer.toString(pgEmbeddedPort));
        map.put(KAFKA_BOOTSTRAP.key(), kafkaBootstrap);
        map.put(KAFKA_EMBEDDED_PORT.key(), Integer.toString(kafkaEmbeddedPort));
        map.put(KAFKA_TOPIC_PREFIX.key(), kafkaTopicPrefix);
        map.put(KAFKA_PARTITIONS.key(), Integer.toString(kafkaPartitions));
        map.putAll(kafkaCluster.toMap());
        map.put(SNAPSHOT_EVERY.key(), Integer.toString(snapshotEvery));
        map.put(SAGA_CREDIT_CHECK_TIMEOUT.key(), sagaCreditCheckTimeout.toString());
        map.put(RELAY_BATCH_SIZE.key(), Integer.toString(relayBatchSize));
        map.put(RELAY_POLL_INTERVAL.key(), relayPollInterval.toString());
        map.put(CORS_ORIGINS.key(), String.join(",", corsOrigins));
        map.put(QUERY_EVENT_FEED_URL.key(), queryEventFeedUrl);
        map.put(AUTH_DEV_KEY.key(), authDevKey);
        map.put(AUTH_PUBLIC_KEYS.key(), authPublicKeys);
        map.put(AUTH_JWKS_URL.key(), authJwksUrl);
        map.put(AUTH_ALGORITHM.key(), authAlgorithm);
        map.put(AUTH_ISSUER.key(), authIssuer);
        map.put(AUTH_AUDIENCE.key(), authAudience);
        map.put(AUTH_TOKEN_TTL.key(), authTokenTtl.toString());
        map.put(AUTH_SERVICE_TOKEN.key(), authServiceToken);
        map.put(RATE_COMMANDS_PER_SECOND.key(), Integer.toString(rateCommandsPerSecond));
        map.put(RATE_COMMAND_BURST.key(), Integer.toString(rateCommandBurst));
        map.put(PUSH_RETENTION.key(), pushRetention.toString());
        map.put(PUSH_RETENTION_CHANGES.key(), Integer.toString(pushRetentionChanges));
        map.put(RATE_PROCESSES.key(), Integer.toString(rateProcesses));
        map.put(SHUTDOWN_NOTICE.key(), shutdownNotice.toString());
        map.put(SHUTDOWN_GRACE.key(), shutdownGrace.toString());
        return map;
    }

    /** @return the command side's external PostgreSQL URI ({@code command.pg.uri}, else {@code pg.uri}), or "" */
    public String effectiveCommandPgUri() {
        return commandPgUri.isEmpty() ? pgUri : commandPgUri;
    }

    /** @return how the services' PostgreSQL sessions are bounded ({@code pg.statement-timeout}, {@code pg.idle-in-transaction-timeout}) */
    public PgSessions pgSessions() {
        return new PgSessions(pgStatementTimeout, pgIdleInTransactionTimeout);
    }

    /** @return the query side's external PostgreSQL URI ({@code query.pg.uri}, else {@code pg.uri}), or "" */
    public String effectiveQueryPgUri() {
        return queryPgUri.isEmpty() ? pgUri : queryPgUri;
    }

    /**
     * Checks that the configuration names the servers that a process without embedded ones needs: a
     * PostgreSQL ({@code pg.uri}, or both {@code command.pg.uri} and {@code query.pg.uri}) and a Kafka
     * ({@code kafka.bootstrap}).
     *
     * @param why when they are required, for the message, e.g. {@code "in production mode"}
     * @throws ConfigException naming the first missing key
     */
    public void requireExternalServers(String why) {
        if (effectiveCommandPgUri().isEmpty() || effectiveQueryPgUri().isEmpty()) {
            ConfigKey missing = commandPgUri.isEmpty() == queryPgUri.isEmpty() ? PG_URI
                    : commandPgUri.isEmpty() ? COMMAND_PG_URI : QUERY_PG_URI;
            throw new ConfigException("config key '" + missing.key() + "' is missing: required " + why
                    + " (the PostgreSQL server, postgresql://user:password@host:5432/orders; pg.uri serves both sides,"
                    + " command.pg.uri and query.pg.uri one each)");
        }
        if (kafkaBootstrap.isEmpty()) {
            throw new ConfigException("config key '" + KAFKA_BOOTSTRAP.key() + "' is missing: required " + why
                    + " (the Kafka cluster's bootstrap servers, host:port,host:port)");
        }
    }

    /** @return the saga's consumer group id ({@code kafka.group.saga}, else {@code <prefix>.saga}) */
    public String sagaGroupId() {
        return kafkaCluster.sagaGroup().isEmpty() ? kafkaTopicPrefix + ".saga" : kafkaCluster.sagaGroup();
    }

    /** @return the projector's consumer group id ({@code kafka.group.projector}, else {@code <prefix>.query-projector}) */
    public String projectorGroupId() {
        return kafkaCluster.projectorGroup().isEmpty() ? kafkaTopicPrefix + ".query-projector"
                : kafkaCluster.projectorGroup();
    }

    /**
     * @return the base URL of the command side's event feed that a query-side rebuild reads
     *         ({@code query.event-feed-url}, else this process: {@code http://127.0.0.1:<http.port>})
     */
    public String effectiveEventFeedUrl() {
        return queryEventFeedUrl.isEmpty() ? "http://127.0.0.1:" + httpPort : queryEventFeedUrl;
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
        if (!authPublicKeys.isEmpty()) {
            try {
                keys = PemKeys.split(Files.readString(Path.of(authPublicKeys)));
            } catch (IOException | RuntimeException e) {
                throw ConfigException.badValue(AUTH_PUBLIC_KEYS.key(), authPublicKeys, "cannot be read: " + e.getMessage());
            }
            if (keys.isEmpty()) {
                throw ConfigException.badValue(AUTH_PUBLIC_KEYS.key(), authPublicKeys, "holds no PEM public key");
            }
        }
        boolean production = mode == Mode.PRODUCTION;
        if (production && keys.isEmpty() && authJwksUrl.isEmpty()) {
            throw ConfigException.badValue(AUTH_PUBLIC_KEYS.key(), authPublicKeys,
                    "is required in production: the token issuer's public keys (PEM), unless auth.jwks-url names its key set");
        }
        return new SecuritySettings(production, authDevKey, keys, authAlgorithm, authIssuer, authAudience,
                authTokenTtl, corsOrigins, rateCommandsPerSecond / (double) rateProcesses,
                (int) Math.ceil(rateCommandBurst / (double) rateProcesses), authServiceToken, authJwksUrl);
    }

    /** True for keys whose values are secrets, never printed. */
    static boolean isSecret(String key) {
        return SECRETS.contains(key);
    }

    /** @return one line per key for a startup log, passwords and secrets masked */
    public String describe() {
        return toMap().entrySet().stream()
                .map(e -> "  " + e.getKey() + " = " + (SECRETS.contains(e.getKey()) && !e.getValue().isEmpty()
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
            config.requireExternalServers("in production mode: it starts no PostgreSQL or Kafka of its own");
        }
        return config;
    }

    private static OrdersConfig parseValues(ConfigLoader loaded) {
        Parser p = new Parser(loaded);
        return new OrdersConfig(
                p.mode(),
                p.nonBlank(HTTP_HOST),
                p.port(HTTP_PORT),
                p.path(DATA_DIR),
                p.bool(CLEAN),
                p.pgUri(PG_URI),
                p.pgUri(COMMAND_PG_URI),
                p.pgUri(QUERY_PG_URI),
                p.intAtLeast(PG_POOL_SIZE, 1),
                p.intAtLeast(PG_POOL_MAX_WAIT_QUEUE, -1),
                p.duration(PG_STATEMENT_TIMEOUT),
                p.duration(PG_IDLE_IN_TRANSACTION_TIMEOUT),
                p.port(PG_EMBEDDED_PORT),
                p.bootstrap(KAFKA_BOOTSTRAP),
                p.port(KAFKA_EMBEDDED_PORT),
                p.topicPrefix(KAFKA_TOPIC_PREFIX),
                p.intAtLeast(KAFKA_PARTITIONS, 1),
                p.kafkaCluster(),
                p.intAtLeast(SNAPSHOT_EVERY, 1),
                p.duration(SAGA_CREDIT_CHECK_TIMEOUT),
                p.intAtLeast(RELAY_BATCH_SIZE, 1),
                p.duration(RELAY_POLL_INTERVAL),
                p.list(CORS_ORIGINS),
                p.raw(QUERY_EVENT_FEED_URL).strip(),
                p.devKey(),
                p.raw(AUTH_PUBLIC_KEYS).strip(),
                p.httpUrl(AUTH_JWKS_URL),
                p.nonBlank(AUTH_ALGORITHM),
                p.raw(AUTH_ISSUER).strip(),
                p.raw(AUTH_AUDIENCE).strip(),
                p.duration(AUTH_TOKEN_TTL),
                p.raw(AUTH_SERVICE_TOKEN).strip(),
                p.intAtLeast(RATE_COMMANDS_PER_SECOND, 1),
                p.intAtLeast(RATE_COMMAND_BURST, 1),
                p.duration(PUSH_RETENTION),
                p.intAtLeast(PUSH_RETENTION_CHANGES, 1),
                p.intAtLeast(RATE_PROCESSES, 1),
                p.duration(SHUTDOWN_NOTICE),
                p.duration(SHUTDOWN_GRACE));
    }

    /** Parses and checks raw values; every failure names the key, the value and where it came from. */
    private record Parser(ConfigLoader loaded) {

        private static final Pattern TOPIC_PREFIX = Pattern.compile("[A-Za-z0-9._-]{1,100}");
        private static final Pattern HOST_PORT = Pattern.compile("[^\\s,:]+:\\d{1,5}");

        String raw(ConfigKey key) {
            return loaded.values().get(key.key());
        }

        ConfigException bad(ConfigKey key, String expectation) {
            String origin = loaded.origin(key.key());
            String where = origin == null || origin.equals("map") || origin.equals("override")
                    ? "" : " (from " + origin + ")";
            return ConfigException.badValue(key.key(), raw(key), expectation + where);
        }

        /** A development key is refused in production, and must be long enough for HMAC-SHA256 otherwise. */
        String devKey() {
            String key = raw(AUTH_DEV_KEY);
            if (key.isEmpty()) {
                return key;
            }
            if (mode() == Mode.PRODUCTION) {
                throw bad(AUTH_DEV_KEY, "is a development key, refused in production mode: tokens must come from the"
                        + " issuer's keys (auth.public-keys)");
            }
            if (key.length() < 32) {
                throw bad(AUTH_DEV_KEY, "is shorter than 32 characters");
            }
            return key;
        }

        Mode mode() {
            try {
                return Mode.valueOf(raw(MODE).toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw bad(MODE, "is not a mode (development or production)");
            }
        }

        String nonBlank(ConfigKey key) {
            if (raw(key).isEmpty()) {
                throw bad(key, "is empty");
            }
            return raw(key);
        }

        int port(ConfigKey key) {
            int port = integer(key, "is not a port number (0..65535)");
            if (port < 0 || port > 65535) {
                throw bad(key, "is not a port number (0..65535)");
            }
            return port;
        }

        int intAtLeast(ConfigKey key, int min) {
            String expectation = "is not a whole number >= " + min;
            int value = integer(key, expectation);
            if (value < min) {
                throw bad(key, expectation);
            }
            return value;
        }

        private int integer(ConfigKey key, String expectation) {
            try {
                return Integer.parseInt(raw(key));
            } catch (NumberFormatException e) {
                throw bad(key, expectation);
            }
        }

        boolean bool(ConfigKey key) {
            return switch (raw(key).toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw bad(key, "is not true or false");
            };
        }

        Path path(ConfigKey key) {
            try {
                return Path.of(nonBlank(key));
            } catch (java.nio.file.InvalidPathException e) {
                throw bad(key, "is not a path");
            }
        }

        Duration duration(ConfigKey key) {
            String expectation = "is not a positive ISO-8601 duration (e.g. PT30S, PT0.5S)";
            try {
                Duration duration = Duration.parse(raw(key));
                if (duration.isNegative() || duration.isZero()) {
                    throw bad(key, expectation);
                }
                return duration;
            } catch (DateTimeParseException e) {
                throw bad(key, expectation);
            }
        }

        String pgUri(ConfigKey key) {
            String uri = raw(key);
            if (!uri.isEmpty() && !uri.matches("postgres(ql)?://[^\\s]+")) {
                throw bad(key, "is not a PostgreSQL URI (postgresql://user:password@host:port/database)");
            }
            return uri;
        }

        String bootstrap(ConfigKey key) {
            String value = raw(key);
            if (!value.isEmpty() && !Arrays.stream(value.split(",")).map(String::strip)
                    .allMatch(s -> HOST_PORT.matcher(s).matches())) {
                throw bad(key, "is not a list of host:port");
            }
            return value;
        }

        KafkaCluster kafkaCluster() {
            int replicationFactor = intAtLeast(KAFKA_REPLICATION_FACTOR, 1);
            if (replicationFactor > Short.MAX_VALUE) {
                throw bad(KAFKA_REPLICATION_FACTOR, "is not a replication factor (1.." + Short.MAX_VALUE + ")");
            }
            int minInsync = intAtLeast(KAFKA_MIN_INSYNC_REPLICAS, 1);
            if (minInsync > replicationFactor) {
                throw bad(KAFKA_MIN_INSYNC_REPLICAS, "is more than kafka.replication-factor (" + replicationFactor
                        + "): no write could ever be acknowledged");
            }
            return new KafkaCluster((short) replicationFactor, minInsync, bool(KAFKA_TOPICS_CREATE),
                    groupId(KAFKA_SAGA_GROUP), groupId(KAFKA_PROJECTOR_GROUP));
        }

        String groupId(ConfigKey key) {
            String group = raw(key).strip();
            if (!group.isEmpty() && !TOPIC_PREFIX.matcher(group).matches()) {
                throw bad(key, "is not a consumer group id (1..100 of A-Z a-z 0-9 . _ -)");
            }
            return group;
        }

        String httpUrl(ConfigKey key) {
            String url = raw(key).strip();
            if (!url.isEmpty() && !url.matches("https?://[^\\s/]+(/\\S*)?")) {
                throw bad(key, "is not an http(s) URL");
            }
            return url;
        }

        String topicPrefix(ConfigKey key) {
            if (!TOPIC_PREFIX.matcher(raw(key)).matches()) {
                throw bad(key, "is not a topic prefix (1..100 of A-Z a-z 0-9 . _ -)");
            }
            return raw(key);
        }

        List<String> list(ConfigKey key) {
            return Arrays.stream(raw(key).split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
        }
    }
}
