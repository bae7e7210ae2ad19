package dev.orders.devservers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orders.infra.config.OrdersConfig;
import io.vertx.pgclient.PgConnectOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** The embedded servers, for real: one start shared by the tests, then restarts. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EmbeddedInfrastructureTest {

    private static final String TOPIC = "infra-test";

    private static Path dataDir;
    private static Infrastructure infra;

    @BeforeAll
    static void start() throws Exception {
        dataDir = TestDirs.create("orders-infra-test");
        infra = Infrastructure.start(config(dataDir));
    }

    @AfterAll
    static void stop() throws Exception {
        if (infra != null) {
            infra.close();
        }
        TestDirs.delete(dataDir);
    }

    private static OrdersConfig config(Path dir) {
        return OrdersConfig.fromMap(Map.of("data.dir", dir.toString()));
    }

    @Test
    @Order(1)
    void commandRoleWritesIntoItsOwnSchema() throws Exception {
        try (Connection c = connect(infra.commandPgUri()); Statement s = c.createStatement()) {
            s.execute("create table kept (id text primary key)");
            s.execute("insert into kept values ('survives restarts')");
            ResultSet rows = s.executeQuery("select current_user, current_schema(), current_database()");
            rows.next();
            assertThat(rows.getString(1)).isEqualTo(PgProvisioner.COMMAND_ROLE);
            assertThat(rows.getString(2)).isEqualTo(PgProvisioner.COMMAND_SCHEMA);
            assertThat(rows.getString(3)).isEqualTo(Infrastructure.DATABASE);
        }
    }

    @Test
    @Order(2)
    void aCommitIsAnsweredOnlyOnceItsWalIsWrittenSoAPostgresCrashLosesNoAcknowledgedCommand() throws Exception {
        try (Connection c = connect(infra.commandPgUri()); Statement s = c.createStatement()) {
            assertThat(current(s, "current_setting('synchronous_commit')")).isEqualTo("on");
        }
    }

    @Test
    @Order(2)
    void queryRoleCannotReadTheCommandSchema() throws Exception {
        try (Connection c = connect(infra.queryPgUri()); Statement s = c.createStatement()) {
            s.execute("create table projection (id text)");
            assertThat(current(s, "current_schema()")).isEqualTo(PgProvisioner.QUERY_SCHEMA);
            assertThatThrownBy(() -> s.executeQuery("select * from command.kept"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for schema command");
            assertThatThrownBy(() -> s.execute("create table public.sneaky (id int)"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
        }
        try (Connection c = connect(infra.commandPgUri()); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("select * from query.projection"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for schema query");
        }
    }

    @Test
    @Order(3)
    void vertxPgClientAcceptsTheUris() {
        PgConnectOptions options = PgConnectOptions.fromUri(infra.commandPgUri());

        assertThat(options.getUser()).isEqualTo(PgProvisioner.COMMAND_ROLE);
        assertThat(options.getDatabase()).isEqualTo(Infrastructure.DATABASE);
        assertThat(options.getHost()).isEqualTo("127.0.0.1");
        assertThat(options.getProperties()).containsEntry("search_path", PgProvisioner.COMMAND_SCHEMA);
    }

    @Test
    @Order(4)
    void kafkaRoundTrip() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", infra.kafkaBootstrap()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        produce("k1", "hello");

        assertThat(consumeAll()).contains("hello");
    }

    @Test
    @Order(5)
    void secondProcessOnTheSameDataDirFailsClearly() {
        assertThatThrownBy(() -> Infrastructure.start(config(dataDir)))
                .isInstanceOf(InfrastructureException.class)
                .hasMessageContaining("is in use by another running process");
    }

    @Test
    @Order(6)
    void portInUseFailsWithOneClearLine() throws Exception {
        Path other = TestDirs.create("orders-infra-port");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            OrdersConfig config = config(other).with("kafka.embedded.port", Integer.toString(taken.getLocalPort()));
            assertThatThrownBy(() -> Infrastructure.start(config))
                    .isInstanceOf(InfrastructureException.class)
                    .hasMessage("port " + taken.getLocalPort() + " on 127.0.0.1 (config key 'kafka.embedded.port')"
                            + " is already in use; choose another or 0 for any free port");
        } finally {
            TestDirs.delete(other);
        }
    }

    @Test
    @Order(7)
    void restartKeepsDataAndCloseLeavesNoChildProcess() throws Exception {
        infra.close();
        assertNoChildProcess();

        long t = System.nanoTime();
        infra = Infrastructure.start(config(dataDir));
        System.out.println("restart took " + (System.nanoTime() - t) / 1_000_000 + " ms");

        try (Connection c = connect(infra.commandPgUri()); Statement s = c.createStatement()) {
            assertThat(current(s, "id from kept")).isEqualTo("survives restarts");
        }
        assertThat(consumeAll()).contains("hello");
        infra.close();
        assertNoChildProcess();
    }

    @Test
    @Order(8)
    void killedParentLeavesNothingThatBlocksTheNextStart() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process parent = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                KilledParentMain.class.getName(), dataDir.toString())
                .redirectErrorStream(true).start();
        long kafkaPid = -1;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(parent.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.startsWith("KAFKA_PID=")) {
                    kafkaPid = Long.parseLong(line.substring("KAFKA_PID=".length()));
                }
            }
        }
        assertThat(parent.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(parent.exitValue()).isEqualTo(9);
        assertThat(kafkaPid).isPositive();
        // the broker sees end of file on its stdin and halts
        ProcessHandle.of(kafkaPid).ifPresent(p -> p.onExit().orTimeout(10, TimeUnit.SECONDS).join());
        assertThat(ProcessHandle.of(kafkaPid).filter(ProcessHandle::isAlive)).isEmpty();

        // the orphaned postmaster still holds the data dir; the next start must cope
        infra = Infrastructure.start(config(dataDir));
        try (Connection c = connect(infra.commandPgUri()); Statement s = c.createStatement()) {
            assertThat(current(s, "id from kept")).isEqualTo("survives restarts");
        }
        infra.close();
        assertNoChildProcess();
    }

    private static void assertNoChildProcess() {
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList()).isEmpty();
    }

    private static String current(Statement s, String expression) throws SQLException {
        try (ResultSet rows = s.executeQuery("select " + expression)) {
            rows.next();
            return rows.getString(1);
        }
    }

    /** postgresql://user:pw@host:port/db?search_path=x as a JDBC connection. */
    static Connection connect(String pgUri) throws SQLException {
        URI uri = URI.create(pgUri);
        String[] userInfo = uri.getUserInfo().split(":", 2);
        return DriverManager.getConnection("jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + uri.getPath(),
                userInfo[0], userInfo[1]);
    }

    private static void produce(String key, String value) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBootstrap());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            producer.send(new ProducerRecord<>(TOPIC, key, value)).get(30, TimeUnit.SECONDS);
        }
    }

    private static List<String> consumeAll() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "g-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                List<String> values = new java.util.ArrayList<>();
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    values.add(r.value());
                }
                if (!values.isEmpty()) {
                    return values;
                }
            }
            return List.of();
        }
    }
}
