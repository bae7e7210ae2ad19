package dev.orders.command.saga;

import dev.orders.command.saga.SagaDeadLetters.DeadLetter;
import dev.orders.command.saga.SagaDeadLetters.Redrive;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.EventMetadata;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent.OrderCancelled;
import dev.orders.events.OrderStatus;
import dev.orders.events.StreamType;
import dev.orders.events.Topics;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static dev.orders.command.saga.SagaWorld.await;
import static dev.orders.command.saga.SagaWorld.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Records the saga cannot handle are parked in {@code saga_dead_letters} and their partition goes on; a
 * re-drive once the cause is gone runs their reaction, once; a PostgreSQL outage parks nothing.
 */
@ExtendWith(SharedInfrastructure.class)
@DisplayName("The saga's dead letters")
class SagaDeadLetterTest {

    private static final Money LIMIT = new Money(new BigDecimal("1000"), "EUR");
    private static final Money TOTAL = new Money(new BigDecimal("250"), "EUR");
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    @DisplayName("park an OrderCancelled of a newer schema, handle the records behind it, and release its credit "
            + "when re-driven in the schema the service knows, once however often it is re-driven")
    void a_record_of_a_newer_schema_is_parked_and_its_redrive_releases_the_credit_once(TestInfrastructure infra)
            throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            UUID customer = world.createCustomer(LIMIT);
            UUID order = approvedOrder(world, customer);

            // A newer writer stored the cancellation in schema version 99; the relay passes it on as stored.
            SqlConnection horizon = await(world.pool.getConnection());
            try {
                await(horizon.query("BEGIN").execute());
                await(horizon.query("SELECT pg_current_xact_id()").execute()); // the relay waits behind it
                assertThat(await(world.cancel(order))).isTrue();
                await(world.pool.preparedQuery("UPDATE events SET schema_version = 99 WHERE stream_id = $1 AND "
                        + "event_type = 'OrderCancelled'").execute(Tuple.of(order)));
                await(horizon.query("COMMIT").execute());
            } finally {
                horizon.close();
            }
            UUID behind = UUID.randomUUID();
            await(world.placeOrder(behind, customer, TOTAL)); // its record follows the poison in the same partition
            eventually(WAIT, "the order behind it approved", () -> world.order(behind).status(),
                    status -> status == OrderStatus.APPROVED);

            SagaDeadLetters letters = service.saga.deadLetters();
            DeadLetter parked = onlyLetter(letters);
            assertThat(parked.topic()).isEqualTo(Topics.of(config.kafkaTopicPrefix(), StreamType.ORDER));
            assertThat(parked.partition()).isEqualTo(partitionOf(customer, config));
            assertThat(parked.key()).isEqualTo(customer.toString());
            assertThat(parked.error()).contains("schema version 99");
            assertThat(parked.attempts()).as("decoding cannot change: parked at once").isEqualTo(1);
            assertThat(parked.state()).isEqualTo("PARKED");
            assertThat(parked.headers()).contains(new JsonObject().put("key", Topics.HEADER_STREAM_ID)
                    .put("value", order.toString()));
            assertThat(new String(parked.payload(), StandardCharsets.UTF_8)).contains("\"OrderCancelled\"");
            assertThat(world.customer(customer).reserved()).as("the cancelled order's credit is still held")
                    .isEqualTo(TOTAL.plus(TOTAL));
            await(letters.refreshCount());
            assertThat(letters.parkedCount()).isEqualTo(1);

            Redrive unchanged = await(letters.redrive(parked.id(), null));
            assertThat(unchanged).as("re-driven as it is, it fails again")
                    .isInstanceOfSatisfying(Redrive.FailedAgain.class, failed -> {
                        assertThat(failed.attempts()).isEqualTo(2);
                        assertThat(failed.mayPass()).isFalse();
                    });
            assertThat(onlyLetter(letters).state()).isEqualTo("PARKED");

