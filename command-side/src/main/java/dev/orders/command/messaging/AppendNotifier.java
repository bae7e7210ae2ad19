package dev.orders.command.messaging;

import dev.orders.command.store.AppendSignal;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.BooleanSupplier;

/**
 * Carries this process's {@link AppendSignal} to the relay of another process: while the relay here is
 * not the active one, it hands each signal on here ({@link #signalled()}, on its context), and each becomes a
 * {@code NOTIFY events_appended}, sent in autocommit on a
 * connection of its own after the appending commit, never inside it (a notification inside the
 * appending transaction would queue every appending commit for PostgreSQL's notification lock).
 * Notifications coalesce: at most one is in flight, and signals that arrive meanwhile cause one more
 * afterwards. The active relay listens on its lease connection.
 */
final class AppendNotifier {

    private static final Logger LOG = LoggerFactory.getLogger(AppendNotifier.class);

    private final Pool pool;
    private final BooleanSupplier activeHere;
    private boolean sending;
    private boolean pending;

    /**
     * @param pool       a pool of its own (one connection is enough)
     * @param activeHere true while this process's relay is the active one: it was woken in-process
     */
    AppendNotifier(Pool pool, BooleanSupplier activeHere) {
        this.pool = pool;
        this.activeHere = activeHere;
    }

    /** Events were committed in this process; call on the context that {@code activeHere} belongs to. */
    void signalled() {
        if (activeHere.getAsBoolean()) {
            return;
        }
        if (sending) {
            pending = true;
            return;
        }
        send();
    }

    private void send() {
        sending = true;
        pending = false;
        pool.query(RelaySql.NOTIFY).execute().onComplete(done -> {
            if (done.failed()) {
                LOG.debug("relay notification not sent: {}", done.cause().toString());
            }
            sending = false;
            if (pending && !activeHere.getAsBoolean()) {
                send();
            }
        });
    }

    Future<Void> close() {
        return pool.close();
    }
}
