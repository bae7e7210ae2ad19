package dev.orders.events;

import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;

/**
 * Instants as the project writes them ({@link Instant#toString}), read back quickly: the ISO formatter of
 * {@link Instant#parse} was a quarter of the time of decoding an envelope, and every change pushed reads one too.
 */
public final class Instants {

    private Instants() {
    }

    /**
     * {@link Instant#parse}, read without its formatter for the form {@link Instant#toString} writes for the years
     * 0000 to 9999 ({@code 2025-03-01T12:34:56.789Z}, 0 to 9 digits of fraction); anything else, or a field out of
     * its range, goes to {@link Instant#parse} for its answer (or its {@code DateTimeParseException}).
     */
    public static Instant parse(String text) {
        int n = text.length();
        if (n < 20 || n == 21 || n > 30 || text.charAt(4) != '-' || text.charAt(7) != '-' || text.charAt(10) != 'T'
                || text.charAt(13) != ':' || text.charAt(16) != ':' || text.charAt(n - 1) != 'Z'
                || (n > 20 && text.charAt(19) != '.')) {
            return Instant.parse(text);
        }
        int year = digits(text, 0, 4);
        int month = digits(text, 5, 7);
        int day = digits(text, 8, 10);
        int hour = digits(text, 11, 13);
        int minute = digits(text, 14, 16);
        int second = digits(text, 17, 19);
        int fraction = n > 20 ? digits(text, 20, n - 1) : 0;
        if (year < 0 || month < 1 || month > 12 || day < 1 || day > 28 && day > YearMonth.of(year, month).lengthOfMonth()
                || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || fraction < 0) {
            return Instant.parse(text);
        }
        for (int scale = n > 20 ? n - 21 : 9; scale < 9; scale++) {
            fraction *= 10;
        }
        long epochDay = LocalDate.of(year, month, day).toEpochDay();
        return Instant.ofEpochSecond(epochDay * 86_400 + hour * 3_600 + minute * 60 + second, fraction);
    }

    /** The decimal number of {@code text[from, to)}, or -1 if a character there is not an ASCII digit. */
    private static int digits(String text, int from, int to) {
        int value = 0;
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