            // The cause removed: the envelope in the schema this service knows. Two operators at once, then a third.
            byte[] known = new String(parked.payload(), StandardCharsets.UTF_8)
                    .replace("\"schemaVersion\":99", "\"schemaVersion\":1").getBytes(StandardCharsets.UTF_8);
            assertThat(known).isNotEqualTo(parked.payload());
            List<Future<Redrive>> both = List.of(letters.redrive(parked.id(), known), letters.redrive(parked.id(), known));
            await(Future.join(both));
            assertThat(both.stream().map(f -> f.result().getClass().getSimpleName()).toList())
                    .containsExactlyInAnyOrder("Redriven", "AlreadyRedriven");
            assertThat(world.customer(customer).reserved()).as("the cancelled order's credit released").isEqualTo(TOTAL);
            long events = world.count("SELECT count(*) FROM events");
            assertThat(await(letters.redrive(parked.id(), known))).isInstanceOf(Redrive.AlreadyRedriven.class);
            assertThat(world.count("SELECT count(*) FROM events")).as("events after a third re-drive").isEqualTo(events);
            assertThat(world.count("SELECT count(*) FROM events WHERE event_type = 'CreditReleased'")).isEqualTo(1);
            DeadLetter redriven = onlyLetter(letters);
            assertThat(redriven.state()).isEqualTo("REDRIVEN");
            assertThat(redriven.attempts()).isEqualTo(3);
            assertThat(redriven.redrivenAt()).isNotNull();
            assertThat(letters.parkedCount()).isZero();
        }
    }

    @Test
    @DisplayName("park a record whose reaction fails the same way every time after its attempts, and go on")
    void a_reaction_that_always_fails_is_parked_after_its_attempts(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config)) {
            UUID customer = world.createCustomer(LIMIT);
            UUID order = approvedOrder(world, customer);
            // A cancellation that names the order as its own customer: loading that "customer" fails on an order's events.
            EventEnvelope misdirected = new EventEnvelope(UUID.randomUUID(), 3, 0, Instant.now(), 1,
                    new EventMetadata("misdirected", null, null, null), new OrderCancelled(order, order));
            world.publishRaw(StreamType.ORDER, customer.toString(), EventJson.encode(misdirected));
            UUID behind = UUID.randomUUID();
            await(world.placeOrder(behind, customer, TOTAL));
            eventually(WAIT, "the order behind it approved", () -> world.order(behind).status(),
                    status -> status == OrderStatus.APPROVED);

            SagaDeadLetters letters = service.saga.deadLetters();
            DeadLetter parked = onlyLetter(letters);
            assertThat(parked.attempts()).isEqualTo(SagaRecords.MAX_ATTEMPTS);
            assertThat(parked.error()).startsWith("IllegalStateException");
            assertThat(parked.partition()).isEqualTo(partitionOf(customer, config));
            assertThat(world.customer(customer).reserved()).isEqualTo(TOTAL.plus(TOTAL));

            byte[] corrected = EventJson.encode(new EventEnvelope(misdirected.eventId(), 3, 0, misdirected.occurredAt(), 1,
                    misdirected.metadata(), new OrderCancelled(order, customer)));
            assertThat(await(letters.redrive(parked.id(), corrected)))
                    .isInstanceOfSatisfying(Redrive.Redriven.class, done -> assertThat(done.refusal()).isNull());
            assertThat(world.customer(customer).reserved()).isEqualTo(TOTAL);
        }
    }

    @Test
    @DisplayName("retry a record through a PostgreSQL outage longer than its attempts take, and park nothing")
    void an_outage_delays_records_and_parks_none(TestInfrastructure infra) throws Exception {
        OrdersConfig config = infra.isolatedConfig();
        String database = TestInfrastructure.databaseOf(config);
        try (SagaWorld world = new SagaWorld(config); SagaService service = SagaService.start(config);
             Connection admin = infra.superuserConnection("postgres"); Statement sql = admin.createStatement()) {
            UUID customer = world.createCustomer(LIMIT);
            await(service.saga.pauseConsumer());
            UUID order = UUID.randomUUID();
            await(world.placeOrder(order, customer, TOTAL));
            eventually(WAIT, "the order published", () -> world.count(
                    "SELECT count(*) FROM unpublished_events"), unpublished -> unpublished == 0);

            try {
                sql.execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS false");
                sql.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database
                        + "' AND pid <> pg_backend_pid()");
                await(service.saga.resumeConsumer());
                Thread.sleep(3_000); // several times what the attempts of a failure that recurs take
            } finally {
                sql.execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS true");
            }

            eventually(WAIT, "the credit reserved once the database is back", () -> world.customer(customer).reserved(),
                    TOTAL::equals);
            eventually(WAIT, "the order approved", () -> world.order(order).status(), status -> status == OrderStatus.APPROVED);
            assertThat(world.count("SELECT count(*) FROM saga_dead_letters")).as("records parked").isZero();
        }
    }

    private static UUID approvedOrder(SagaWorld world, UUID customer) throws Exception {
        UUID order = UUID.randomUUID();
        await(world.placeOrder(order, customer, TOTAL));
        eventually(WAIT, "the order approved", () -> world.order(order).status(), status -> status == OrderStatus.APPROVED);
        return order;
    }

    private static DeadLetter onlyLetter(SagaDeadLetters letters) throws Exception {
        return eventually(WAIT, "one record parked", () -> await(letters.list(0, 10)).items(), items -> items.size() == 1)
                .getFirst();
    }

    /** The partition Kafka's default partitioner gives a key: that of every record keyed by this customer. */
    private static int partitionOf(UUID customer, OrdersConfig config) {
        return Utils.toPositive(Utils.murmur2(customer.toString().getBytes(StandardCharsets.UTF_8)))
                % config.kafkaPartitions();
    }
}
