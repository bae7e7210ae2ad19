package dev.orders.service.security;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tokens verified lately: known by their whole text, never past their expiry nor past the maximum age,
 * bounded, and each use with its own credential.
 */
@DisplayName("Tokens verified lately")
class VerifiedTokensTest {

    private static final UUID ALICE = UUID.fromString("00000000-0000-0000-0000-00000000a11c");
    private static final Instant START = Instant.parse("2026-12-05T03:00:00Z");

    /** A clock the test moves. */
    private static final class TestClock extends Clock {
        private Instant now = START;

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    private final TestClock clock = new TestClock();
    private final VerifiedTokens tokens = new VerifiedTokens(clock);

    private static Caller alice(Instant expiresAt) {
        return new Caller(ALICE.toString(), ALICE, false, expiresAt, Caller.Credential.BEARER);
    }

    @Test
    void a_token_seen_again_is_known_until_it_expires() {
        Caller caller = alice(START.plusSeconds(10));
        tokens.put("header.claims.signature", caller);
        assertThat(tokens.get("header.claims.signature", Caller.Credential.BEARER)).isEqualTo(caller);
        clock.advance(Duration.ofMillis(9_999));
        assertThat(tokens.get("header.claims.signature", Caller.Credential.BEARER)).isEqualTo(caller);
        clock.advance(Duration.ofMillis(1));
        assertThat(tokens.get("header.claims.signature", Caller.Credential.BEARER)).as("at its exp").isNull();
    }

    @Test
    void a_long_lived_token_is_verified_again_after_the_maximum_age() {
        tokens.put("header.claims.signature", alice(START.plus(Duration.ofHours(8))));
        clock.advance(VerifiedTokens.MAX_AGE.minusMillis(1));
        assertThat(tokens.get("header.claims.signature", Caller.Credential.BEARER)).isNotNull();
        clock.advance(Duration.ofMillis(1));
        assertThat(tokens.get("header.claims.signature", Caller.Credential.BEARER)).isNull();
    }

    @Test
    void only_the_very_same_text_is_known() {
        tokens.put("header.claims.signature", alice(START.plusSeconds(60)));
        for (String other : new String[]{"header.claims.signaturf", "header.claims.signature.", "header.claims.signatur",
                "Header.claims.signature", " header.claims.signature"}) {
            assertThat(tokens.get(other, Caller.Credential.BEARER)).as(other).isNull();
        }
    }

    @Test
    void each_use_carries_its_own_credential() {
        Caller caller = alice(START.plusSeconds(60));
        tokens.put("header.claims.signature", caller);
        Caller asCookie = tokens.get("header.claims.signature", Caller.Credential.COOKIE);
        assertThat(asCookie.credential()).isEqualTo(Caller.Credential.COOKIE);
        assertThat(asCookie).usingRecursiveComparison().ignoringFields("credential").isEqualTo(caller);
        assertThat(tokens.get("header.claims.signature", Caller.Credential.BEARER).credential())
                .isEqualTo(Caller.Credential.BEARER);
    }

    @Test
    void an_expired_or_overlong_token_is_not_kept() {
        tokens.put("expired", alice(START));
        assertThat(tokens.get("expired", Caller.Credential.BEARER)).isNull();
        String overlong = "x".repeat(VerifiedTokens.MAX_TOKEN_CHARS + 1);
        tokens.put(overlong, alice(START.plusSeconds(60)));
        assertThat(tokens.get(overlong, Caller.Credential.BEARER)).isNull();
        String longest = "x".repeat(VerifiedTokens.MAX_TOKEN_CHARS);
        tokens.put(longest, alice(START.plusSeconds(60)));
        assertThat(tokens.get(longest, Caller.Credential.BEARER)).isNotNull();
    }

    @Test
    void when_full_the_expired_tokens_go_first() {
        tokens.put("short-lived", alice(START.plusSeconds(1)));
        for (int i = 1; i < VerifiedTokens.MAX_TOKENS; i++) {
            tokens.put("token-" + i, alice(START.plusSeconds(60)));
        }
        clock.advance(Duration.ofSeconds(2));
        tokens.put("newcomer", alice(START.plusSeconds(60)));
        assertThat(tokens.get("newcomer", Caller.Credential.BEARER)).isNotNull();
        for (int i = 1; i < VerifiedTokens.MAX_TOKENS; i++) {
            assertThat(tokens.get("token-" + i, Caller.Credential.BEARER)).as("token-" + i).isNotNull();
        }
    }

    @Test
    void when_full_of_live_tokens_it_starts_again_rather_than_grow() {
        for (int i = 0; i < VerifiedTokens.MAX_TOKENS; i++) {
            tokens.put("token-" + i, alice(START.plusSeconds(60)));
        }
        assertThat(tokens.get("token-0", Caller.Credential.BEARER)).isNotNull();
        tokens.put("newcomer", alice(START.plusSeconds(60)));
        assertThat(tokens.get("newcomer", Caller.Credential.BEARER)).isNotNull();
        for (int i = 0; i < VerifiedTokens.MAX_TOKENS; i++) {
            assertThat(tokens.get("token-" + i, Caller.Credential.BEARER)).as("token-" + i).isNull();
        }
    }
}
