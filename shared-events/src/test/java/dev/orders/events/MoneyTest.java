package dev.orders.events;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@DisplayName("Money")
class MoneyTest {

    @Nested
    @DisplayName("parsed from the API")
    class Parse {

        @ParameterizedTest(name = "\"{0}\" is {1}")
        @CsvSource({
                "250.00, 250.00",
                "250.5, 250.50",
                "250, 250.00",
                "0.01, 0.01",
                "1000000000, 1000000000.00",
                "1000000000.00, 1000000000.00",
                "007.10, 7.10"})
        @DisplayName("accepts a positive decimal string with at most two fraction digits")
        void accepts_valid_amounts(String amount, String normalised) {
            Money money = Money.parse(amount, "EUR");

            assertThat(money.amountText()).isEqualTo(normalised);
            assertThat(money.currency()).isEqualTo("EUR");
        }

        @ParameterizedTest(name = "\"{0}\"")
        @ValueSource(strings = {"0", "0.00", "0.0"})
        @DisplayName("rejects zero")
        void rejects_zero(String amount) {
            assertThatThrownBy(() -> Money.parse(amount, "EUR"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("greater than 0");
        }

        @ParameterizedTest(name = "\"{0}\"")
        @ValueSource(strings = {"-1", "-0.01", "-250.00"})
        @DisplayName("rejects negative amounts")
        void rejects_negative_amounts(String amount) {
            assertThatThrownBy(() -> Money.parse(amount, "EUR")).isInstanceOf(IllegalArgumentException.class);
        }

        @ParameterizedTest(name = "\"{0}\"")
        @ValueSource(strings = {"1.001", "0.005", "250.000", "1.999"})
        @DisplayName("rejects three fraction digits, even trailing zeros")
        void rejects_three_fraction_digits(String amount) {
            assertThatThrownBy(() -> Money.parse(amount, "EUR"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("2 fraction digits");
        }

        @ParameterizedTest(name = "\"{0}\"")
        @ValueSource(strings = {"1000000000.01", "1000000001", "9999999999", "99999999999", "12345678901234567890"})
        @DisplayName("rejects amounts above one billion")
        void rejects_amounts_above_the_maximum(String amount) {
            assertThatThrownBy(() -> Money.parse(amount, "EUR")).isInstanceOf(IllegalArgumentException.class);
        }

        @ParameterizedTest(name = "\"{0}\"")
        @ValueSource(strings = {"", " ", "abc", "1,00", "1.", ".5", "+1", "1e3", "1E+2", "NaN", "Infinity", " 1.00",
                "1.00 ", "١٢٣", "0x10"})
        @DisplayName("rejects what is not a plain decimal string")
        void rejects_non_numeric(String amount) {
            assertThatThrownBy(() -> Money.parse(amount, "EUR")).isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        @DisplayName("rejects a missing amount")
        void rejects_null_amount() {
            assertThatThrownBy(() -> Money.parse(null, "EUR")).isInstanceOf(IllegalArgumentException.class);
        }

        @ParameterizedTest(name = "\"{0}\"")
        @ValueSource(strings = {"", "eur", "EU", "EURO", "E1R", "€", " EUR"})
        @DisplayName("rejects a currency that is not three capital letters")
        void rejects_bad_currency(String currency) {
            assertThatThrownBy(() -> Money.parse("1.00", currency))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("currency");
        }

        @Test
        @DisplayName("rejects a missing currency")
        void rejects_null_currency() {
            assertThatThrownBy(() -> Money.parse("1.00", null)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Nested
    @DisplayName("as a value")
    class Value {

        @Test
        @DisplayName("is equal whatever scale its amount was given with")
        void equality_ignores_the_given_scale() {
            assertThat(new Money(new BigDecimal("5"), "EUR")).isEqualTo(new Money(new BigDecimal("5.00"), "EUR"));
            assertThat(new Money(new BigDecimal("5.0"), "EUR")).hasSameHashCodeAs(Money.parse("5", "EUR"));
        }

        @Test
        @DisplayName("adds and subtracts exactly, in one currency")
        void arithmetic_is_exact() {
            Money a = Money.parse("0.10", "EUR");
            Money b = Money.parse("0.20", "EUR");

            assertThat(a.plus(b)).isEqualTo(Money.parse("0.30", "EUR"));
            assertThat(b.minus(a)).isEqualTo(a);
            assertThat(a.minus(a)).isEqualTo(Money.zero("EUR"));
            assertThat(Money.zero("EUR").amountText()).isEqualTo("0.00");
        }

        @Test
        @DisplayName("never mixes currencies")
        void currencies_do_not_mix() {
            Money eur = Money.parse("1.00", "EUR");
            Money usd = Money.parse("1.00", "USD");

            assertThat(eur.sameCurrencyAs(usd)).isFalse();
            assertThatThrownBy(() -> eur.plus(usd)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> eur.minus(usd)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> eur.compareTo(usd)).isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        @DisplayName("cannot go below zero")
        void cannot_be_negative() {
            Money small = Money.parse("1.00", "EUR");

            assertThatThrownBy(() -> small.minus(Money.parse("2.00", "EUR")))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> new Money(new BigDecimal("-0.01"), "EUR"))
                    .isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        @DisplayName("cannot pass the API's maximum, however it is made: constructed, parsed or summed")
        void cannot_pass_the_maximum() {
            Money max = new Money(Money.MAX_AMOUNT, "EUR");

            assertThat(max.amountText()).isEqualTo("1000000000.00");
            assertThatThrownBy(() -> new Money(new BigDecimal("1000000000.01"), "EUR"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("amount must be at most 1000000000");
            assertThatThrownBy(() -> new Money(new BigDecimal("10000000000000.00"), "EUR"))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> Money.parse("1000000000.01", "EUR"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("amount must be at most 1000000000");
            assertThatThrownBy(() -> max.plus(Money.parse("0.01", "EUR")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("amount must be at most 1000000000");
            assertThat(max.minus(Money.parse("0.01", "EUR")).plus(Money.parse("0.01", "EUR"))).isEqualTo(max);
        }

        @Test
        @DisplayName("cannot hold fractions of a cent")
        void cannot_hold_fractions_of_a_cent() {
            assertThatThrownBy(() -> new Money(new BigDecimal("0.001"), "EUR"))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(new Money(new BigDecimal("0.100"), "EUR").amountText()).isEqualTo("0.10");
        }

        @Test
        @DisplayName("orders by amount")
        void compares_by_amount() {
            assertThat(Money.parse("2", "EUR")).isGreaterThan(Money.parse("1.99", "EUR"));
            assertThat(Money.parse("2", "EUR")).isEqualByComparingTo(Money.parse("2.00", "EUR"));
        }

        @Test
        @DisplayName("prints as amount and currency")
        void prints_amount_and_currency() {
            assertThat(Money.parse("1234.5", "CHF")).hasToString("1234.50 CHF");
        }
    }
}
