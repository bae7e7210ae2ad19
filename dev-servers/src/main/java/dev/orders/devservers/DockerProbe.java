package dev.orders.devservers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.testcontainers.DockerClientFactory;

/**
 * Whether a Docker engine answers. Testcontainers is asked only when a Docker endpoint is configured
 * or a Docker socket exists, so that without Docker the answer is immediate and nothing is logged.
 */
final class DockerProbe {

    private DockerProbe() {
    }

    /** @return whether Testcontainers can start containers here */
    static boolean available() {
        if (!endpointConfigured()) {
            return false;
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    private static boolean endpointConfigured() {
        if (System.getenv("DOCKER_HOST") != null || System.getenv("TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE") != null) {
            return true;
        }
        Path home = Path.of(System.getProperty("user.home"));
        Stream<Path> candidates = Stream.of(
                Optional.of(Path.of("/var/run/docker.sock")),
                Optional.of(home.resolve(".docker/run/docker.sock")),
                Optional.of(home.resolve(".docker/desktop/docker.sock")),
                Optional.of(home.resolve(".testcontainers.properties")),
                Optional.ofNullable(System.getenv("XDG_RUNTIME_DIR")).map(dir -> Path.of(dir, "docker.sock")))
                .flatMap(Optional::stream);
        return candidates.anyMatch(Files::exists);
    }
}
