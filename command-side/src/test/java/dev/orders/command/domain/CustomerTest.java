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
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@DisplayName("A customer")
class CustomerTest {

    private static final UUID CUSTOMER = UUID.fromString("00000000-0000-0000-0000-00000000c001");
    private static final UUID ORDER = UUID.fromString("00000000-0000-0000-0000-00000000a001");
    private static final UUID OTHER_ORDER = UUID.fromString("00000000-0000-0000-0000-00000000a002");

    private static final CustomerCreated CREATED = new CustomerCreated(CUSTOMER, "Ada", eur("100.00"));

    private static DeciderScenario<CustomerCommand, CustomerState, CustomerEvent> given(CustomerEvent... history) {
        return DeciderScenario.given(Customer.INSTANCE, history);
    }

    private static Money eur(String amount) {
        return Money.parse(amount, "EUR");
    }

    private static ReserveCredit reserve(UUID order, String amount) {
        return new ReserveCredit(CUSTOMER, order, eur(amount));
    }

    private static CreditReserved reserved(UUID order, String amount) {
        return new CreditReserved(CUSTOMER, order, eur(amount));
    }

    @Nested
    @DisplayName("when asked to be created")
    class Create {

        private final CreateCustomer create = new CreateCustomer(CUSTOMER, "Ada", eur("100.00"));

        @Test
        @DisplayName("is created with its name and credit limit")
        void creates_customer_with_name_and_limit() {
            given().when(create).then(CREATED);
        }

        @Test
        @DisplayName("is refused when it exists already")
        void refuses_to_create_customer_twice() {
            given(CREATED).when(create).thenRejects(Rejection.ALREADY_EXISTS);
        }

        @Test
        @DisplayName("is refused when it exists already, even with reservations")
        void refuses_to_create_customer_with_reservations_again() {
            given(CREATED, reserved(ORDER, "10")).when(create).thenRejects(Rejection.ALREADY_EXISTS);
        }
    }

    @Nested
    @DisplayName("when asked to reserve credit for an order")
    class Reserve {

        @Test
        @DisplayName("is refused when it does not exist")
        void refuses_to_reserve_for_unknown_customer() {
            given().when(reserve(ORDER, "10")).thenRejects(Rejection.NOT_FOUND);
        }

        @Test
        @DisplayName("is refused when the amount is in another currency than its limit")
        void refuses_amount_in_another_currency() {
            given(CREATED).when(new ReserveCredit(CUSTOMER, ORDER, Money.parse("10", "USD")))
                    .thenRejects(Rejection.CURRENCY_MISMATCH);
        }

        @Test
        @DisplayName("reserves the amount when it fits the available credit")
        void reserves_credit_when_amount_fits() {
            given(CREATED).when(reserve(ORDER, "60")).then(reserved(ORDER, "60"));
        }

        @Test
        @DisplayName("reserves the amount when it uses up exactly the available credit")
        void reserves_credit_up_to_the_limit_exactly() {
            given(CREATED, reserved(OTHER_ORDER, "40")).when(reserve(ORDER, "60")).then(reserved(ORDER, "60"));
        }

        @Test
        @DisplayName("refuses the order's credit when the limit would be exceeded")
        void rejects_order_when_credit_limit_would_be_exceeded() {
            given(CREATED).when(reserve(ORDER, "100.01"))
                    .then(new CreditLimitExceeded(CUSTOMER, ORDER, eur("100.01")));
        }

        @Test
        @DisplayName("refuses the order's credit when other reservations leave too little")
        void rejects_order_when_other_reservations_leave_too_little() {
            given(CREATED, reserved(OTHER_ORDER, "40")).when(reserve(ORDER, "60.01"))
                    .then(new CreditLimitExceeded(CUSTOMER, ORDER, eur("60.01")));
        }

