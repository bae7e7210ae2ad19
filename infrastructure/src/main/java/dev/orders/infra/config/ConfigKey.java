package dev.orders.infra.config;

import static dev.orders.infra.config.ConfigKey.Shown.SECRET;
import static dev.orders.infra.config.ConfigKey.Shown.SHOWN;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * Every configuration key, declared once: its name, its default, whether its value is a secret (never
 * printed), how its value is read and checked ({@link ConfigValues}), and its meaning. {@link OrdersConfig}'s
 * parsing, {@code toMap}, {@code --help} and masked {@code describe} all derive from this list.
 */
public enum ConfigKey {
    MODE("mode", "development", SHOWN, ConfigValues::mode, "development or production"),
    HTTP_HOST("http.host", "127.0.0.1", SHOWN, ConfigValues::nonBlank, "address the HTTP server binds to"),
    HTTP_PORT("http.port", "8080", SHOWN, ConfigValues::port, "HTTP port; 0 = any free port"),
    EVENT_LOOPS("event-loops", "0", SHOWN, atLeast(0),
            "Vert.x event-loop threads of the process; 0 = one per CPU core (no event loop ever blocks, so more"
            + " threads than cores only add hand-offs between them)"),
    DATA_DIR("data.dir", "./data", SHOWN, ConfigValues::path,
            "folder of the embedded PostgreSQL and Kafka data; kept across restarts"),
    CLEAN("clean", "false", SHOWN, ConfigValues::bool, "true wipes data.dir before starting"),
    PG_URI("pg.uri", "", SHOWN, ConfigValues::pgUri,
            "external PostgreSQL for both sides, e.g. postgresql://user:pw@host:5432/orders;"
            + " required in production and by a service on its own; empty = the all-in-one in development mode"
            + " starts one (Docker if present, else embedded)"),
    COMMAND_PG_URI("command.pg.uri", "", SHOWN, ConfigValues::pgUri,
            "PostgreSQL of the command side; overrides pg.uri"),
    QUERY_PG_URI("query.pg.uri", "", SHOWN, ConfigValues::pgUri, "PostgreSQL of the query side; overrides pg.uri"),
    PG_POOL_SIZE("pg.pool.size", "16", SHOWN, atLeast(1), "connections per PostgreSQL pool"),
    PG_POOL_MAX_WAIT_QUEUE("pg.pool.max-wait-queue", "512", SHOWN, atLeast(-1),
            "requests that may wait for a pooled connection;"
            + " -1 = unbounded"),
    PG_STATEMENT_TIMEOUT("pg.statement-timeout", "PT30S", SHOWN, ConfigValues::duration,
            "statement_timeout of the services' PostgreSQL sessions:"
            + " a longer statement is cancelled (ISO-8601 duration)"),
    PG_IDLE_IN_TRANSACTION_TIMEOUT("pg.idle-in-transaction-timeout", "PT60S", SHOWN, ConfigValues::duration,
            "idle_in_transaction_session_timeout"
            + " of the services' PostgreSQL sessions: a session idle this long inside a transaction is ended, since"
            + " an open transaction holds the relay back (ISO-8601 duration)"),
    PG_EMBEDDED_PORT("pg.embedded.port", "0", SHOWN, ConfigValues::port,
            "port of the embedded PostgreSQL; 0 = any free port"),
    KAFKA_BOOTSTRAP("kafka.bootstrap", "", SHOWN, ConfigValues::bootstrap,
            "external Kafka bootstrap servers (host:port,...); required in"
            + " production and by a service on its own; empty = the all-in-one in development mode starts one"),
    KAFKA_EMBEDDED_PORT("kafka.embedded.port", "0", SHOWN, ConfigValues::port,
            "port of the embedded Kafka broker; 0 = any free port"),
    KAFKA_TOPIC_PREFIX("kafka.topic.prefix", "orders", SHOWN, ConfigValues::topicPrefix, "prefix of every topic name"),
    KAFKA_PARTITIONS("kafka.partitions", "3", SHOWN, atLeast(1), "partitions of each topic the services create"),
    // ---- a Kafka cluster: how the topics are made, and the consumer groups (record KafkaCluster) ----
    KAFKA_REPLICATION_FACTOR("kafka.replication-factor", "1", SHOWN, ConfigValues::replicationFactor,
            "replicas of each topic the services create;"
            + " 3 on a cluster of three or more brokers"),
    KAFKA_MIN_INSYNC_REPLICAS("kafka.min-insync-replicas", "1", SHOWN, ConfigValues::minInsyncReplicas,
            "min.insync.replicas of each topic the services"
            + " create: with acks=all a write needs this many replicas; at most kafka.replication-factor"),
    KAFKA_TOPICS_CREATE("kafka.topics.create", "true", SHOWN, ConfigValues::bool,
            "true: the services create missing topics at start;"
            + " false: they only check, and /health/ready names a missing topic"),
    KAFKA_SAGA_GROUP("kafka.group.saga", "", SHOWN, ConfigValues::groupId,
            "consumer group id of the saga; empty = <kafka.topic.prefix>.saga"),
    KAFKA_PROJECTOR_GROUP("kafka.group.projector", "", SHOWN, ConfigValues::groupId,
            "consumer group id of the query side's projector;"
            + " empty = <kafka.topic.prefix>.query-projector"),
    SNAPSHOT_EVERY("snapshot.every", "100", SHOWN, atLeast(1), "an aggregate snapshot every this many events"),
    SAGA_CREDIT_CHECK_TIMEOUT("saga.credit-check-timeout", "PT30S", SHOWN, ConfigValues::duration,
            "an order whose credit check the saga asked"
            + " and got no answer to within this is rejected (ISO-8601 duration); the clock does not run while"
            + " the saga has not reached the order"),
    IDEMPOTENCY_RETENTION("idempotency.retention", "P7D", SHOWN, ConfigValues::duration,
            "how long the first answer to an Idempotency-Key is kept (ISO-8601 duration); older keys are pruned in"
            + " the background, and the same request with such a key then runs as a new one"),
    SAGA_RELAY_HANDOFF("saga.relay-handoff", "true", SHOWN, ConfigValues::bool,
            "true: where the relay and the saga"
            + " share a process, the relay hands each record Kafka acknowledged straight to the saga, which takes"
            + " it only at the exact offset it expects next (the Kafka copy is then skipped); false: the saga reads"
            + " everything from Kafka. Durability and order are the same either way"),
    SAGA_COMMIT_HANDOFF("saga.commit-handoff", "true", SHOWN, ConfigValues::bool,
            "true: where a command and the saga share a process, the saga reacts to each event the command handler"
            + " commits at once, before the relay and Kafka bring it (only the next version of its stream, only on a"
            + " partition this instance consumes and only while that partition is idle; the Kafka copy is then"
            + " skipped); false: the saga reacts to what Kafka delivers only. Durability and order are the same"
            + " either way"),
    COMMAND_GROUP_COMMIT("command.group-commit", "true", SHOWN, ConfigValues::bool,
            "true: new orders and customers that arrive together are appended in one transaction (a group commit;"
            + " at most 2 groups commit at once, so a creation that finds none under way goes alone at once);"
            + " false: each in its own transaction"),
    COMMAND_WORKERS("command.workers", "true", SHOWN, ConfigValues::bool,
            "true: this process runs the command side's workers (the relay, the saga, its deadlines, the pruning of"
            + " Idempotency-Keys) beside its API; false: an API-only node, which appends and leaves publishing and"
            + " the saga to the processes that run them"),
    RELAY_BATCH_SIZE("relay.batch-size", "500", SHOWN, atLeast(1), "events the relay publishes per batch"),
    RELAY_POLL_INTERVAL("relay.poll-interval", "PT1S", SHOWN, ConfigValues::duration,
            "how often the relay looks for new events when idle"
            + " (ISO-8601 duration)"),
    METRICS_REFRESH_INTERVAL("metrics.refresh-interval", "PT5S", SHOWN, ConfigValues::duration,
            "how often the meters that need a query are read again: the saga's and the projector's consumer lag,"
            + " the projection's lag and the dead letters waiting (ISO-8601 duration)"),
    CORS_ORIGINS("cors.origins", "", SHOWN, ConfigValues::list,
            "comma-separated origins allowed by CORS; empty = same origin only"),
    AUTH_DEV_KEY("auth.dev-key", "", SECRET, ConfigValues::devKey,
            "HMAC key of development tokens (POST /api/dev/token); empty = the built-in"
            + " development key; refused in production"),
    AUTH_PUBLIC_KEYS("auth.public-keys", "", SHOWN, ConfigValues::stripped,
            "file with the token issuer's public keys (PEM); required in production"),
    AUTH_JWKS_URL("auth.jwks-url", "", SHOWN, ConfigValues::httpUrl,
            "URL of the token issuer's JSON Web Key Set (https://issuer/.well-known/jwks.json);"
            + " fetched again when a token names an unknown key id, so keys rotate without a restart"),
    AUTH_ALGORITHM("auth.algorithm", "RS256", SHOWN, ConfigValues::nonBlank,
            "signature algorithm of the issuer's keys (RS256, ES256, ...)"),
    AUTH_ISSUER("auth.issuer", "", SHOWN, ConfigValues::stripped,
            "required 'iss' claim of tokens; empty = not checked"),
    AUTH_AUDIENCE("auth.audience", "", SHOWN, ConfigValues::stripped,
            "required 'aud' claim of tokens; empty = not checked"),
    AUTH_TOKEN_TTL("auth.token-ttl", "PT8H", SHOWN, ConfigValues::duration,
            "lifetime of development tokens (ISO-8601 duration)"),
    AUTH_SERVICE_TOKEN("auth.service-token", "", SECRET, ConfigValues::stripped,
            "operator token the query side's rebuild presents to the command"
            + " side's event feed in production; development mode mints one"),
    RATE_COMMANDS_PER_SECOND("rate.commands-per-second", "20", SHOWN, atLeast(1),
            "commands one customer may send per second,"
            + " sustained; more answer 429 with Retry-After"),
    RATE_COMMAND_BURST("rate.command-burst", "40", SHOWN, atLeast(1),
            "commands one customer may send at once after a quiet time"),
    PUSH_RETENTION("push.retention", "PT24H", SHOWN, ConfigValues::duration,
            "how long the order-change log keeps each change for streams that"
            + " resume (Last-Event-ID); older ones are pruned in the background, and a resume from before them"
            + " gets event: reset and the current state (ISO-8601 duration)"),
    PUSH_RETENTION_CHANGES("push.retention-changes", "1000000", SHOWN, atLeast(1),
            "the most changes the order-change log keeps;"
            + " older ones are pruned likewise"),
    PUSH_OPERATOR_EVENTS_PER_SECOND("push.operator.events-per-second", "200", SHOWN, atLeast(1),
            "order events one operators' stream (GET /api/orders/stream) writes per second at most; changes"
            + " beyond it wait, coalesced to the latest per order"),
    PUSH_OPERATOR_MAX_WAITING("push.operator.max-waiting", "2000", SHOWN, atLeast(1),
            "orders that may wait on one operators' stream; past it the oldest waiting are dropped and the client"
            + " gets event: skipped with how many"),
    PUSH_OPERATOR_MAX_STREAMS("push.operator.max-streams", "100", SHOWN, atLeast(1),
            "operators' streams one query node serves at once; more answer 503 with Retry-After"),
    RATE_PROCESSES("rate.processes", "1", SHOWN, atLeast(1),
            "command-side processes behind one load balancer: each enforces"
            + " 1/this of rate.commands-per-second and rate.command-burst, so that together they allow the rate"),
    SHUTDOWN_NOTICE("shutdown.notice", "PT3S", SHOWN, ConfigValues::duration,
            "on SIGTERM, how long readiness answers 503 before the streams"
            + " end and the port closes, so that balancers stop sending first (ISO-8601 duration)"),
    SHUTDOWN_GRACE("shutdown.grace", "PT20S", SHOWN, ConfigValues::duration,
            "on SIGTERM, how long requests in progress may take to finish"
            + " before the connections close (ISO-8601 duration)"),
    QUERY_EVENT_FEED_URL("query.event-feed-url", "", SHOWN, ConfigValues::stripped,
            "base URL of the command side's event feed"
            + " (GET /api/admin/events) that a query-side rebuild reads; empty = http://127.0.0.1:<http.port>");

