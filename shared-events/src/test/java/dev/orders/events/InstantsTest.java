package dev.orders.events;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@DisplayName("Instants read back")
class InstantsTest {

    /** Instants as Instant.toString writes them, every length of fraction, and forms it does not write. */
    static Stream<String> times() {
        java.util.Random random = new java.util.Random(14);
        Stream<String> written = random.longs(300, -62_167_219_200L, 253_402_300_800L).mapToObj(seconds ->
                Instant.ofEpochSecond(seconds, switch ((int) (seconds & 3)) {
                    case 0 -> 0;
                    case 1 -> random.nextInt(1000) * 1_000_000;
                    case 2 -> random.nextInt(1_000_000) * 1000;
                    default -> random.nextInt(1_000_000_000);
                }).toString());
        return Stream.concat(written, Stream.of("2025-03-01T12:34:56Z", "2025-03-01T12:34:56.7Z",
                "2025-03-01T12:34:56.12345678Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
                "2024-02-29T00:00:00Z", "2025-02-29T00:00:00Z", "2025-04-31T00:00:00Z", "2025-13-01T00:00:00Z",
                "2025-00-10T00:00:00Z", "2025-03-00T00:00:00Z", "2025-03-01T24:00:00Z", "2025-03-01T12:60:00Z",
                "2025-12-31T23:59:60Z", "2025-03-01T12:34:56.Z", "2025-03-01T12:34:56.1234567890Z",
                "2025-03-01T12:34:56+01:00", "2025-03-01t12:34:56Z", "2025-03-01T12:34:5xZ", "+10000-01-01T00:00:00Z",
                "-0001-01-01T00:00:00Z", "2025-3-01T12:34:56Z", "2025-03-01T12:34:56,5Z", "2025-03-01T12:34:56.-5Z"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("times")
    @DisplayName("as Instant.parse reads them, and refused where it refuses them, with its words")
    void reads_as_instant_parse(String text) {
        Instant expected;
        try {
            expected = Instant.parse(text);
        } catch (DateTimeParseException refused) {
            assertThatThrownBy(() -> Instants.parse(text)).isInstanceOf(DateTimeParseException.class)
                    .hasMessage(refused.getMessage());
            return;
        }

        assertThat(Instants.parse(text)).isEqualTo(expected);
    }
}
