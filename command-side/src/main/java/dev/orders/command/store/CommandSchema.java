package dev.orders.command.store;

import dev.orders.service.sql.Migrations;
import dev.orders.service.sql.Migrations.Script;

import java.util.List;

/** The command side's schema: the event store, the relay's checkpoint and the saga's deadlines. */
public final class CommandSchema {

    public static final Migrations MIGRATIONS = new Migrations("command", List.of(
            new Script(1, "event store", "db/command/V1__event_store.sql"),
            new Script(2, "relay checkpoint", "db/command/V2__relay.sql"),
            new Script(3, "saga deadlines", "db/command/V3__saga.sql")));

    private CommandSchema() {
    }
}
