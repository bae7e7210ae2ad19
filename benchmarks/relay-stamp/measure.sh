#!/bin/bash
# The relay's per-event stamp (before V11) against its checkpoint-only record (V11), on a PostgreSQL of your own:
#   PGHOST/PGPORT/PGUSER set, a superuser; makes the databases relay_before (scripts V1..V10) and relay_after (V1..V11).
# Prints, per round: appends/s of 3 clients while one relay-like client publishes, WAL and table bytes per event,
# n_tup_upd; publishing a 50,000-event backlog in batches of 200; a feed page of 1,000. Not a test: run it by hand.
set -e
here=$(cd "$(dirname "$0")" && pwd); cd "$here"
M=../../command-side/src/main/resources/db/command
P="psql -q -v ON_ERROR_STOP=1"
for db in relay_before relay_after; do $P -d postgres -c "drop database if exists $db" -c "create database $db"; done
for v in 1 2 3 4 5 6 7 8 9 10; do $P -d relay_before -f $M/V${v}__*.sql; $P -d relay_after -f $M/V${v}__*.sql; done
$P -d relay_after -f $M/V11__*.sql
$P -d relay_before -f publish_before.sql; $P -d relay_after -f publish_after.sql
Q() { psql -qAt -d "$1" -c "$2"; }
mixed() { # $1 database, $2 seconds
  Q $1 "select bench_reset()" >/dev/null; Q $1 "vacuum analyze events"; Q $1 "checkpoint"; Q $1 "select pg_stat_reset()" >/dev/null
  lsn0=$(Q $1 "select pg_current_wal_lsn()")
  pgbench -n -c 1 -T $2 -f publish.pgb $1 > /tmp/relay-pub.out 2>&1 & pub=$!
  pgbench -n -c 3 -j 1 -T $2 -f append.pgb $1 > /tmp/relay-app.out 2>&1; wait $pub
  while [ "$(Q $1 'select bench_publish(2000)')" != "0" ]; do :; done; sleep 1
  events=$(Q $1 "select count(*) from events"); wal=$(Q $1 "select pg_current_wal_lsn() - '$lsn0'::pg_lsn")
  echo "$1 mixed: appends/s=$(grep -o 'tps = [0-9.]*' /tmp/relay-app.out | cut -d' ' -f3) wal_bytes/event=$((wal / events))" \
       "bytes/event=$(( $(Q $1 "select pg_total_relation_size('events')") / events ))" \
       "n_tup_upd=$(Q $1 "select n_tup_upd from pg_stat_user_tables where relname = 'events'")"
}
drain() { # $1 database
  Q $1 "select bench_reset()" >/dev/null
  Q $1 "INSERT INTO events (event_id, stream_type, stream_id, version, event_type, schema_version, data, metadata, occurred_at)
        SELECT gen_random_uuid(), 'order', gen_random_uuid(), 1, 'OrderCreated', 2, '{\"orderId\": \"7d0f6a0e-8a51-4a43-9e59-3f6c2b3c7a11\", \"customerId\": \"1b4e28ba-2fa1-11d2-883f-0016d3cca427\", \"total\": {\"amount\": \"12.00\", \"currency\": \"EUR\"}}', '{}', now()
          FROM generate_series(1, 50000)"
  Q $1 "vacuum analyze events"; Q $1 "checkpoint"; lsn0=$(Q $1 "select pg_current_wal_lsn()")
  lat=$(pgbench -n -c 1 -t 250 -f publish.pgb $1 2>&1 | grep -o 'latency average = [0-9.]* ms')
  echo "$1 publishing 200 of a 50,000 backlog: $lat, wal_bytes/event=$(( $(Q $1 "select pg_current_wal_lsn() - '$lsn0'::pg_lsn") / 50000 ))"
  echo "$1 feed page of 1,000: $(pgbench -M prepared -n -c 1 -t 200 -f feed_${1#relay_}.pgb $1 2>&1 | grep -o 'latency average = [0-9.]* ms')"
}
for round in 1 2 3; do mixed relay_before 15; mixed relay_after 15; done
for round in 1 2 3; do drain relay_before; drain relay_after; done
