package dev.orders.service.sql;

import io.vertx.pgclient.PgConnectOptions;

import java.time.Duration;
import java.util.Objects;

/**
 * What every PostgreSQL session of the services carries from its start: a name ({@code application_name},
 * {@code orders-<role>}) so that an operator and the relay's horizon watch can tell whose it is, and bounds
 * on how long one statement may run and how long a session may sit idle inside a transaction. An open
 * transaction holds the relay's transaction horizon (cluster-wide) and stops publishing for as long as it
 * lives, so a service never leaves one open for long.
 *
 * @param statementTimeout         {@code statement_timeout}: a longer statement is cancelled
 * @param idleInTransactionTimeout {@code idle_in_transaction_session_timeout}: a session idle this long inside
 *                                 a transaction is ended by the server (its transaction rolls back)
 */
public record PgSessions(Duration statementTimeout, Duration idleInTransactionTimeout) {

    /** 30 s per statement, 60 s idle in a transaction. */
    public static final PgSessions DEFAULTS = new PgSessions(Duration.ofSeconds(30), Duration.ofSeconds(60));

    public PgSessions {
        Objects.requireNonNull(statementTimeout, "statementTimeout");
        Objects.requireNonNull(idleInTransactionTimeout, "idleInTransactionTimeout");
    }

    /** The application name of a session of the given role, e.g. {@code orders-command}. */
    public static String applicationName(String role) {
        return "orders-" + role;
    }

    /** Names the options' sessions after {@code role} and sets the timeouts in their startup parameters. */
    public PgConnectOptions applyTo(PgConnectOptions options, String role) {
        return options.addProperty("application_name", applicationName(role))
                .addProperty("statement_timeout", Long.toString(statementTimeout.toMillis()))
                .addProperty("idle_in_transaction_session_timeout", Long.toString(idleInTransactionTimeout.toMillis()));
    }
}
