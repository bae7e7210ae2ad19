package dev.orders.events;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An amount of money in one currency. The amount is a decimal, greater than zero for prices and
 * limits, at most two fraction digits and at most {@link #MAX_AMOUNT}; it is never a float. Zero is
 * allowed only as {@link #zero} (a sum of nothing). The constructor holds every rule but "greater than
 * zero", so no path (a request, a decoded event, a sum) can make an amount outside them.
 */
public record Money(BigDecimal amount, String currency) implements Comparable<Money> {

    /** The largest amount there is: the API's maximum, and so the most any sum of credit may reach. */
    public static final BigDecimal MAX_AMOUNT = new BigDecimal("1000000000");

    private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");
    private static final Pattern AMOUNT = Pattern.compile("\\d{1,10}(\\.\\d{1,2})?");

    public Money {
        Objects.requireNonNull(amount, "amount");
        Objects.requireNonNull(currency, "currency");
        if (!CURRENCY.matcher(currency).matches()) {
            throw new IllegalArgumentException("currency must be three capital letters, was '" + currency + "'");
        }
        if (amount.signum() < 0) {
            throw new IllegalArgumentException("amount must not be negative");
        }
        if (amount.stripTrailingZeros().scale() > 2) {
            throw new IllegalArgumentException("amount has more than 2 fraction digits");
        }
        if (amount.compareTo(MAX_AMOUNT) > 0) {
            throw new IllegalArgumentException("amount must be at most " + MAX_AMOUNT.toPlainString());
        }
        amount = amount.setScale(2, RoundingMode.UNNECESSARY);
    }

    /** Zero in a currency: the neutral element of {@link #plus}. */
    public static Money zero(String currency) {
        return new Money(BigDecimal.ZERO, currency);
    }

    /**
     * Parses an amount as the API gives it: a decimal string, greater than 0, at most 2 fraction
     * digits, at most {@link #MAX_AMOUNT} (that one checked by the constructor).
     *
     * @throws IllegalArgumentException with a message fit for a client when the value is bad
     */
    public static Money parse(String amount, String currency) {
        if (amount == null || !AMOUNT.matcher(amount).matches()) {
            throw new IllegalArgumentException(
                    "amount must be a decimal string with at most 2 fraction digits, like \"250.00\"");
        }
        BigDecimal value = new BigDecimal(amount);
        if (value.signum() <= 0) {
            throw new IllegalArgumentException("amount must be greater than 0");
        }
        if (currency == null || !CURRENCY.matcher(currency).matches()) {
            throw new IllegalArgumentException("currency must be three capital letters, like \"EUR\"");
        }
        return new Money(value, currency);
    }

    /** @throws IllegalArgumentException when the sum is past {@link #MAX_AMOUNT} */
    public Money plus(Money other) {
        requireSameCurrency(other);
        return new Money(amount.add(other.amount), currency);
    }

    public Money minus(Money other) {
        requireSameCurrency(other);
        return new Money(amount.subtract(other.amount), currency);
    }

    public boolean sameCurrencyAs(Money other) {
        return currency.equals(other.currency);
    }

    @Override
    public int compareTo(Money other) {
        requireSameCurrency(other);
        return amount.compareTo(other.amount);
    }

    /** The amount as the API writes it: plain, two fraction digits. */
    public String amountText() {
        return amount.toPlainString();
    }

    private void requireSameCurrency(Money other) {
        if (!sameCurrencyAs(other)) {
            throw new IllegalArgumentException("currencies differ: " + currency + " and " + other.currency);
        }
    }

    @Override
    public String toString() {
        return amountText() + " " + currency;
    }
}
