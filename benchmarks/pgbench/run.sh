#!/bin/bash
# PostgreSQL's ceiling for this design's writes: what the server alone does, with the whole machine, writing the
# rows of an order (three-appends.sql, then beyond-the-appends.sql) and only its three appends, each against the harness's
# one-row INSERT (one-row-insert.sql) run right before it on the same server. A probe beside the harness (see
# BENCHMARKS.md): it needs psql and pgbench (Debian: postgresql-client) and a PostgreSQL server it may create a
# database on, e.g. the embedded one of a running all-in-one (--pg.embedded.port=55432).
#
# usage: benchmarks/pgbench/run.sh [--host H] [--port P] [--user U] [--runs N] [--seconds S] [--clients C]
set -euo pipefail
host=127.0.0.1 port=5432 user=postgres runs=3 seconds=15 clients=32
while [ $# -gt 0 ]; do
  case "$1" in
    --host) host=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (--help lists them)" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
db=design_writes
pg=(-h "$host" -p "$port" -U "$user")

echo "run.sh: a fresh database $db on $host:$port, the command and query schemas migrated from the repository's scripts"
psql "${pg[@]}" -qX -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql "${pg[@]}" -qX -v ON_ERROR_STOP=1 -d $db -c "CREATE SCHEMA command" -c "CREATE SCHEMA query"
for side in command query; do
  for script in $(ls "$repo/$side-side/src/main/resources/db/$side"/V*.sql | sort -V); do
    PGOPTIONS="-c search_path=$side" psql "${pg[@]}" -qX -v ON_ERROR_STOP=1 -d $db -f "$script" > /dev/null
  done
done
psql "${pg[@]}" -qX -v ON_ERROR_STOP=1 -d $db -f "$here/setup.sql" > /dev/null
export PGOPTIONS="-c search_path=command,query,public"
design=$(mktemp --suffix=.sql)
cat "$here/three-appends.sql" "$here/beyond-the-appends.sql" > "$design"
echo "run.sh: $runs run(s) of $seconds s at $clients clients; pgbench's tps of a round script are rounds of 16 orders"

tps() { # script, mode
  pgbench "${pg[@]}" -n -M "$2" -f "$1" -c "$clients" -j "$clients" -T "$seconds" $db 2>&1 \
    | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
results=$(mktemp)
for run in $(seq 1 "$runs"); do
  base=$(tps "$here/one-row-insert.sql" simple)
  appends=$(tps "$here/three-appends.sql" prepared)
  base2=$(tps "$here/one-row-insert.sql" simple)
  writes=$(tps "$design" prepared)
  echo "$base $appends $base2 $writes" >> "$results"
  awk -v r="$run" '{ printf "run %s: pgbench %.0f tps; three appends %.0f orders/s (%.0f%%) | pgbench %.0f tps; the design'"'"'s writes %.0f orders/s (%.0f%%)\n", r, $1, $2*16, 100*$2*16/$1, $3, $4*16, 100*$4*16/$3 }' <<< "$base $appends $base2 $writes"
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
appends=$(awk '{ printf "%.0f\n", 100 * $2 * 16 / $1 }' "$results" | median)
writes=$(awk '{ printf "%.0f\n", 100 * $4 * 16 / $3 }' "$results" | median)
echo "median of $runs run(s): three appends $appends% of pgbench, the design's writes $writes% of pgbench"
rm -f "$results" "$design"
psql "${pg[@]}" -qX -d postgres -c "DROP DATABASE $db"
