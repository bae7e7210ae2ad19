package dev.orders.query.push;

import dev.orders.infra.Infrastructure;
import dev.orders.infra.PgDatabase;
import dev.orders.infra.PgProvisioner;
import dev.orders.infra.config.OrdersConfig;
import io.vertx.pgclient.PgConnectOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A real PostgreSQL (the project's embedded one) started once per test JVM, and a fresh database for
 * each test, reached as the query side's role with its schema first on the search path.
 * <p>
 * Stands in for test-support's {@code SharedInfrastructure} until it exists; only PostgreSQL is needed
 * here (the push hub reads the change log, not Kafka).
 */
final class PushTestDatabase {

    private static Infrastructure infrastructure;

    private PushTestDatabase() {
    }

    /** Options of a new, empty database holding the change-log tables. Blocking: call from a test thread. */
    static synchronized PgConnectOptions fresh() throws Exception {
        if (infrastructure == null) {
            Path data = Files.createTempDirectory("push-tests");
            data.toFile().setReadable(true, false);
            data.toFile().setExecutable(true, false);
            infrastructure = Infrastructure.start(OrdersConfig.fromMap(Map.of(
                    "data.dir", data.toString(),
                    // Only PostgreSQL: an external Kafka address stops the embedded broker from starting.
                    "kafka.bootstrap", "127.0.0.1:9")));
        }
        PgProvisioner provisioner = infrastructure.provisioner().orElseThrow();
        PgDatabase database = provisioner.provision("push_" + PgProvisioner.randomToken(10));
        return PgConnectOptions.fromUri(database.queryPgUri());
    }
}
