package dev.orders.command.domain;

import dev.orders.command.domain.CustomerCommand.CreateCustomer;
import dev.orders.command.domain.CustomerCommand.ReleaseCredit;
import dev.orders.command.domain.CustomerCommand.ReserveCredit;
import dev.orders.events.CustomerEvent;
import dev.orders.events.CustomerEvent.CreditLimitExceeded;
import dev.orders.events.CustomerEvent.CreditReleased;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.events.Money;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The Customer aggregate: holds a credit limit and reserves credit for orders, never more than the
 * limit. Reserving and releasing are idempotent per order while the order holds credit; a reservation
 * requested again after its order was refused or released is recognised by the event store (the saga's
 * events have deterministic ids), so the state need not remember settled orders.
 */
public final class Customer implements Decider<CustomerCommand, CustomerState, CustomerEvent> {

    /** The one instance; it holds no state. */
    public static final Customer INSTANCE = new Customer();

    private Customer() {
    }

    /**
     * Checks that an order of {@code total} can be placed for this customer: the customer exists and
     * the total is in its currency. Whether the credit suffices is decided later, by the saga.
     *
     * @throws DomainException NOT_FOUND or CURRENCY_MISMATCH
     */
    public static void requireCanPlaceOrder(CustomerState customer, Money total) {
        requireExists(customer);
        requireCurrencyOf(customer, total);
    }

    @Override
    public CustomerState initialState() {
        return CustomerState.NONE;
    }

    @Override
    public List<CustomerEvent> decide(CustomerCommand command, CustomerState state) {
        return switch (command) {
            case CreateCustomer create -> create(create, state);
            case ReserveCredit reserve -> reserve(reserve, state);
            case ReleaseCredit release -> release(release, state);
        };
    }

    @Override
    public CustomerState evolve(CustomerState state, CustomerEvent event) {
        return switch (event) {
            case CustomerCreated created -> new CustomerState(created.customerId(), created.name(),
                    created.creditLimit(), Money.zero(created.creditLimit().currency()), Map.of());
            case CreditReserved reserved -> {
                Money before = state.reservations().get(reserved.orderId());
                // the order's earlier reservation out first: no sum on the way may pass Money's maximum
                Money others = before == null ? state.reserved() : state.reserved().minus(before);
                yield withReservations(state, state.reservationsWith(reserved.orderId(), reserved.amount()),
                        others.plus(reserved.amount()));
            }
            case CreditLimitExceeded exceeded -> state;
            case CreditReleased released -> {
                Money before = state.reservations().get(released.orderId());
                yield before == null ? state : withReservations(state,
                        state.reservationsWithout(released.orderId()), state.reserved().minus(before));
            }
        };
    }

    private static List<CustomerEvent> create(CreateCustomer command, CustomerState state) {
        if (state.exists()) {
            throw DomainException.alreadyExists("customer-already-exists", "customer " + command.customerId() + " exists already");
        }
        return List.of(new CustomerCreated(command.customerId(), command.name(), command.creditLimit()));
    }

    private static List<CustomerEvent> reserve(ReserveCredit command, CustomerState state) {
        requireExists(state);
        requireCurrencyOf(state, command.amount());
        if (state.hasReserved(command.orderId())) {
            return List.of();
        }
        if (command.amount().compareTo(state.available()) > 0) {
            return List.of(new CreditLimitExceeded(command.customerId(), command.orderId(), command.amount()));
        }
        return List.of(new CreditReserved(command.customerId(), command.orderId(), command.amount()));
    }

    private static List<CustomerEvent> release(ReleaseCredit command, CustomerState state) {
        requireExists(state);
        Money reserved = state.reservations().get(command.orderId());
        if (reserved == null) {
            return List.of();
        }
        return List.of(new CreditReleased(command.customerId(), command.orderId(), reserved));
    }

    private static void requireExists(CustomerState state) {
        if (!state.exists()) {
            throw DomainException.notFound("the customer does not exist");
        }
    }

    private static void requireCurrencyOf(CustomerState state, Money amount) {
        if (!amount.sameCurrencyAs(state.creditLimit())) {
            throw DomainException.currencyMismatch("the amount is in " + amount.currency()
                    + ", but customer " + state.customerId() + " has credit in " + state.creditLimit().currency());
        }
    }

    /** A state with these reservations, {@code reserved} being their sum. */
    private static CustomerState withReservations(CustomerState state, Map<UUID, Money> reservations,
                                                  Money reserved) {
        return new CustomerState(state.customerId(), state.name(), state.creditLimit(), reserved, reservations);
    }
}
