package dev.orders.devservers;

/** The infrastructure could not start; the message is one line that says what to fix. */
public final class InfrastructureException extends RuntimeException {

    /** @param message what went wrong and what to do */
    public InfrastructureException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong and what to do
     * @param cause   the underlying failure
     */
    public InfrastructureException(String message, Throwable cause) {
        super(message, cause);
    }
}
