package dev.orders.query.store;

import io.vertx.pgclient.PgException;

import java.time.DateTimeException;
import java.util.Optional;

/**
 * Tells a failure that one record causes, and that will recur however often its batch is retried (a
 * value the schema cannot hold, a constraint it breaks), from a passing one (a lost connection, a
 * deadlock, a server shutting down) that a retry of the same batch gets past.
 */
final class RecordFailure {

    private RecordFailure() {
    }

    /**
     * The reason to park a record for, when {@code failure} is of the kind one record causes: SQLSTATE
     * class 22 (data exception: a number past its column's range or precision, a bad value) or 23
     * (integrity constraint), or a value the parameters cannot carry (a version past {@code int}).
     * Empty for anything else.
     */
    static Optional<String> reason(Throwable failure) {
        return switch (failure) {
            case PgException pg when pg.getSqlState() != null
                    && (pg.getSqlState().startsWith("22") || pg.getSqlState().startsWith("23")) ->
                    Optional.of(positionTaken(pg)
                            ? "its global position is already held by another event (" + pg.getDetail() + ")"
                            : "cannot store: " + pg.getErrorMessage() + " (SQLSTATE " + pg.getSqlState() + ")");
            case ArithmeticException e -> Optional.of("cannot store: " + e.getMessage());
            case DateTimeException e -> Optional.of("cannot store: " + e.getMessage());
            case IllegalArgumentException e -> Optional.of("cannot store: " + e.getMessage());
            default -> Optional.empty();
        };
    }

    /** True when the failure is another event already holding the record's global position. */
    static boolean positionTaken(Throwable failure) {
        // By the key, not the constraint's name: a rebuild's switch renames the event log and its indexes.
        return failure instanceof PgException pg && "23505".equals(pg.getSqlState()) && pg.getDetail() != null
                && pg.getDetail().startsWith("Key (global_position)=");
    }
}
