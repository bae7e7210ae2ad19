package dev.orders.command.store;

import dev.orders.service.sql.Migrations;
import dev.orders.service.sql.Migrations.Script;

import java.util.List;

/**
 * The command side's schema: the event store, the relay's checkpoint, the saga's deadlines and dead
 * letters, and Idempotency-Keys scoped by caller. Scripts are never edited once released: a change is a new script.
 */
public final class CommandSchema {

    public static final Migrations MIGRATIONS = new Migrations("command", List.of(
            new Script(1, "event store", "db/command/V1__event_store.sql"),
            new Script(2, "relay checkpoint", "db/command/V2__relay.sql"),
            new Script(3, "saga deadlines", "db/command/V3__saga.sql"),
            new Script(4, "idempotency keys per caller", "db/command/V4__idempotency_per_caller.sql"),
            new Script(5, "relay woken outside the appending commit", "db/command/V5__relay_wakeup_outside_commit.sql"),
            new Script(6, "deadlines armed when the saga asks", "db/command/V6__deadlines_armed_when_asked.sql"),
            new Script(7, "relay records a batch in one statement", "db/command/V7__relay_store_in_one_statement.sql"),
            new Script(8, "relay repairs both directions at takeover", "db/command/V8__relay_takeover_repair.sql"),
            new Script(9, "a batch decided on remembered states checks them in its transaction",
                    "db/command/V9__batch_decided_on_remembered_states.sql"),
            new Script(10, "saga dead letters", "db/command/V10__saga_dead_letters.sql")));

    private CommandSchema() {
    }
}
