#!/bin/sh
# Each side owns its data: role orders_command with schema command, role orders_query with schema
# query, in database orders (as the all-in-one provisions its embedded server). Run once by the
# postgres image on an empty data volume; on a managed server, run the same statements as its admin.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE orders_command LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${COMMAND_DB_PASSWORD}';
CREATE ROLE orders_query LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${QUERY_DB_PASSWORD}';
REVOKE ALL ON DATABASE ${POSTGRES_DB} FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE ${POSTGRES_DB} TO orders_command, orders_query;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA command AUTHORIZATION orders_command;
CREATE SCHEMA query AUTHORIZATION orders_query;
ALTER ROLE orders_command SET search_path = command;
ALTER ROLE orders_query SET search_path = query;
SQL
