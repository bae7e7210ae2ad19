package dev.orders.command.domain;

import java.util.Objects;

/** A business rule refused a command: what kind of refusal, and a message fit for a client. */
public final class DomainException extends RuntimeException {

    private final Rejection rejection;

    public DomainException(Rejection rejection, String message) {
        super(message);
        this.rejection = Objects.requireNonNull(rejection, "rejection");
    }

    public Rejection rejection() {
        return rejection;
    }

    static DomainException notFound(String message) {
        return new DomainException(Rejection.NOT_FOUND, message);
    }

    static DomainException alreadyExists(String message) {
        return new DomainException(Rejection.ALREADY_EXISTS, message);
    }

    static DomainException invalidState(String message) {
        return new DomainException(Rejection.INVALID_STATE, message);
    }

    static DomainException currencyMismatch(String message) {
        return new DomainException(Rejection.CURRENCY_MISMATCH, message);
    }
}