        @Test
        @DisplayName("reserves nothing again for an order it has reserved for (a redelivered OrderCreated)")
        void reserves_nothing_twice_for_one_order() {
            given(CREATED, reserved(ORDER, "60")).when(reserve(ORDER, "60")).thenNothingHappens();
        }

        @Test
        @DisplayName("forgets an order it has refused: a repeated request is the event store's to recognise")
        void forgets_a_refused_order() {
            assertThat(given(CREATED, new CreditLimitExceeded(CUSTOMER, ORDER, eur("500"))).state())
                    .isEqualTo(given(CREATED).state());
        }

        @Test
        @DisplayName("forgets an order whose credit it has released")
        void forgets_a_released_order() {
            assertThat(given(CREATED, reserved(ORDER, "60"), new CreditReleased(CUSTOMER, ORDER, eur("60"))).state())
                    .isEqualTo(given(CREATED).state());
        }

        @Test
        @DisplayName("checks the currency before it treats the request as a repeat")
        void checks_currency_even_for_a_known_order() {
            given(CREATED, reserved(ORDER, "60")).when(new ReserveCredit(CUSTOMER, ORDER, Money.parse("60", "USD")))
                    .thenRejects(Rejection.CURRENCY_MISMATCH);
        }

        @Test
        @DisplayName("can reserve again the credit that was released for another order")
        void reserves_credit_freed_by_a_release() {
            given(CREATED, reserved(OTHER_ORDER, "90"), new CreditReleased(CUSTOMER, OTHER_ORDER, eur("90")))
                    .when(reserve(ORDER, "100")).then(reserved(ORDER, "100"));
        }
    }

    @Nested
    @DisplayName("when asked to release an order's credit")
    class Release {

        @Test
        @DisplayName("is refused when it does not exist")
        void refuses_to_release_for_unknown_customer() {
            given().when(new ReleaseCredit(CUSTOMER, ORDER)).thenRejects(Rejection.NOT_FOUND);
        }

        @Test
        @DisplayName("releases the amount that was reserved for the order")
        void releases_the_reserved_amount() {
            given(CREATED, reserved(ORDER, "60"), reserved(OTHER_ORDER, "30"))
                    .when(new ReleaseCredit(CUSTOMER, ORDER))
                    .then(new CreditReleased(CUSTOMER, ORDER, eur("60")));
        }

        @Test
        @DisplayName("releases nothing for an order it never reserved for")
        void releases_nothing_for_unknown_order() {
            given(CREATED, reserved(OTHER_ORDER, "30")).when(new ReleaseCredit(CUSTOMER, ORDER)).thenNothingHappens();
        }

        @Test
        @DisplayName("releases nothing twice")
        void releases_nothing_twice() {
            given(CREATED, reserved(ORDER, "60"), new CreditReleased(CUSTOMER, ORDER, eur("60")))
                    .when(new ReleaseCredit(CUSTOMER, ORDER)).thenNothingHappens();
        }

        @Test
        @DisplayName("releases nothing for an order whose credit it refused")
        void releases_nothing_for_refused_order() {
            given(CREATED, new CreditLimitExceeded(CUSTOMER, ORDER, eur("500")))
                    .when(new ReleaseCredit(CUSTOMER, ORDER)).thenNothingHappens();
        }
    }

    @Nested
    @DisplayName("keeps account of its credit")
    class Credit {

        @Test
        @DisplayName("starts with nothing reserved and its whole limit available")
        void starts_with_whole_limit_available() {
            CustomerState state = given(CREATED).state();

            assertThat(state.exists()).isTrue();
            assertThat(state.reserved()).isEqualTo(Money.zero("EUR"));
            assertThat(state.available()).isEqualTo(eur("100"));
            assertThat(state.reservations()).isEmpty();
        }

