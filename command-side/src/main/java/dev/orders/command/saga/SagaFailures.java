package dev.orders.command.saga;

import com.fasterxml.jackson.core.JacksonException;
import dev.orders.command.store.ConcurrencyConflictException;
import dev.orders.command.store.DuplicateEventException;
import dev.orders.events.EventFormatException;
import io.vertx.core.VertxException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.EncodeException;
import io.vertx.sqlclient.DatabaseException;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * Tells a failure that may pass by itself from one that recurs for the same record. The saga retries the
 * first kind for as long as it lasts (a PostgreSQL outage must delay records, never park them), and parks
 * a record that fails the second way a few times in a row ({@link SagaRecords}).
 *
 * <p>May pass: anything the database or the network says about itself (a connection refused, closed or
 * timed out, the pool busy, a server shutting down or restarting, a serialization failure or deadlock, a
 * lock not had, resources short, a privilege an operator may grant again) and a race with another writer.
 * Recurs: a record that cannot be decoded, the domain's code failing on it (an exception that is neither
 * I/O nor the database's), and the database refusing its data (a value out of range, a broken constraint).
 */
final class SagaFailures {

    /** SQLSTATE classes (and single codes) of failures that may pass: connection, rollback, resources, operator. */
    private static final Set<String> PASSING_SQL_STATES = Set.of("08", "25", "28", "3D", "40", "53", "55", "57", "58",
            "XX", "42501");
    private static final int MAX_DEPTH = 16;
    private static final int MAX_DESCRIPTION = 2_000;

    private SagaFailures() {
    }

    /** Whether the failure may pass by itself, so that the same record may succeed on a later attempt. */
    static boolean mayPass(Throwable failure) {
        Throwable cause = failure;
        for (int depth = 0; cause != null && depth < MAX_DEPTH; depth++, cause = cause.getCause()) {
            if (cause instanceof DatabaseException database) {
                String state = database.getSqlState() == null ? "" : database.getSqlState();
                return state.length() < 2 || PASSING_SQL_STATES.contains(state.substring(0, 2))
                        || PASSING_SQL_STATES.contains(state);
            }
            // JSON that cannot be read is no I/O failure, though Jackson's exceptions are IOExceptions
            if (cause instanceof EventFormatException || cause instanceof JacksonException || cause instanceof DecodeException
                    || cause instanceof EncodeException) {
                return false;
            }
            if (cause instanceof VertxException || cause instanceof IOException || cause instanceof TimeoutException
                    || cause instanceof ConcurrencyConflictException || cause instanceof DuplicateEventException) {
                return true;
            }
        }
        // the domain's or the decoder's own exceptions recur; an Error (out of memory) or a checked one may not
        return !(failure instanceof RuntimeException);
    }

    /** A failure in one line for the dead letter and the log: its type and message, bounded. */
    static String describe(Throwable failure) {
        String text = failure.getClass().getSimpleName() + ": " + failure.getMessage();
        return text.length() <= MAX_DESCRIPTION ? text : text.substring(0, MAX_DESCRIPTION) + "…";
    }
}
