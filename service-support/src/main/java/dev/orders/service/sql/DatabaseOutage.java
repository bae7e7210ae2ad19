package dev.orders.service.sql;

import io.vertx.sqlclient.ClosedConnectionException;
import io.vertx.sqlclient.DatabaseException;

import java.io.IOException;

/**
 * Whether a failure means that PostgreSQL is away (stopped, restarting, unreachable), not that the
 * request or the code is wrong: then the request can succeed later, and its answer is {@code 503} with
 * {@code Retry-After}, not {@code 500}.
 */
public final class DatabaseOutage {

    private DatabaseOutage() {
    }

    /**
     * @param failure a failure, whose causes are looked at too
     * @return true for a connection that broke or could not be made, and for PostgreSQL's errors of class
     *         08 (connection exception) and 57P (shutting down, starting up)
     */
    public static boolean causes(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof ClosedConnectionException || cause instanceof IOException) {
                return true;
            }
            if (cause instanceof DatabaseException database && database.getSqlState() != null
                    && (database.getSqlState().startsWith("08") || database.getSqlState().startsWith("57P"))) {
                return true;
            }
        }
        return false;
    }
}
