package dev.orders.devservers;

/**
 * A database set up for both sides: each side has its own role and schema in it.
 *
 * @param name         the database name
 * @param commandPgUri URI for the command side: role {@value PgProvisioner#COMMAND_ROLE}, schema
 *                     {@value PgProvisioner#COMMAND_SCHEMA}
 * @param queryPgUri   URI for the query side: role {@value PgProvisioner#QUERY_ROLE}, schema
 *                     {@value PgProvisioner#QUERY_SCHEMA}
 */
public record PgDatabase(String name, String commandPgUri, String queryPgUri) {
}
