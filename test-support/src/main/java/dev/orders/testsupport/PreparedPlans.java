package dev.orders.testsupport;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * How PostgreSQL planned the runs of one session's prepared statements whose text is like a pattern, from the
 * session's {@code pg_prepared_statements}: a statement planned again at every run with its arguments (custom
 * plans) against one planned once for all (its generic plan). Ask on the session that ran them: a pool of one
 * connection, or the connection itself.
 */
public record PreparedPlans(long statements, long generic, long custom) {

    /** PostgreSQL plans a prepared statement's first five runs with their arguments, then decides. */
    public static final int CUSTOM_PLANS_BY_RULE = 5;

    private static final String QUERY = "SELECT count(*) AS statements, coalesce(sum(generic_plans), 0) AS generic,"
            + " coalesce(sum(custom_plans), 0) AS custom FROM pg_prepared_statements WHERE statement LIKE $1";

    /** The plans of the statements like {@code pattern} (SQL's LIKE) prepared in the session {@code session}. */
    public static Future<PreparedPlans> of(SqlClient session, String pattern) {
        return session.preparedQuery(QUERY).execute(Tuple.of(pattern)).map(rows -> {
            Row row = rows.iterator().next();
            return new PreparedPlans(row.getLong("statements"), row.getLong("generic"), row.getLong("custom"));
        });
    }

    /** Runs of the statements in all. */
    public long runs() {
        return generic + custom;
    }
}
