package dev.orders.infra;

import dev.orders.infra.config.ConfigKey;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.http.Health;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The deployment files (deploy/: Dockerfiles, docker-compose.yml, nginx.conf, Kubernetes manifests)
 * cannot run on the build machines, so they are read here against the code: every ORDERS_ variable
 * they set is a configuration key, the values they set make a valid production configuration, every
 * port is the HTTP port they configure, every probe asks a path that {@link Health} serves, and
 * nginx sends each command route to the command side and every other route to the query side.
 * (That each image's entry point is the main class of the jar it copies is checked by the
 * service modules' {@code *JarIT}, against the packaged jars.)
 */
@DisplayName("The deployment files agree with the code")
class DeploymentFilesTest {

    private static final Path DEPLOY = Path.of("..", "deploy");
    private static final Pattern ORDERS_VARIABLE = Pattern.compile("\\b(ORDERS_[A-Z0-9_]+)\\b");
    private static final Set<String> CONFIG_VARIABLES = Arrays.stream(ConfigKey.values())
            .map(ConfigKey::environmentVariable).collect(Collectors.toSet());
    private static final String PORT = "8080";

    private static String read(String file) {
        try {
            return Files.readString(DEPLOY.resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> deployFiles() throws IOException {
        try (Stream<Path> files = Files.walk(DEPLOY)) {
            return files.filter(Files::isRegularFile).map(f -> DEPLOY.relativize(f).toString()).sorted().toList();
        }
    }

    @Test
    @DisplayName("every ORDERS_ variable that a deployment file names is a configuration key")
    void every_orders_variable_is_a_configuration_key() throws IOException {
        Set<String> named = new TreeSet<>();
        for (String file : deployFiles()) {
            Matcher variable = ORDERS_VARIABLE.matcher(read(file));
            while (variable.find()) {
                named.add(variable.group(1));
                assertThat(CONFIG_VARIABLES).as(variable.group(1) + " in deploy/" + file).contains(variable.group(1));
            }
        }
        assertThat(named).as("the files set the keys a cluster needs").contains("ORDERS_MODE", "ORDERS_KAFKA_BOOTSTRAP",
                "ORDERS_COMMAND_PG_URI", "ORDERS_QUERY_PG_URI", "ORDERS_KAFKA_REPLICATION_FACTOR",
                "ORDERS_KAFKA_MIN_INSYNC_REPLICAS", "ORDERS_AUTH_PUBLIC_KEYS", "ORDERS_RATE_PROCESSES");
    }

    @Test
    @DisplayName("the compose file's and the ConfigMap's values make a valid production configuration")
    void the_values_they_set_make_a_valid_production_configuration() {
        Map<String, String> compose = yamlVariables(section(read("docker-compose.yml"), "x-orders-env:"));
        OrdersConfig fromCompose = OrdersConfig.load(new String[0], compose, new Properties());
        assertThat(fromCompose.mode()).isEqualTo(OrdersConfig.Mode.PRODUCTION);
        assertThat(fromCompose.kafkaCluster().replicationFactor()).isEqualTo((short) 3);
        assertThat(fromCompose.kafkaCluster().minInsyncReplicas()).isEqualTo(2);
        assertThat(fromCompose.httpPort()).isEqualTo(Integer.parseInt(PORT));

        Map<String, String> configMap = new LinkedHashMap<>(yamlVariables(section(read("kubernetes/config.yaml"), "data:")));
        // the Secret's keys, as the Deployments read them
        for (String side : List.of("command", "query")) {
            Matcher secret = Pattern.compile("- name: (ORDERS_[A-Z_]+)\\s+valueFrom:\\s+secretKeyRef")
                    .matcher(read("kubernetes/" + side + "-service.yaml"));
            while (secret.find()) {
                configMap.put(secret.group(1), secret.group(1).endsWith("PG_URI")
                        ? "postgresql://u:p@pg.example:5432/orders" : "a-secret");
            }
        }
        OrdersConfig fromKubernetes = OrdersConfig.load(new String[0], configMap, new Properties());
        assertThat(fromKubernetes.mode()).isEqualTo(OrdersConfig.Mode.PRODUCTION);
        assertThat(fromKubernetes.httpPort()).isEqualTo(Integer.parseInt(PORT));
        assertThat(fromKubernetes.rateProcesses()).as("rate.processes matches the command Deployment's replicas")
                .isEqualTo(replicas(read("kubernetes/command-service.yaml")));
        assertThat(fromCompose.rateProcesses()).as("rate.processes matches the compose file's command processes")
                .isEqualTo((int) read("docker-compose.yml").lines().filter(l -> l.matches("  command-\\d+: \\*command")).count());
    }

    @Test
    @DisplayName("the images expose, set and probe the same port, and probe /health/live")
    void the_images_expose_set_and_probe_one_port_and_the_liveness_path() {
        for (String service : List.of("command-service", "query-service")) {
            String dockerfile = read(service + "/Dockerfile");
            assertThat(dockerfile).as(service).contains("ORDERS_HTTP_PORT=" + PORT).contains("EXPOSE " + PORT)
                    .contains("/dev/tcp/127.0.0.1/" + PORT).contains("GET " + Health.LIVE + " ")
                    .containsPattern("(?m)^USER 10001").containsPattern("(?m)^FROM eclipse-temurin:(2[1-9]|[3-9]\\d)");
            assertThat(dockerfile).as(service + " copies its module's jar")
                    .contains("COPY " + service + "/target/orders-" + service + ".jar ");
        }
    }

    @Test
    @DisplayName("the Deployments probe /health/live and /health/ready on the port the services listen on")
    void the_deployments_probe_the_health_paths_on_the_http_port() {
        for (String side : List.of("command", "query")) {
            String manifest = read("kubernetes/" + side + "-service.yaml");
            assertThat(manifest).as(side).contains("containerPort: " + PORT)
                    .containsPattern("livenessProbe:\\s+httpGet: \\{path: " + Health.LIVE + ", port: http}")
                    .containsPattern("readinessProbe:\\s+httpGet: \\{path: " + Health.READY + ", port: http}")
                    .contains("kind: PodDisruptionBudget").contains("kind: Service").contains("resources:");
        }
        String compose = read("docker-compose.yml");
        assertThat(compose).contains("kafka-1:", "kafka-2:", "kafka-3:", "command-1:", "command-2:", "query-1:", "query-2:");
        List<String> upstreams = new ArrayList<>();
        Matcher server = Pattern.compile("server ([a-z-]+[0-9]?):(\\d+)").matcher(read("nginx/nginx.conf"));
        while (server.find()) {
            upstreams.add(server.group(1));
            assertThat(server.group(2)).as("port of " + server.group(1)).isEqualTo(PORT);
            assertThat(compose).as("nginx's upstream " + server.group(1) + " is a compose service")
                    .contains("\n  " + server.group(1) + ":");
        }
        assertThat(upstreams).hasSize(4);
    }

    @Test
    @DisplayName("nginx sends commands to the command side and everything else to the query side, streams unbuffered")
    void nginx_routes_commands_to_the_command_side_and_streams_unbuffered() {
        for (String conf : List.of(read("nginx/nginx.conf"), read("kubernetes/gateway.yaml"))) {
            Map<Pattern, String> routes = nginxRoutes(conf);
            for (String command : List.of("POST /api/customers", "POST /api/orders", "POST /api/orders/42/cancel",
                    "GET /api/admin/events", "GET /api/openapi/command-api.json", "GET /api/admin/saga/dead-letters",
                    "POST /api/admin/saga/dead-letters/3/redrive")) {
                assertThat(side(routes, command)).as(command).isEqualTo("command_side");
            }
            for (String query : List.of("GET /api/orders", "GET /api/orders/42", "GET /api/orders/42/history",
                    "GET /api/customers/7/orders/stream", "GET /api/orders/42/stream", "GET /api/ws",
                    "POST /api/admin/rebuild", "POST /api/admin/dead-letters/3/redrive", "GET /api/customers/7",
                    "GET /api/admin/dead-letters", "GET /api/openapi/query-api.json")) {
                assertThat(side(routes, query)).as(query).isEqualTo("query_side");
            }
            assertThat(conf).contains("proxy_buffering off;").contains("proxy_read_timeout 3600s;")
                    .contains("proxy_set_header Upgrade $http_upgrade;").contains("proxy_http_version 1.1;");
        }
    }

    /** The lines of a top-level YAML block, from its key to the next top-level key. */
    private static String section(String yaml, String key) {
        int start = yaml.indexOf("\n" + key);
        assertThat(start).as(key).isNotNegative();
        Matcher next = Pattern.compile("\n[A-Za-z]").matcher(yaml);
        return next.find(start + 1 + key.length()) ? yaml.substring(start, next.start()) : yaml.substring(start);
    }

    /** {@code ORDERS_X: value} lines, quotes and comments removed. */
    private static Map<String, String> yamlVariables(String block) {
        Map<String, String> values = new LinkedHashMap<>();
        Matcher line = Pattern.compile("(?m)^\\s+(ORDERS_[A-Z0-9_]+):\\s*(.*?)\\s*$").matcher(block);
        while (line.find()) {
            values.put(line.group(1), line.group(2).replaceAll("^\"|\"$", ""));
        }
        assertThat(values).isNotEmpty();
        return values;
    }

    private static int replicas(String manifest) {
        Matcher replicas = Pattern.compile("replicas: (\\d+)").matcher(manifest);
        assertThat(replicas.find()).isTrue();
        return Integer.parseInt(replicas.group(1));
    }

    /** The regex lines of the {@code map "$request_method $uri" $orders_side} block, in order. */
    private static Map<Pattern, String> nginxRoutes(String conf) {
        int start = conf.indexOf("map \"$request_method $uri\" $orders_side {");
        String block = conf.substring(start, conf.indexOf('}', start));
        Map<Pattern, String> routes = new LinkedHashMap<>();
        Matcher route = Pattern.compile("\"~(.+?)\"\\s+([a-z_]+);").matcher(block);
        while (route.find()) {
            routes.put(Pattern.compile(route.group(1)), route.group(2));
        }
        Matcher fallback = Pattern.compile("default\\s+([a-z_]+);").matcher(block);
        assertThat(fallback.find()).isTrue();
        routes.put(Pattern.compile(".*"), fallback.group(1));
        return routes;
    }

    private static String side(Map<Pattern, String> routes, String request) {
        return routes.entrySet().stream().filter(e -> e.getKey().matcher(request).find()).findFirst()
                .map(Map.Entry::getValue).orElseThrow();
    }
}
