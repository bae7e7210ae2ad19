package dev.orders.command.domain;

import dev.orders.command.domain.CustomerCommand.CreateCustomer;
import dev.orders.command.domain.CustomerCommand.ReleaseCredit;
import dev.orders.command.domain.CustomerCommand.ReserveCredit;
import dev.orders.command.domain.OrderCommand.ApproveOrder;
import dev.orders.command.domain.OrderCommand.CancelOrder;
import dev.orders.command.domain.OrderCommand.CreateOrder;
import dev.orders.command.domain.OrderCommand.RejectOrder;
import dev.orders.events.CustomerEvent;
import dev.orders.events.DomainEvent;
import dev.orders.events.EventJson;
import dev.orders.events.Money;
import dev.orders.events.OrderEvent;
import dev.orders.events.OrderStatus;
import dev.orders.events.RejectionReason;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Label;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.PropagationMode;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random command sequences against both aggregates, as the saga and the API would send them:
 * repeated, late and out of order. Tries scale with {@code -Dorders.test.scale=N}.
 */
@Label("Random command sequences")
@AddLifecycleHook(value = ScaledTries.class, propagateTo = PropagationMode.ALL_DESCENDANTS)
class RandomCommandSequencesTest {

    private static final UUID CUSTOMER = UUID.fromString("00000000-0000-0000-0000-00000000c001");
    private static final List<UUID> ORDERS = LongStream.rangeClosed(1, 6)
            .mapToObj(n -> new UUID(0, 0xa000 + n)).toList();
    private static final Set<OrderStatus> FINAL = Set.of(OrderStatus.REJECTED, OrderStatus.CANCELLED);

    @Property
    @Label("keep a customer's credit within its limit, its stream contiguous and its state a fold of its events")
    void customer_sequences_keep_credit_within_limit(@ForAll("customerCommands") List<CustomerCommand> commands)
            throws Exception {
        Run<CustomerCommand, CustomerState, CustomerEvent> run =
                new Run<>(Customer.INSTANCE, CustomerCommand::streamId, RandomCommandSequencesTest::expectedRejection);

        for (CustomerCommand command : commands) {
            run.apply(command);
            assertCreditInvariants(run.state);
        }

        run.assertConsistent(CustomerState.class);
    }

    @Property
    @Label("move an order only along its life cycle, its stream contiguous and its state a fold of its events")
    void order_sequences_follow_the_life_cycle(@ForAll("orderCommands") List<OrderCommand> commands)
            throws Exception {
        Run<OrderCommand, OrderState, OrderEvent> run =
                new Run<>(Order.INSTANCE, OrderCommand::streamId, RandomCommandSequencesTest::expectedRejection);

        for (OrderCommand command : commands) {
            OrderStatus before = run.state.status();
            run.apply(command);
            assertOrderInvariants(before, run.state);
        }

        run.assertConsistent(OrderState.class);
    }

    private static void assertCreditInvariants(CustomerState state) {
        if (!state.exists()) {
            assertThat(state).isEqualTo(CustomerState.NONE);
            return;
        }
        Money sum = Money.zero(state.creditLimit().currency());
        for (Money amount : state.reservations().values()) {
            sum = sum.plus(amount);
        }
        assertThat(state.reserved()).as("reserved credit is the sum of the reservations").isEqualTo(sum);
        assertThat(state.reserved().amount()).as("reserved credit is never negative").isNotNegative();
        assertThat(state.reserved()).as("reserved credit never exceeds the limit")
                .isLessThanOrEqualTo(state.creditLimit());
        assertThat(state.available().plus(state.reserved())).isEqualTo(state.creditLimit());
    }

    private static void assertOrderInvariants(OrderStatus before, OrderState after) {
        OrderStatus now = after.status();
        if (before != now) {
            Set<OrderStatus> allowed = before == null ? Set.of(OrderStatus.PENDING) : switch (before) {
                case PENDING -> Set.of(OrderStatus.APPROVED, OrderStatus.REJECTED, OrderStatus.CANCELLED);
                case APPROVED -> Set.of(OrderStatus.CANCELLED);
                case REJECTED, CANCELLED -> Set.of();
            };
            assertThat(now).as("an order goes from %s only to %s", before, allowed).isIn(allowed);
        }
        assertThat(after.reason() != null).as("only a rejected order has a reason")
                .isEqualTo(now == OrderStatus.REJECTED);
    }

