package dev.orders.command.handling;

import dev.orders.command.domain.CustomerCommand;
import dev.orders.command.domain.CustomerCommand.CreateCustomer;
import dev.orders.command.domain.CustomerCommand.ReleaseCredit;
import dev.orders.command.domain.CustomerCommand.ReserveCredit;
import dev.orders.command.domain.CustomerState;
import dev.orders.command.domain.Rejection;
import dev.orders.command.handling.CommandHandler.BatchWork;
import dev.orders.command.handling.CommandHandler.Batched;
import dev.orders.command.handling.CommandHandler.InTransaction;
import dev.orders.command.handling.CommandHandler.Outcome;
import dev.orders.command.store.EventStore;
import dev.orders.command.store.MigratedCommandStore;
import dev.orders.command.store.Snapshots;
import dev.orders.events.CustomerEvent.CreditLimitExceeded;
import dev.orders.events.CustomerEvent.CreditReleased;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import dev.orders.events.Money;
import dev.orders.events.StreamType;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Commands handled as a batch on the real event store: one load, decisions in order, one append; a
 * command delivered again after the state moved on is recognised by its events' ids; a batch that meets
 * another writer falls back to one command at a time and loses nothing.
 */
@ExtendWith(SharedInfrastructure.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("A batch of commands")
class BatchHandlingTest {

    private final EventStore store = new EventStore();
    private MigratedCommandStore database;
    private Vertx vertx;
    private Pool pool;
    private CommandHandler handler;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        database = MigratedCommandStore.open(infra, 8, 100, "batch-test");
        vertx = database.vertx();
        pool = database.pool();
        handler = new CommandHandler(vertx, pool, store, new Snapshots(), Clock.systemUTC(), UUID::randomUUID, 100, 8);
    }

    @AfterAll
    void stop() throws Exception {
        database.close();
    }

    @Test
    @DisplayName("decides one customer's commands in order, on one load, in one append")
    void decides_in_order() throws Exception {
        UUID customer = customer("100");
        UUID first = UUID.randomUUID();
        UUID second = UUID.randomUUID();
        UUID third = UUID.randomUUID();
        List<Outcome<CustomerState>> outcomes = await(handler.handleBatch(AggregateType.CUSTOMER, List.of(
                command(customer, new ReserveCredit(customer, first, eur("60"))),
                command(customer, new ReserveCredit(customer, second, eur("50"))),
                command(customer, new ReleaseCredit(customer, first)),
                command(customer, new ReserveCredit(customer, third, eur("50"))),
                command(UUID.randomUUID(), new ReleaseCredit(UUID.randomUUID(), first))), BatchWork.nothing()));

        assertThat(outcomes).hasSize(5);
        assertThat(outcomes.get(4)).isInstanceOfSatisfying(Outcome.Refused.class,
                refused -> assertThat(refused.refusal().rejection()).isEqualTo(Rejection.NOT_FOUND));
        assertThat(events(customer).subList(1, 5)).containsExactly(
                new CreditReserved(customer, first, eur("60")),
                new CreditLimitExceeded(customer, second, eur("50")),
                new CreditReleased(customer, first, eur("60")),
                new CreditReserved(customer, third, eur("50")));
        assertThat(versions(customer)).containsExactly(1, 2, 3, 4, 5);
        assertThat(await(handler.load(AggregateType.CUSTOMER, customer)).state().reserved()).isEqualTo(eur("50"));
    }

    @Test
    @DisplayName("recognises a command delivered again after the state moved on, and appends nothing")
    void recognises_a_redelivery_after_the_state_changed() throws Exception {
        UUID customer = customer("100");
        UUID order = UUID.randomUUID();
        Batched<CustomerCommand> reserve = command(customer, new ReserveCredit(customer, order, eur("60")));
        await(handler.handleBatch(AggregateType.CUSTOMER, List.of(reserve), BatchWork.nothing()));
        await(handler.handleBatch(AggregateType.CUSTOMER, List.of(command(customer, new ReleaseCredit(customer, order))),
                BatchWork.nothing()));
        assertThat(events(customer)).hasSize(3);

        // the customer forgot the order; the reservation delivered again would reserve anew, but its event exists
        List<Outcome<CustomerState>> again = await(handler.handleBatch(AggregateType.CUSTOMER, List.of(reserve),
                BatchWork.nothing()));

        assertThat(again).singleElement().isInstanceOf(Outcome.Duplicate.class);
        assertThat(events(customer)).hasSize(3);
        assertThat(await(handler.load(AggregateType.CUSTOMER, customer)).state().reserved()).isEqualTo(Money.zero("EUR"));

        // the same through the one-command path: the store's unique index recognises it
        var single = await(handler.handle(AggregateType.CUSTOMER, customer, reserve.command(), reserve.metadata(),
                InTransaction.nothing()));
        assertThat(single.appended()).isEmpty();
        assertThat(events(customer)).hasSize(3);
    }

    @Test
    @DisplayName("that meets another writer's append is decided again one command at a time, losing nothing")
    void falls_back_when_another_writer_comes_first() throws Exception {
        UUID customer = customer("100");
        UUID other = customer("100");
        UUID theirs = UUID.randomUUID();
        UUID mine = UUID.randomUUID();
        UUID elsewhere = UUID.randomUUID();
        // another writer appends version 2 and holds its transaction open
        SqlConnection writer = await(pool.getConnection());
        try {
            await(writer.query("BEGIN").execute());
            await(store.append(writer, StreamType.CUSTOMER, customer, 1, List.of(new EventEnvelope(UUID.randomUUID(), 2,
                    0, Instant.now(), 0, EventMetadata.NONE, new CreditReserved(customer, theirs, eur("70"))))));

            Future<List<Outcome<CustomerState>>> batch = handler.handleBatch(AggregateType.CUSTOMER, List.of(
                    command(customer, new ReserveCredit(customer, mine, eur("40"))),
                    command(other, new ReserveCredit(other, elsewhere, eur("40")))), BatchWork.nothing());
            // the batch loaded version 1 and now waits on the unique index for the writer's version 2
            WaitingInserts.await(pool, 1);
            await(writer.query("COMMIT").execute());

            List<Outcome<CustomerState>> outcomes = await(batch);
            assertThat(outcomes).allMatch(outcome -> outcome instanceof Outcome.Applied);
        } finally {
            writer.close();
        }
        assertThat(events(customer).subList(1, 3)).containsExactly(
                new CreditReserved(customer, theirs, eur("70")),
                new CreditLimitExceeded(customer, mine, eur("40")));
        assertThat(versions(customer)).containsExactly(1, 2, 3);
        assertThat(events(other)).last().isEqualTo(new CreditReserved(other, elsewhere, eur("40")));
    }

    @Test
    @DisplayName("decided on the state this process remembers, recognises a redelivery whose decision appends nothing")
    void recognises_a_redelivery_that_appends_nothing_on_the_remembered_state() throws Exception {
        UUID customer = customer("100");
        UUID order = UUID.randomUUID();
        await(handler.handleBatch(AggregateType.CUSTOMER, List.of(command(customer,
                new ReserveCredit(customer, order, eur("60")))), BatchWork.nothing()));
        Batched<CustomerCommand> release = command(customer, new ReleaseCredit(customer, order));
        await(handler.handleBatch(AggregateType.CUSTOMER, List.of(release), BatchWork.nothing()));
        assertThat(events(customer)).hasSize(3);

        // remembered: no reservation left, so releasing again would decide nothing; its first event id is stored
        List<Outcome<CustomerState>> again = await(handler.handleBatch(AggregateType.CUSTOMER, List.of(release),
                BatchWork.nothing()));

        assertThat(again).singleElement().isInstanceOf(Outcome.Duplicate.class);
        assertThat(events(customer)).hasSize(3);
    }

    @Test
    @DisplayName("decided on the state this process remembers, is decided again from the store when another writer moved the stream")
    void a_stream_moved_by_another_writer_is_decided_again_from_the_store() throws Exception {
        UUID customer = customer("100");
        UUID order = UUID.randomUUID();
        // another process (the saga instance that had this customer's partition) reserves credit: this process
        // still remembers the customer at version 1, without that reservation
        reservedByAnotherWriter(customer, order, eur("60"));

        // on the remembered state the release finds nothing to release and would append nothing
        List<Outcome<CustomerState>> outcomes = await(handler.handleBatch(AggregateType.CUSTOMER, List.of(
                command(customer, new ReleaseCredit(customer, order))), BatchWork.nothing()));

        assertThat(outcomes).singleElement().isInstanceOf(Outcome.Applied.class);
        assertThat(events(customer).subList(1, 3)).containsExactly(
                new CreditReserved(customer, order, eur("60")),
                new CreditReleased(customer, order, eur("60")));
        assertThat(await(handler.load(AggregateType.CUSTOMER, customer)).state().reserved()).isEqualTo(Money.zero("EUR"));
    }

    @Test
    @DisplayName("does its work once, in its transaction, for the commands applied and not for one refused")
    void does_its_work_once_for_the_commands_applied() throws Exception {
        UUID customer = customer("100");
        UUID unknown = UUID.randomUUID();
        UUID order = UUID.randomUUID();
        CustomerCommand reserve = new ReserveCredit(customer, order, eur("60"));
        CustomerCommand release = new ReleaseCredit(customer, order);
        List<List<CustomerCommand>> calls = new ArrayList<>();
        List<Boolean> inTransaction = new ArrayList<>();

        List<Outcome<CustomerState>> outcomes = await(handler.handleBatch(AggregateType.CUSTOMER, List.of(
                command(customer, reserve),
                command(unknown, new ReserveCredit(unknown, UUID.randomUUID(), eur("1"))),
                command(customer, release)), (tx, applied) -> {
                    calls.add(List.copyOf(applied));
                    // the batch's appends went before it in its transaction, which has a transaction id by now
                    return tx.query("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
                            .execute().map(rows -> inTransaction.add(rows.iterator().next().getBoolean(0))).mapEmpty();
                }));

        assertThat(outcomes.get(1)).isInstanceOf(Outcome.Refused.class);
        assertThat(calls).containsExactly(List.of(reserve, release));
        assertThat(inTransaction).containsExactly(true);
    }

    @Test
    @DisplayName("decided on the state this process remembers, appends after another writer moved the stream only once decided again from the store")
    void an_append_on_a_moved_stream_is_decided_again_from_the_store() throws Exception {
        UUID customer = customer("100");
        UUID theirs = UUID.randomUUID();
        UUID mine = UUID.randomUUID();
        // another process reserves 70 of the 100: this process still remembers the customer at version 1
        reservedByAnotherWriter(customer, theirs, eur("70"));

        // on the remembered state 40 fits and would be reserved as version 2, which is taken
        List<Outcome<CustomerState>> outcomes = await(handler.handleBatch(AggregateType.CUSTOMER, List.of(
                command(customer, new ReserveCredit(customer, mine, eur("40")))), BatchWork.nothing()));

        assertThat(outcomes).singleElement().isInstanceOf(Outcome.Applied.class);
        assertThat(events(customer).subList(1, 3)).containsExactly(
                new CreditReserved(customer, theirs, eur("70")),
                new CreditLimitExceeded(customer, mine, eur("40")));
    }

    /** Version 2 of the customer, a reservation, appended straight to the store as another process would. */
    private void reservedByAnotherWriter(UUID customer, UUID order, Money amount) throws Exception {
        await(store.appendAll(pool, List.of(new EventStore.Append(StreamType.CUSTOMER, customer, 1, List.of(
                new EventEnvelope(UUID.randomUUID(), 2, 0, Instant.now(), 0, EventMetadata.NONE,
                        new CreditReserved(customer, order, amount)))))));
    }

    private UUID customer(String limit) throws Exception {
        UUID id = UUID.randomUUID();
        await(handler.create(AggregateType.CUSTOMER, id, new CreateCustomer(id, "c", eur(limit)), EventMetadata.NONE,
                InTransaction.nothing()));
        return id;
    }

    private static Batched<CustomerCommand> command(UUID customer, CustomerCommand command) {
        EventMetadata metadata = new EventMetadata("corr", null, UUID.randomUUID().toString(), null);
        return new Batched<>(customer, command, metadata);
    }

    private List<DomainEvent> events(UUID stream) throws Exception {
        return await(store.load(pool, stream, 0)).stream().map(EventEnvelope::event).toList();
    }

    private List<Integer> versions(UUID stream) throws Exception {
        List<Integer> versions = new ArrayList<>();
        await(pool.preparedQuery("SELECT version FROM events WHERE stream_id = $1 ORDER BY id").execute(Tuple.of(stream)))
                .forEach(row -> versions.add(row.getInteger(0)));
        return versions;
    }

    private static Money eur(String amount) {
        return Money.parse(amount, "EUR");
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
