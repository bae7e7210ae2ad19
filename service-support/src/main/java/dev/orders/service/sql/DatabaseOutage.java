package dev.orders.service.sql;

import io.vertx.sqlclient.ClosedConnectionException;
import io.vertx.sqlclient.DatabaseException;

import java.io.IOException;
import java.util.Set;

/**
 * Whether a failure means that PostgreSQL is away (stopped, restarting, unreachable), not that the
 * request or the code is wrong: then the request can succeed later, and its answer is {@code 503} with
 * {@code Retry-After}, not {@code 500}.
 */
public final class DatabaseOutage {

    /** undefined_table and invalid_schema_name: what a statement meets once its schema was dropped. */
    private static final Set<String> SCHEMA_GONE = Set.of("42P01", "3F000");

    private DatabaseOutage() {
    }

    /**
     * @param failure a failure, whose causes are looked at too
     * @return true for a connection that broke or could not be made, for PostgreSQL's errors of class
     *         08 (connection exception) and 57P (shutting down, starting up), and for a schema that is gone
     *         (42P01 a table that does not exist, 3F000 no schema): the query side recreates and refills a
     *         lost schema by itself (readiness tells meanwhile), so a request can succeed again later
     */
    public static boolean causes(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof ClosedConnectionException || cause instanceof IOException) {
                return true;
            }
            if (cause instanceof DatabaseException database && database.getSqlState() != null
                    && (database.getSqlState().startsWith("08") || database.getSqlState().startsWith("57P")
                    || SCHEMA_GONE.contains(database.getSqlState()))) {
                return true;
            }
        }
        return false;
    }
}