    /** The rules' refusals, restated plainly: what decide must refuse, and nothing else. */
    private static Optional<Rejection> expectedRejection(CustomerCommand command, CustomerState state) {
        return switch (command) {
            case CreateCustomer create -> state.exists() ? Optional.of(Rejection.ALREADY_EXISTS) : Optional.empty();
            case ReserveCredit reserve -> !state.exists() ? Optional.of(Rejection.NOT_FOUND)
                    : !reserve.amount().sameCurrencyAs(state.creditLimit()) ? Optional.of(Rejection.CURRENCY_MISMATCH)
                    : Optional.empty();
            case ReleaseCredit release -> state.exists() ? Optional.empty() : Optional.of(Rejection.NOT_FOUND);
        };
    }

    private static Optional<Rejection> expectedRejection(OrderCommand command, OrderState state) {
        if (command instanceof CreateOrder) {
            return state.exists() ? Optional.of(Rejection.ALREADY_EXISTS) : Optional.empty();
        }
        if (!state.exists()) {
            return Optional.of(Rejection.NOT_FOUND);
        }
        return switch (command) {
            case ApproveOrder approve ->
                    FINAL.contains(state.status()) ? Optional.of(Rejection.INVALID_STATE) : Optional.empty();
            case CancelOrder cancel ->
                    FINAL.contains(state.status()) ? Optional.of(Rejection.INVALID_STATE) : Optional.empty();
            case CreateOrder create -> throw new AssertionError("handled above");
            case RejectOrder reject -> Optional.empty();
        };
    }

    @Provide
    Arbitrary<List<CustomerCommand>> customerCommands() {
        Arbitrary<UUID> order = Arbitraries.of(ORDERS);
        Arbitrary<CustomerCommand> create = money(1, 200_00)
                .map(limit -> new CreateCustomer(CUSTOMER, "Customer", limit));
        Arbitrary<CustomerCommand> reserve = Combinators.combine(order, money(1, 120_00))
                .as((orderId, amount) -> new ReserveCredit(CUSTOMER, orderId, amount));
        Arbitrary<CustomerCommand> release = order.map(orderId -> new ReleaseCredit(CUSTOMER, orderId));
        Arbitrary<CustomerCommand> command = Arbitraries.frequencyOf(
                Tuple.of(1, create), Tuple.of(7, reserve), Tuple.of(4, release));
        return Combinators.combine(create, command.list().ofMaxSize(40))
                .as(RandomCommandSequencesTest::mostlyCreatedFirst);
    }

    @Provide
    Arbitrary<List<OrderCommand>> orderCommands() {
        UUID orderId = ORDERS.getFirst();
        Arbitrary<OrderCommand> create = Combinators.combine(Arbitraries.of(CUSTOMER, new UUID(0, 0xc002)),
                money(1, 1000_00)).as((customerId, total) -> new CreateOrder(orderId, customerId, total));
        Arbitrary<OrderCommand> approve = Arbitraries.just(new ApproveOrder(orderId));
        Arbitrary<OrderCommand> reject = Arbitraries.of(RejectionReason.class)
                .map(reason -> new RejectOrder(orderId, reason));
        Arbitrary<OrderCommand> cancel = Arbitraries.just(new CancelOrder(orderId));
        Arbitrary<OrderCommand> command = Arbitraries.frequencyOf(Tuple.of(1, create),
                Tuple.of(3, approve), Tuple.of(3, reject), Tuple.of(2, cancel));
        return Combinators.combine(create, command.list().ofMaxSize(15))
                .as(RandomCommandSequencesTest::mostlyCreatedFirst);
    }

