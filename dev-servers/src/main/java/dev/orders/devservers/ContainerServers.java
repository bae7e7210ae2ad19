package dev.orders.devservers;

import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

/** PostgreSQL and Kafka in Docker containers (Testcontainers), used when a Docker engine answers. */
final class ContainerServers {

    static final String POSTGRES_IMAGE = "postgres:17-alpine";
    static final String KAFKA_IMAGE = "apache/kafka:4.1.0";

    private ContainerServers() {
    }

    /** A running PostgreSQL container and how to administer it. */
    record Postgres(PostgreSQLContainer container, PgServer server) implements AutoCloseable {
        @Override
        public void close() {
            container.stop();
        }
    }

    /** A running Kafka container. */
    record Kafka(KafkaContainer container) implements AutoCloseable {
        String bootstrap() {
            return container.getBootstrapServers();
        }

        @Override
        public void close() {
            container.stop();
        }
    }

    @SuppressWarnings("resource") // closed by the caller through the returned record
    static Postgres postgres() {
        PostgreSQLContainer container = new PostgreSQLContainer(POSTGRES_IMAGE)
                .withDatabaseName("postgres").withUsername("postgres").withPassword("postgres");
        container.start();
        return new Postgres(container, new PgServer(container.getHost(), container.getMappedPort(5432),
                container.getUsername(), container.getPassword(), "PostgreSQL container " + POSTGRES_IMAGE));
    }

    @SuppressWarnings("resource") // closed by the caller through the returned record
    static Kafka kafka() {
        KafkaContainer container = new KafkaContainer(KAFKA_IMAGE);
        container.start();
        return new Kafka(container);
    }
}
