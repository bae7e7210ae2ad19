package dev.orders.command.store;

import dev.orders.service.sql.Migrations;

/**
 * The command side's schema: the event store, the relay's checkpoint, the saga's deadlines and dead
 * letters, and Idempotency-Keys scoped by caller. Its scripts are {@code db/command/V<n>__<description>.sql}
 * (Flyway's naming), found there by Flyway; a script is never edited once released: a change is a new script.
 */
public final class CommandSchema {

    public static final Migrations MIGRATIONS = new Migrations("command", "db/command");

    private CommandSchema() {
    }
}