        @Test
        @DisplayName("reserves the sum of its reservations")
        void reserved_is_the_sum_of_reservations() {
            CustomerState state = given(CREATED, reserved(ORDER, "60.10"), reserved(OTHER_ORDER, "0.90")).state();

            assertThat(state.reserved()).isEqualTo(eur("61"));
            assertThat(state.available()).isEqualTo(eur("39"));
            assertThat(state.reservations()).isEqualTo(Map.of(ORDER, eur("60.10"), OTHER_ORDER, eur("0.90")));
        }

        @Test
        @DisplayName("gives a released order's credit back")
        void release_frees_credit() {
            CustomerState state = given(CREATED, reserved(ORDER, "60"), reserved(OTHER_ORDER, "30"),
                    new CreditReleased(CUSTOMER, ORDER, eur("60"))).state();

            assertThat(state.reserved()).isEqualTo(eur("30"));
            assertThat(state.reservations()).containsOnlyKeys(OTHER_ORDER);
        }

        @Test
        @DisplayName("reserves nothing for a refused order")
        void refusal_reserves_nothing() {
            CustomerState state = given(CREATED, new CreditLimitExceeded(CUSTOMER, ORDER, eur("500"))).state();

            assertThat(state.reserved()).isEqualTo(Money.zero("EUR"));
            assertThat(state.reservations()).isEmpty();
        }

        @Test
        @DisplayName("keeps its sums within Money's maximum: the whole maximum reserved, and the reservation delivered again")
        void sums_stay_within_the_maximum() {
            CustomerCreated richest = new CustomerCreated(CUSTOMER, "Croesus", new Money(Money.MAX_AMOUNT, "EUR"));
            CreditReserved all = new CreditReserved(CUSTOMER, ORDER, new Money(Money.MAX_AMOUNT, "EUR"));

            CustomerState state = given(richest, all, all).state();

            assertThat(state.reserved()).isEqualTo(new Money(Money.MAX_AMOUNT, "EUR"));
            assertThat(state.available()).isEqualTo(Money.zero("EUR"));
            given(richest, all).when(reserve(OTHER_ORDER, "0.01"))
                    .then(new CreditLimitExceeded(CUSTOMER, OTHER_ORDER, eur("0.01")));
        }

        @Test
        @DisplayName("has no credit to speak of before it exists")
        void no_credit_before_it_exists() {
            assertThat(CustomerState.NONE.exists()).isFalse();
            assertThatThrownBy(CustomerState.NONE::available).isInstanceOf(IllegalStateException.class);
        }

        @Test
        @DisplayName("hands out collections that cannot be changed")
        void collections_are_unmodifiable() {
            CustomerState state = given(CREATED, reserved(ORDER, "1"), new CreditLimitExceeded(CUSTOMER, OTHER_ORDER,
                    eur("500"))).state();

            assertThatThrownBy(() -> state.reservations().clear()).isInstanceOf(UnsupportedOperationException.class);
        }
    }

    @Nested
    @DisplayName("when an order is placed for it")
    class PlaceOrder {

        @Test
        @DisplayName("takes an order in its own currency")
        void accepts_order_in_its_currency() {
            Customer.requireCanPlaceOrder(given(CREATED).state(), eur("1000"));
        }

        @Test
        @DisplayName("refuses an order when it does not exist")
        void refuses_order_for_unknown_customer() {
            assertThatThrownBy(() -> Customer.requireCanPlaceOrder(CustomerState.NONE, eur("1")))
                    .isInstanceOfSatisfying(DomainException.class,
                            e -> assertThat(e.rejection()).isEqualTo(Rejection.NOT_FOUND));
        }

        @Test
        @DisplayName("refuses an order in another currency")
        void refuses_order_in_another_currency() {
            assertThatThrownBy(() -> Customer.requireCanPlaceOrder(given(CREATED).state(), Money.parse("1", "USD")))
                    .isInstanceOfSatisfying(DomainException.class,
                            e -> assertThat(e.rejection()).isEqualTo(Rejection.CURRENCY_MISMATCH));
        }
    }
}
