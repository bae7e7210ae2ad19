package dev.orders.infra.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OrdersConfigTest {

    /** Production mode with the servers it requires. */
    private static final Map<String, String> PRODUCTION = Map.of("mode", "production",
            "pg.uri", "postgresql://orders:pw@db:5432/orders", "kafka.bootstrap", "k1:9092,k2:9092");

    @TempDir
    Path dir;

    @Test
    void productionRefusesToStartWithoutExternalServersNamingTheMissingKey() {
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("mode", "production", "kafka.bootstrap", "k:9092")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("'pg.uri' is missing")
                .hasMessageContaining("production mode");
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("mode", "production", "pg.uri", "postgresql://u:pw@db/o")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("'kafka.bootstrap' is missing")
                .hasMessageNotContaining("pw");
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("mode", "production", "kafka.bootstrap", "k:9092",
                "query.pg.uri", "postgresql://q@db/o"))).hasMessageContaining("'command.pg.uri' is missing");
        OrdersConfig perSide = OrdersConfig.fromMap(Map.of("mode", "production", "kafka.bootstrap", "k:9092",
                "command.pg.uri", "postgresql://c@db/o", "query.pg.uri", "postgresql://q@db/o"));
        assertThat(perSide.effectiveQueryPgUri()).isEqualTo("postgresql://q@db/o");
        assertThat(OrdersConfig.fromMap(PRODUCTION).mode()).isEqualTo(OrdersConfig.Mode.PRODUCTION);
        assertThatThrownBy(() -> OrdersConfig.defaults().requireExternalServers("by a service on its own"))
                .hasMessageContaining("'pg.uri' is missing: required by a service on its own");
    }

    @Test
    void eachOfSeveralCommandProcessesEnforcesItsShareOfTheRate() {
        OrdersConfig one = OrdersConfig.fromMap(Map.of("rate.commands-per-second", "20", "rate.command-burst", "41"));
        assertThat(one.securitySettings().commandsPerSecond()).isEqualTo(20.0);
        assertThat(one.securitySettings().commandBurst()).isEqualTo(41);
        OrdersConfig three = one.with("rate.processes", "3");
        assertThat(three.securitySettings().commandsPerSecond()).isCloseTo(20.0 / 3, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(three.securitySettings().commandBurst()).as("rounded up: never below one").isEqualTo(14);
        assertThatThrownBy(() -> one.with("rate.processes", "0")).hasMessageContaining("rate.processes");
    }

    @Test
    void kafkaClusterSettingsAreValidatedAndGroupIdsFollowThePrefixByDefault() {
        OrdersConfig defaults = OrdersConfig.defaults();
        assertThat(defaults.kafkaCluster()).isEqualTo(new KafkaCluster((short) 1, 1, true, "", ""));
        assertThat(defaults.sagaGroupId()).isEqualTo("orders.saga");
        assertThat(defaults.projectorGroupId()).isEqualTo("orders.query-projector");
        assertThat(defaults.with("kafka.topic.prefix", "shop").sagaGroupId()).isEqualTo("shop.saga");

        OrdersConfig cluster = OrdersConfig.load(new String[] {"--kafka.min-insync-replicas=2"},
                Map.of("ORDERS_KAFKA_REPLICATION_FACTOR", "3", "ORDERS_KAFKA_TOPICS_CREATE", "false",
                        "ORDERS_KAFKA_GROUP_SAGA", "team-a.saga", "ORDERS_KAFKA_GROUP_PROJECTOR", "team-a.views"),
                new Properties());
        assertThat(cluster.kafkaCluster()).isEqualTo(new KafkaCluster((short) 3, 2, false, "team-a.saga", "team-a.views"));
        assertThat(cluster.sagaGroupId()).isEqualTo("team-a.saga");
        assertThat(cluster.projectorGroupId()).isEqualTo("team-a.views");
        assertThat(OrdersConfig.fromMap(cluster.toMap())).isEqualTo(cluster);

        assertThatThrownBy(() -> defaults.with("kafka.replication-factor", "0"))
                .hasMessageContaining("kafka.replication-factor").hasMessageContaining(">= 1");
        assertThatThrownBy(() -> defaults.with(Map.of("kafka.replication-factor", "2", "kafka.min-insync-replicas", "3")))
                .hasMessageContaining("kafka.min-insync-replicas").hasMessageContaining("more than kafka.replication-factor");
        assertThatThrownBy(() -> defaults.with("kafka.topics.create", "sometimes"))
                .hasMessageContaining("kafka.topics.create").hasMessageContaining("true or false");
        assertThatThrownBy(() -> defaults.with("kafka.group.saga", "no spaces"))
                .hasMessageContaining("kafka.group.saga").hasMessageContaining("consumer group id");
        assertThat(OrdersConfig.help()).contains("kafka.replication-factor").contains("kafka.min-insync-replicas")
                .contains("kafka.topics.create").contains("kafka.group.saga").contains("kafka.group.projector");
    }

    @Test
    void defaults() {
        OrdersConfig config = OrdersConfig.defaults();

        assertThat(config.mode()).isEqualTo(OrdersConfig.Mode.DEVELOPMENT);
        assertThat(config.httpHost()).isEqualTo("127.0.0.1");
        assertThat(config.httpPort()).isEqualTo(8080);
        assertThat(config.dataDir()).isEqualTo(Path.of("./data"));
        assertThat(config.clean()).isFalse();
        assertThat(config.pgUri()).isEmpty();
        assertThat(config.pgPoolSize()).isEqualTo(16);
        assertThat(config.pgPoolMaxWaitQueue()).isEqualTo(512);
        assertThat(config.kafkaTopicPrefix()).isEqualTo("orders");
        assertThat(config.kafkaPartitions()).isEqualTo(3);
        assertThat(config.snapshotEvery()).isEqualTo(100);
        assertThat(config.sagaCreditCheckTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.sagaRelayHandoff()).isTrue();
        assertThat(config.sagaCommitHandoff()).isTrue();
        assertThat(config.relayBatchSize()).isEqualTo(500);
        assertThat(config.relayPollInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.corsOrigins()).isEmpty();
        assertThat(config.eventLoops()).as("one event loop per core").isEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void event_loops_as_configured_and_never_fewer_than_one() {
        assertThat(OrdersConfig.fromMap(Map.of("event-loops", "3")).eventLoops()).isEqualTo(3);
        assertThat(OrdersConfig.fromMap(Map.of("event-loops", "0")).eventLoops())
                .isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("event-loops", "-1")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("event-loops");
    }

    @Test
    void layersOverrideInOrder() throws Exception {
        Path file = Files.writeString(dir.resolve("orders.properties"), """
                http.port=1001
                kafka.partitions=7
                snapshot.every=11
                relay.batch-size=12
                cors.origins=http://a, http://b
                """);
        Properties sys = new Properties();
        sys.setProperty("orders.kafka.partitions", "8");
        sys.setProperty("orders.snapshot.every", "21");
        sys.setProperty("orders.relay.batch-size", "22");
        Map<String, String> env = Map.of("ORDERS_SNAPSHOT_EVERY", "31", "ORDERS_RELAY_BATCH_SIZE", "32",
                "ORDERS_PG_POOL_MAX_WAIT_QUEUE", "-1", "ORDERS_CONFIG", file.toString());

        OrdersConfig config = OrdersConfig.load(new String[] {"--relay.batch-size=42"}, env, sys);

        assertThat(config.httpPort()).isEqualTo(1001);          // file
        assertThat(config.kafkaPartitions()).isEqualTo(8);      // system property over file
        assertThat(config.snapshotEvery()).isEqualTo(31);       // environment over system property
        assertThat(config.relayBatchSize()).isEqualTo(42);      // argument over environment
        assertThat(config.pgPoolMaxWaitQueue()).isEqualTo(-1);  // '-' in the key is '_' in the variable
        assertThat(config.corsOrigins()).containsExactly("http://a", "http://b");
    }

    @Test
    void configFileFromArgumentOrSystemProperty() throws Exception {
        Path file = Files.writeString(dir.resolve("a.properties"), "http.port=2002\n");
        Properties sys = new Properties();
        sys.setProperty("orders.config", file.toString());

        assertThat(OrdersConfig.load(new String[] {"--config", file.toString()}, Map.of(), new Properties()).httpPort())
                .isEqualTo(2002);
        assertThat(OrdersConfig.load(new String[] {"--config=" + file}, Map.of(), new Properties()).httpPort())
                .isEqualTo(2002);
        assertThat(OrdersConfig.load(new String[0], Map.of(), sys).httpPort()).isEqualTo(2002);
    }

    @Test
    void badValuesNameTheKeyAndTheValue() {
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("http.port", "abc")))
                .isInstanceOf(ConfigException.class)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("config key 'http.port': 'abc' is not a port number (0..65535)");
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("http.port", "70000")))
                .hasMessageContaining("'http.port': '70000'");
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("mode", "test")))
                .hasMessageContaining("'mode': 'test'");
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("clean", "yes")))
                .hasMessageContaining("'clean': 'yes'");
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("saga.credit-check-timeout", "30s")))
                .hasMessageContaining("'saga.credit-check-timeout': '30s'");
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("saga.relay-handoff", "on")))
                .hasMessageContaining("'saga.relay-handoff': 'on'");
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("saga.commit-handoff", "yes")))
                .hasMessageContaining("'saga.commit-handoff': 'yes'");
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("pg.pool.size", "0")))
                .hasMessageContaining("'pg.pool.size': '0'");
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("pg.uri", "mysql://x")))
                .hasMessageContaining("'pg.uri': 'mysql://x'");
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("kafka.bootstrap", "localhost")))
                .hasMessageContaining("'kafka.bootstrap': 'localhost'");
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("kafka.topic.prefix", "a b")))
                .hasMessageContaining("'kafka.topic.prefix': 'a b'");
    }

    @Test
    void badValueSaysWhereItCameFrom() {
        assertThatThrownBy(() -> OrdersConfig.load(new String[0], Map.of("ORDERS_HTTP_PORT", "x"), new Properties()))
                .hasMessage("config key 'http.port': 'x' is not a port number (0..65535)"
                        + " (from environment variable ORDERS_HTTP_PORT)");
    }

    @Test
    void unknownKeysAndMalformedArgumentsAreRejected() {
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("http.prot", "1")))
                .hasMessageContaining("unknown config key 'http.prot'");
        assertThatThrownBy(() -> OrdersConfig.load(new String[] {"--http.prot=1"}, Map.of(), new Properties()))
                .hasMessageContaining("unknown config key 'http.prot'");
        assertThatThrownBy(() -> OrdersConfig.load(new String[] {"8080"}, Map.of(), new Properties()))
                .hasMessageContaining("'8080'");
    }

    @Test
    void withOverridesAndRoundTripsThroughAMap() {
        OrdersConfig config = OrdersConfig.defaults().with(Map.of("http.port", "0", "cors.origins", "http://x"));

        assertThat(config.httpPort()).isZero();
        assertThat(config.corsOrigins()).containsExactly("http://x");
        assertThat(OrdersConfig.fromMap(config.toMap())).isEqualTo(config);
        assertThat(config.with(PRODUCTION).mode()).isEqualTo(OrdersConfig.Mode.PRODUCTION);
    }

    @Test
    void describeMasksPasswordsAndHelpListsEveryKey() {
        OrdersConfig config = OrdersConfig.fromMap(Map.of("pg.uri", "postgresql://u:secret@h:5432/db"));

        assertThat(config.describe()).contains("postgresql://u:***@h:5432/db").doesNotContain("secret");
        String help = OrdersConfig.help();
        for (ConfigKey key : ConfigKey.values()) {
            assertThat(help).contains(key.key());
        }
        assertThat(OrdersConfig.helpRequested(new String[] {"--help"})).isTrue();
        assertThat(OrdersConfig.load(new String[] {"--help"}, Map.of(), new Properties()))
                .isEqualTo(OrdersConfig.defaults());
        assertThat(List.of(ConfigKey.values())).hasSize(53);
    }

    @Test
    void groupCommitIsOnUnlessTurnedOff() {
        assertThat(OrdersConfig.defaults().commandGroupCommit()).isTrue();
        assertThat(OrdersConfig.fromMap(Map.of("command.group-commit", "false")).commandGroupCommit()).isFalse();
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("command.group-commit", "sometimes")))
                .hasMessageContaining("'command.group-commit': 'sometimes'");
    }

    @Test
    void theCommandWorkersRunUnlessTurnedOff() {
        assertThat(OrdersConfig.defaults().commandWorkers()).isTrue();
        assertThat(OrdersConfig.fromMap(Map.of("command.workers", "false")).commandWorkers()).isFalse();
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("command.workers", "no")))
                .hasMessageContaining("'command.workers': 'no'");
    }

    @Test
    void theChangeLogsRetentionIsAPositiveDurationAndCount() {
        OrdersConfig config = OrdersConfig.fromMap(Map.of("push.retention", "PT2H", "push.retention-changes", "5000"));
        assertThat(config.pushRetention()).isEqualTo(java.time.Duration.ofHours(2));
        assertThat(config.pushRetentionChanges()).isEqualTo(5000);
        assertThat(OrdersConfig.defaults().pushRetention()).isEqualTo(java.time.Duration.ofHours(24));
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("push.retention", "PT0S")))
                .hasMessageContaining("'push.retention': 'PT0S'");
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("push.retention-changes", "0")))
                .hasMessageContaining("push.retention-changes");
    }

    @Test
    void theOperatorsStreamCapsAreKeysOfAtLeastOne() {
        OrdersConfig defaults = OrdersConfig.defaults();
        assertThat(defaults.pushOperatorEventsPerSecond()).isEqualTo(200);
        assertThat(defaults.pushOperatorMaxWaiting()).isEqualTo(2000);
        assertThat(defaults.pushOperatorMaxStreams()).isEqualTo(100);
        OrdersConfig config = OrdersConfig.fromMap(Map.of("push.operator.events-per-second", "10",
                "push.operator.max-waiting", "3", "push.operator.max-streams", "1"));
        assertThat(config.pushOperatorEventsPerSecond()).isEqualTo(10);
        assertThat(config.pushOperatorMaxWaiting()).isEqualTo(3);
        assertThat(config.pushOperatorMaxStreams()).isEqualTo(1);
        for (String key : List.of("push.operator.events-per-second", "push.operator.max-waiting",
                "push.operator.max-streams")) {
            assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of(key, "0"))).hasMessageContaining("'" + key + "': '0'");
            assertThat(OrdersConfig.help()).contains(key);
        }
    }

    @Test
    void sessionTimeoutsDefaultTo30And60SecondsAndRefuseZero() {
        OrdersConfig config = OrdersConfig.defaults();
        assertThat(config.pgSessions().statementTimeout()).isEqualTo(java.time.Duration.ofSeconds(30));
        assertThat(config.pgSessions().idleInTransactionTimeout()).isEqualTo(java.time.Duration.ofSeconds(60));
        assertThat(OrdersConfig.fromMap(Map.of("pg.idle-in-transaction-timeout", "PT5S")).pgSessions()
                .idleInTransactionTimeout()).isEqualTo(java.time.Duration.ofSeconds(5));
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("pg.statement-timeout", "PT0S")))
                .hasMessageContaining("pg.statement-timeout");
    }

    @Test
    void productionRefusesADevelopmentKeyWithoutPrintingIt() {
        String devKey = "a-development-key-that-is-long-enough-for-hmac";
        assertThat(OrdersConfig.fromMap(Map.of("auth.dev-key", devKey)).authDevKey()).isEqualTo(devKey);
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("mode", "production", "auth.dev-key", devKey)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("auth.dev-key").hasMessageContaining("refused in production")
                .hasMessageNotContaining(devKey);
        assertThatThrownBy(() -> OrdersConfig.fromMap(Map.of("auth.dev-key", "short")))
                .hasMessageContaining("shorter than 32");
        assertThat(OrdersConfig.fromMap(Map.of("auth.dev-key", devKey, "auth.service-token", "t0k3n")).describe())
                .doesNotContain(devKey).doesNotContain("t0k3n").contains("auth.dev-key = ***");
    }

    @Test
    void securitySettingsNeedTheIssuersKeysInProductionAndReadThemFromAPemFile() throws Exception {
        assertThat(OrdersConfig.defaults().securitySettings().production()).isFalse();
        assertThat(OrdersConfig.defaults().securitySettings().commandsPerSecond()).isEqualTo(20);
        OrdersConfig production = OrdersConfig.fromMap(PRODUCTION);
        assertThatThrownBy(production::securitySettings).hasMessageContaining("auth.public-keys")
                .hasMessageContaining("required in production");

        Path keys = dir.resolve("issuer.pem");
        String key = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----";
        Files.writeString(keys, "two keys of the issuer\n" + key + "\n" + key.replace("MFkw", "MFkx") + "\n");
        var settings = production.with(Map.of("auth.public-keys", keys.toString(), "auth.issuer", "https://issuer",
                "auth.algorithm", "ES256")).securitySettings();
        assertThat(settings.production()).isTrue();
        assertThat(settings.publicKeysPem()).hasSize(2).allSatisfy(pem -> assertThat(pem).startsWith("-----BEGIN PUBLIC KEY"));
        assertThat(settings.algorithm()).isEqualTo("ES256");
        assertThat(settings.issuer()).isEqualTo("https://issuer");

        Files.writeString(keys, "no key here");
        assertThatThrownBy(() -> production.with("auth.public-keys", keys.toString()).securitySettings())
                .hasMessageContaining("holds no PEM public key");
        assertThatThrownBy(() -> production.with("auth.public-keys", dir.resolve("missing.pem").toString()).securitySettings())
                .hasMessageContaining("cannot be read");

        var fromJwks = production.with("auth.jwks-url", "https://login.example/.well-known/jwks.json").securitySettings();
        assertThat(fromJwks.jwksUrl()).isEqualTo("https://login.example/.well-known/jwks.json");
        assertThat(fromJwks.publicKeysPem()).isEmpty();
        assertThatThrownBy(() -> production.with("auth.jwks-url", "ftp://login.example/keys"))
                .hasMessageContaining("auth.jwks-url").hasMessageContaining("http(s) URL");
    }
}
