package dev.orders.testsupport;

import dev.orders.devservers.Infrastructure;
import dev.orders.infra.config.OrdersConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that starts PostgreSQL and Kafka once per test JVM, when a test first asks for a
 * {@link TestInfrastructure} parameter, and stops them when the test run ends (or the JVM exits).
 *
 * <pre>{@code
 * @ExtendWith({VertxExtension.class, SharedInfrastructure.class})
 * class MyTest {
 *     @BeforeAll
 *     static void setUp(TestInfrastructure infra) { OrdersConfig config = infra.isolatedConfig(); ... }
 * }
 * }</pre>
 *
 * Without a Docker engine the servers are the embedded ones; with one, containers.
 */
public final class SharedInfrastructure implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SharedInfrastructure.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == TestInfrastructure.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(Running.class, key -> Running.start(), Running.class)
                .infrastructure;
    }

    /**
     * The servers of this JVM. The root store closes them at the end of the run (JUnit 5.13+ closes
     * {@link AutoCloseable} values); the infrastructure's shutdown hook covers an abrupt JVM exit.
     */
    private record Running(TestInfrastructure infrastructure, Infrastructure servers, Path root)
            implements AutoCloseable {

        static Running start() {
            Path root = createRoot();
            Infrastructure servers = Infrastructure.start(OrdersConfig.defaults().with(Map.of(
                    "data.dir", root.resolve("servers").toString())));
            return new Running(new TestInfrastructure(servers, root), servers, root);
        }

        @Override
        public void close() {
            servers.close();
            deleteQuietly(root);
        }

        /** Under /tmp, traversable by user 'nobody', which embedded PostgreSQL may run as. */
        private static Path createRoot() {
            try {
                Path root = Files.createTempDirectory("orders-test-");
                Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
                return root;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static void deleteQuietly(Path root) {
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException | UncheckedIOException e) {
                // a temp folder left behind is harmless
            }
        }
    }
}