    /** Most sequences start by creating the aggregate, so that they get past NOT_FOUND. */
    private static <C> List<C> mostlyCreatedFirst(C create, List<C> rest) {
        if (rest.size() % 5 == 4) {
            return rest;
        }
        List<C> all = new ArrayList<>(rest.size() + 1);
        all.add(create);
        all.addAll(rest);
        return all;
    }

    /** Cents in EUR mostly, sometimes USD, so that currency mismatches occur. */
    private static Arbitrary<Money> money(int minCents, int maxCents) {
        Arbitrary<String> currency = Arbitraries.frequency(
                Tuple.of(9, "EUR"), Tuple.of(1, "USD"));
        return Combinators.combine(Arbitraries.integers().between(minCents, maxCents), currency)
                .as((cents, code) -> new Money(BigDecimal.valueOf(cents, 2), code));
    }

    /** One aggregate's stream, built command by command; checks every step and the whole. */
    private static final class Run<C, S, E extends DomainEvent> {

        interface Oracle<C, S> {
            Optional<Rejection> expected(C command, S state);
        }

        private final Decider<C, S, E> decider;
        private final Function<C, UUID> streamIdOf;
        private final Oracle<C, S> oracle;
        private final InMemoryStream<E> stream = new InMemoryStream<>();
        S state;

        Run(Decider<C, S, E> decider, Function<C, UUID> streamIdOf, Oracle<C, S> oracle) {
            this.decider = decider;
            this.streamIdOf = streamIdOf;
            this.oracle = oracle;
            this.state = decider.initialState();
        }

        void apply(C command) {
            Optional<Rejection> expected = oracle.expected(command, state);
            List<E> events;
            try {
                events = decider.decide(command, state);
            } catch (DomainException refused) {
                assertThat(Optional.of(refused.rejection())).as("refusal of %s", command).isEqualTo(expected);
                // Nothing was returned, so nothing can be appended: the stream and state stay as they were.
                return;
            }
            assertThat(expected).as("%s should have been refused", command).isEmpty();
            assertThat(events).as("events of %s", command).hasSizeLessThanOrEqualTo(1)
                    .allSatisfy(event -> assertThat(event.streamId()).isEqualTo(streamIdOf.apply(command)));

            stream.append(stream.version(), events);
            state = decider.fold(state, events);

            // A refused reservation leaves no trace in the (bounded) state: its repeat is recognised by the
            // event store, by the event's id derived from the command's (BatchHandlingTest).
            if (!events.isEmpty() && !(events.getFirst() instanceof CustomerEvent.CreditLimitExceeded)) {
                assertRepeatChangesNothing(command);
            }
        }

        /** Delivered twice, an accepted command adds no events the second time (or is refused). */
        private void assertRepeatChangesNothing(C command) {
            try {
                assertThat(decider.decide(command, state)).as("%s repeated", command).isEmpty();
            } catch (DomainException refused) {
                assertThat(refused.rejection()).isIn(Rejection.ALREADY_EXISTS, Rejection.INVALID_STATE);
            }
        }

        void assertConsistent(Class<S> stateType) throws Exception {
            assertThat(stream.versions()).as("versions are contiguous from 1")
                    .isEqualTo(LongStream.rangeClosed(1, stream.version()).boxed().toList());
            assertThat(decider.fold(decider.initialState(), stream.events()))
                    .as("folding the whole stream gives the state built step by step").isEqualTo(state);
            String snapshot = EventJson.mapper().writeValueAsString(state);
            assertThat(EventJson.mapper().readValue(snapshot, stateType)).as("the state as a snapshot")
                    .isEqualTo(state);
        }
    }

    /** A stream that takes an append only at the version it expects, and numbers events from 1. */
    private static final class InMemoryStream<E> {

        private final List<Long> versions = new ArrayList<>();
        private final List<E> events = new ArrayList<>();

        long version() {
            return events.size();
        }

        void append(long expectedVersion, List<E> newEvents) {
            assertThat(expectedVersion).as("expected version").isEqualTo(version());
            for (E event : newEvents) {
                events.add(event);
                versions.add((long) events.size());
            }
        }

        List<Long> versions() {
            return versions;
        }

        List<E> events() {
            return events;
        }
    }
}
