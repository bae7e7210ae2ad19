package dev.orders.command.messaging;

import io.vertx.core.json.JsonObject;

/**
 * The transaction that holds the relay's horizon back: committed events wait behind it until it ends.
 *
 * @param pid             its session's backend pid; null for a prepared transaction (no session holds it)
 * @param applicationName its session's {@code application_name} (the services' are {@code orders-<role>})
 * @param database        its database (any database of the server holds the horizon)
 * @param state           its session's state ({@code idle in transaction}, {@code active}, ...) or {@code prepared}
 * @param preparedGid     the global id of a prepared transaction, else null
 * @param ageSeconds      how long the transaction has been running (prepared: since it was prepared)
 * @param query           the session's last statement, cut to 200 characters
 */
public record HorizonHolder(Integer pid, String applicationName, String database, String state, String preparedGid,
                            double ageSeconds, String query) {

    JsonObject toJson() {
        JsonObject json = new JsonObject().put("pid", pid).put("applicationName", applicationName)
                .put("database", database).put("state", state).put("transactionAgeSeconds", Math.round(ageSeconds * 10) / 10.0);
        return preparedGid == null ? json : json.put("preparedTransaction", preparedGid);
    }

    /** One line for a log. */
    String describe() {
        return preparedGid != null
                ? "prepared transaction '" + preparedGid + "' in database " + database + ", prepared " + Math.round(ageSeconds) + " s ago"
                : "pid " + pid + " (application '" + applicationName + "', database " + database + ", " + state
                        + ") in a transaction for " + Math.round(ageSeconds) + " s; last statement: " + query;
    }
}
