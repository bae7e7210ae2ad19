package dev.orders.command.domain;

import java.util.Objects;

/**
 * A business rule refused a command: what kind of refusal, which rule (a stable code such as
 * {@code order-not-cancellable}, the HTTP edge's problem type), and a message fit for a client.
 */
public final class DomainException extends RuntimeException {

    private final Rejection rejection;
    private final String code;

    public DomainException(Rejection rejection, String code, String message) {
        super(message);
        this.rejection = Objects.requireNonNull(rejection, "rejection");
        this.code = Objects.requireNonNull(code, "code");
    }

    public Rejection rejection() {
        return rejection;
    }

    /** Which rule refused, in lower-case words joined by '-'. */
    public String code() {
        return code;
    }

    static DomainException notFound(String message) {
        return new DomainException(Rejection.NOT_FOUND, "not-found", message);
    }

    static DomainException alreadyExists(String code, String message) {
        return new DomainException(Rejection.ALREADY_EXISTS, code, message);
    }

    static DomainException invalidState(String code, String message) {
        return new DomainException(Rejection.INVALID_STATE, code, message);
    }

    static DomainException currencyMismatch(String message) {
        return new DomainException(Rejection.CURRENCY_MISMATCH, "currency-mismatch", message);
    }
}