    /** Whether a value may be printed. */
    enum Shown { SHOWN, SECRET }

    /** Reads and checks a key's value from the loaded layers; a bad value is a {@link ConfigException}. */
    @FunctionalInterface
    interface Reader {
        Object read(ConfigValues values, ConfigKey key);
    }

    private final String key;
    private final String defaultValue;
    private final boolean secret;
    private final Reader reader;
    private final String meaning;

    ConfigKey(String key, String defaultValue, Shown shown, Reader reader, String meaning) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.secret = shown == Shown.SECRET;
        this.reader = reader;
        this.meaning = meaning;
    }

    private static Reader atLeast(int min) {
        return (values, key) -> values.intAtLeast(key, min);
    }

    /** @return the value, read and checked */
    Object read(ConfigValues values) {
        return reader.read(values, this);
    }

    /** @return true for a secret, shown as {@code ***} */
    public boolean secret() {
        return secret;
    }

    /** @return the key as written in files and {@code --key=value} arguments, e.g. {@code http.port} */
    public String key() {
        return key;
    }

    /** @return the default value, as text */
    public String defaultValue() {
        return defaultValue;
    }

    /** @return what the key means, for {@code --help} */
    public String meaning() {
        return meaning;
    }

    /** @return the system property that sets this key, e.g. {@code orders.http.port} */
    public String systemProperty() {
        return "orders." + key;
    }

    /** @return the environment variable that sets this key, e.g. {@code ORDERS_HTTP_PORT} */
    public String environmentVariable() {
        return envName(key);
    }

    static String envName(String key) {
        return "ORDERS_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /**
     * @param key a key such as {@code http.port}
     * @return the key, if it is one
     */
    public static Optional<ConfigKey> of(String key) {
        return Arrays.stream(values()).filter(k -> k.key.equals(key)).findFirst();
    }
}
