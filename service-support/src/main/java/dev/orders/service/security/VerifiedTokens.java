package dev.orders.service.security;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The callers of tokens verified lately, by the whole token text, so that a client presenting the same token
 * request after request (a browser's session cookie, a service's bearer token) has its signature checked once,
 * not on every request. A hit is the very text that was verified, so its signature, issuer and audience hold as
 * they did; only time can change the answer, and an entry never outlives the token's {@code exp} (checked on
 * every use) nor {@link #MAX_AGE} after its verification (a key the issuer withdraws is not trusted for longer
 * through a token seen before).
 *
 * <p>Bounded: at most {@link #MAX_TOKENS} tokens of at most {@link #MAX_TOKEN_CHARS} characters (a longer one
 * is verified every time). When it is full, the entries that have expired go; if none has, all go: a miss costs
 * one verification, never a wrong answer. Safe from every event loop at once.
 */
final class VerifiedTokens {

    static final int MAX_TOKENS = 4_096;
    static final int MAX_TOKEN_CHARS = 2_048;
    static final Duration MAX_AGE = Duration.ofSeconds(30);

    private final Clock clock;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    /** A verified caller and until when its entry may answer. */
    private record Entry(Caller caller, Instant validUntil) {
    }

    VerifiedTokens(Clock clock) {
        this.clock = clock;
    }

    /**
     * The caller the token was verified as, presented this time by {@code credential}; null when the token was
     * not verified lately or its entry has expired.
     */
    Caller get(String token, Caller.Credential credential) {
        Entry entry = entries.get(token);
        if (entry == null) {
            return null;
        }
        if (!entry.validUntil().isAfter(clock.instant())) {
            entries.remove(token, entry);
            return null;
        }
        Caller caller = entry.caller();
        return caller.credential() == credential ? caller
                : new Caller(caller.subject(), caller.customerId(), caller.operator(), caller.expiresAt(), credential);
    }

    /** Remembers a token just verified as this caller. */
    void put(String token, Caller caller) {
        if (token.length() > MAX_TOKEN_CHARS) {
            return;
        }
        Instant now = clock.instant();
        Instant maxAge = now.plus(MAX_AGE);
        Instant validUntil = caller.expiresAt().isBefore(maxAge) ? caller.expiresAt() : maxAge;
        if (!validUntil.isAfter(now)) {
            return;
        }
        if (entries.size() >= MAX_TOKENS && !entries.containsKey(token)) {
            entries.values().removeIf(entry -> !entry.validUntil().isAfter(now));
            if (entries.size() >= MAX_TOKENS) {
                entries.clear();
            }
        }
        entries.put(token, new Entry(caller, validUntil));
    }
}
