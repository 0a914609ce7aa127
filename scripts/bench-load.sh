#!/usr/bin/env bash
# Settle's load test: customers' mixed journeys for 10 minutes at 70 % of saturation.
#
#   scripts/bench-load.sh              # full data set (10,000 accounts), 600 s, SQLite
#   scripts/bench-load.sh --quick      # small data set (1,000 accounts), 60 s
#   scripts/bench-load.sh --postgres   # on PostgreSQL instead: a scratch database
#                                      # (settle_load_scratch) of TEST_DATABASE_URL's server
#   BENCH_NO_BUILD=1 scripts/bench-load.sh …   # use the release build already in target/
#   BENCH_LOAD_SECONDS=120 scripts/bench-load.sh …   # another length of the steady run
#   SETTLE_BIN=path scripts/bench-load.sh …   # this settle binary (scripts/bench.sh passes its copy)
#   SETTLE_LOG=info scripts/bench-load.sh …   # the server's RUST_LOG (default warn); its log
#                                              # is kept as bench/results/load-<time>.server.log
#
# One journey (bench/src/load.rs): open a fresh magic link, GET /portal, GET an open
# invoice, dispute one of its lines, pay 1.00 on it through the sandbox checkout (start,
# the checkout page, its Pay button), promise 1.00 on it, and a collector's inline edit
# of an account's name. `bench load` measures journeys/s with 16 customers back to back
# (saturation: 90 s, of which the first 30 s warm up and are not counted), then starts
# journeys at 70 % of that rate from a timer (open loop) for the
# run, recording each step's p50/p99, sampling the server's VmRSS every few seconds, and
# afterwards looks every acknowledged write up in the database. It fails (exit 1) on any
# 5xx or transport error, any failed journey, any lost write, or memory that grew: the
# last minute's median RSS above 1.15 × the second minute's + 16 MiB (with --quick the
# "minute" is a third of the run).
#
# The server is release `settle serve` pinned to CPU 0 with the sandbox payment provider,
# the load generator runs on CPU 1. The data set is scripts/bench.sh's, from its cache in
# target/bench-cache/ (generated here the same way when missing); each run works on a
# copy. Prints `load_*` figures (name value unit) and writes the whole JSON line to
# bench/results/load-<UTC time>[-quick][-postgres].json.
set -euo pipefail

QUICK=0 POSTGRES=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --postgres) POSTGRES=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--quick] [--postgres]" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
. scripts/env.sh

# Must be scripts/bench.sh's GEN_VERSION: the two share the cached data set.
GEN_VERSION=1
if [ "$QUICK" = 1 ]; then
  ACCOUNTS=1000 INVOICES=20000 LINES=100000 RUN_SECS=60 SAT_SECS=30 SAMPLE_SECS=2
else
  ACCOUNTS=10000 INVOICES=200000 LINES=1000000 RUN_SECS=600 SAT_SECS=90 SAMPLE_SECS=5
fi
RUN_SECS="${BENCH_LOAD_SECONDS:-$RUN_SECS}"
USERS=16 FRACTION=0.7 CUSTOMERS=200
SERVER_CPU=0 LOAD_CPU=1
PORT=3984
URL="http://127.0.0.1:$PORT"
STAFF_EMAIL=bench-staff@settle.test STAFF_PASSWORD="bench staff password 1"
export SETTLE_SECRET_KEY="$(printf '0%.0s' {1..64})"
export RUST_LOG="${SETTLE_LOG:-warn}" SETTLE_REMIND_EVERY_MINUTES=0 LEPTOS_SITE_ROOT=target/site

say() { printf '\033[1mbench-load:\033[0m %s\n' "$*"; }
die() { printf 'bench-load: %s\n' "$*" >&2; exit 1; }

WORK="$(mktemp -d /tmp/settle-load.XXXXXX)"
SETTLE_PID=
PG_ADMIN="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
PG_DB=settle_load_scratch
cleanup() {
  if [ -n "$SETTLE_PID" ]; then kill "$SETTLE_PID" 2>/dev/null || true; fi
  if [ -n "${SAMPLER_PID:-}" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
  if [ "$POSTGRES" = 1 ]; then
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

for tool in curl jq taskset sqlite3; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install -y $tool)"
done
if [ "$POSTGRES" = 1 ]; then command -v psql >/dev/null || die "psql is missing"; fi
if [ -n "${BENCH_NO_BUILD:-}" ]; then
  say "BENCH_NO_BUILD: using the release build already in target/ as it is"
else
  say "building (cargo build --release -p server -p bench)"
  cargo build --release -p server -p bench >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; die "release build failed"; }
fi
SETTLE_SRC="${SETTLE_BIN:-target/release/settle}"
[ -x "$SETTLE_SRC" ] && [ -x target/release/bench ] || die "no release build in target/ ($SETTLE_SRC, target/release/bench)"
cp "$SETTLE_SRC" "$WORK/settle"   # a build beside us may replace target/release/settle
SETTLE="$WORK/settle"
BENCH="$ROOT/target/release/bench"

# ---------------------------------------------------------------------------------------
CACHE="$ROOT/target/bench-cache/g$GEN_VERSION-$ACCOUNTS-$INVOICES-$LINES"
import_all() {  # import_all: load the CSVs of $CACHE/csv into $DATABASE_URL (as scripts/bench.sh)
  local kind
  "$SETTLE" migrate >/dev/null
  for kind in accounts contacts invoices payments; do
    "$SETTLE" import "$kind" "$CACHE/csv/$kind.csv" >"$WORK/import-$kind.txt" 2>&1 ||
      { cat "$WORK/import-$kind.txt"; die "import of $kind failed"; }
    printf '    %-9s %s\n' "$kind" "$(head -1 "$WORK/import-$kind.txt")"
  done
  printf '%s\n' "$STAFF_PASSWORD" | "$SETTLE" staff add --email "$STAFF_EMAIL" --name "Bench Staff" \
    --role collector --password-stdin >/dev/null
}
if [ ! -f "$CACHE/done" ]; then
  say "generating the data set ($ACCOUNTS accounts, $INVOICES invoices, $LINES lines) into $CACHE"
  rm -rf "$CACHE"
  mkdir -p "$CACHE/csv"
  "$BENCH" gen --dir "$CACHE/csv" --accounts "$ACCOUNTS" --invoices "$INVOICES" --lines "$LINES"
  (
    export SETTLE_DATA_DIR="$CACHE" DATABASE_URL="sqlite://$CACHE/settle.db?mode=rwc"
    import_all
  )
  sqlite3 "$CACHE/settle.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
  touch "$CACHE/done"
else
  say "data set from the cache: $CACHE"
fi

mkdir -p "$WORK/data"
if [ "$POSTGRES" = 1 ]; then
  say "PostgreSQL: scratch database $PG_DB on ${PG_ADMIN%/*}"
  psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
  psql -q "$PG_ADMIN" -c "CREATE DATABASE $PG_DB" >/dev/null
  DB_URL="${PG_ADMIN%/*}/$PG_DB"
  say "  importing the data set (PostgreSQL: about 2,000 rows/s, ≈ 10 minutes at full size)"
  (export SETTLE_DATA_DIR="$WORK/data" DATABASE_URL="$DB_URL"; import_all)
  BACKEND=postgres
else
  cp "$CACHE/settle.db" "$WORK/data/settle.db"
  DB_URL="sqlite://$WORK/data/settle.db?mode=rwc"
  BACKEND=sqlite
fi

# ---------------------------------------------------------------------------------------
say "starting settle (taskset -c $SERVER_CPU, sandbox payments) on $URL"
SETTLE_DATA_DIR="$WORK/data" DATABASE_URL="$DB_URL" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" \
  SETTLE_PUBLIC_URL="$URL" SETTLE_PAY_PROVIDER=sandbox \
  taskset -c "$SERVER_CPU" "$SETTLE" serve >"$WORK/server.log" 2>&1 &
SETTLE_PID=$!
up=0
for _ in $(seq 1 300); do
  if curl -sf -o /dev/null "$URL/"; then up=1; break; fi
  kill -0 "$SETTLE_PID" 2>/dev/null || break
  sleep 0.1
done
[ "$up" = 1 ] || { tail -20 "$WORK/server.log"; die "settle did not start"; }
STAFF_COOKIE=$(curl -s -D - -o /dev/null -H 'Sec-Fetch-Site: same-origin' \
  --data-urlencode "email=$STAFF_EMAIL" --data-urlencode "password=$STAFF_PASSWORD" \
  "$URL/api/staff/sign-in" | awk -F'[ ;]' 'tolower($1)=="set-cookie:" && $2 ~ /^settle_session=./ {print $2; exit}')
[ -n "$STAFF_COOKIE" ] || die "the staff member could not sign in"

SAMPLER_PID=
if [ "$POSTGRES" = 1 ]; then
  # What PostgreSQL does meanwhile (CPU, dead rows, checkpoints, vacuums): pg-sample.sh.
  # Every 10 s: sampling every 2 s measurably lowered the saturation it runs beside.
  say "PostgreSQL: autovacuum is $(psql -XAtq "$DB_URL" -c 'SHOW autovacuum'); sampling it every 10 s"
  scripts/pg-sample.sh "$DB_URL" "$SETTLE_PID" 10 >"$WORK/pg.tsv" 2>/dev/null &
  SAMPLER_PID=$!
fi
say "bench load (taskset -c $LOAD_CPU): saturation ${SAT_SECS} s with $USERS customers, then ${FRACTION} of it for ${RUN_SECS} s"
status=0
taskset -c "$LOAD_CPU" "$BENCH" load --base "$URL" --db "$DB_URL" --staff-cookie "$STAFF_COOKIE" \
  --pid "$SETTLE_PID" --saturate "$SAT_SECS" --fraction "$FRACTION" --users "$USERS" \
  --seconds "$RUN_SECS" --accounts "$CUSTOMERS" --sample-seconds "$SAMPLE_SECS" \
  >"$WORK/load.json" 2>"$WORK/load.err" || status=$?
sed 's/^/    /' "$WORK/load.err"
if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
kill "$SETTLE_PID" 2>/dev/null || true
wait "$SETTLE_PID" 2>/dev/null || true
SETTLE_PID=
[ -s "$WORK/load.json" ] || { tail -20 "$WORK/server.log"; die "bench load printed no figures (exit $status)"; }

mkdir -p bench/results
out="bench/results/load-$(date -u +%Y-%m-%dT%H%M%SZ)$([ "$QUICK" = 1 ] && echo -quick || true)$([ "$POSTGRES" = 1 ] && echo -postgres || true).json"
cp "$WORK/load.json" "$out"
if [ -n "${SETTLE_LOG:-}" ]; then cp "$WORK/server.log" "${out%.json}.server.log"; fi
if [ -s "$WORK/pg.tsv" ]; then cp "$WORK/pg.tsv" "${out%.json}.pg.tsv"; fi
echo
say "figures ($BACKEND$([ "$QUICK" = 1 ] && echo ', quick: small data set'); whole JSON in $out)"
jq -r --arg b "$BACKEND" '
  def f(n; v; u): "  \("load_" + n | . + " " * (34 - length)) \(v // "—") \(u)";
  f("ok"; .ok; ""),
  f("saturation_journeys_per_s"; .saturation_journeys_per_s; "journeys/s (\(.users) customers back to back, \(.saturate_seconds) s; the outbox then emptied in \(.saturation_outbox_drain_seconds) s)"),
  f("rate_journeys_per_s"; .rate_journeys_per_s; "journeys/s offered (\(.fraction) of saturation, open loop, \(.seconds) s)"),
  f("journeys_per_s"; .journeys_per_s; "journeys/s completed"),
  f("journeys"; .journeys_completed; "completed of \(.journeys_started) started; \(.journeys_failed) failed, \(.dropped_arrivals) arrivals dropped"),
  f("journey_p50_ms"; .journey_p50_ms; "ms"),
  f("journey_p99_ms"; .journey_p99_ms; "ms"),
  (.steps | to_entries[] | f("\(.key)_p50_ms"; .value.p50_ms; "ms"), f("\(.key)_p99_ms"; .value.p99_ms; "ms")),
  f("requests"; .requests; "requests in the run"),
  f("5xx"; (.status_5xx + .saturation_5xx); "responses (\(.saturation_5xx) of them during saturation)"),
  f("transport_errors"; .transport_errors; ""),
  f("refused"; .refused; "steps answered 4xx or without what they should carry"),
  f("writes_acked"; (.disputes_acked + .promises_acked + .payments_acked + .edits_acked);
    "(disputes \(.disputes_acked), promises \(.promises_acked), payments \(.payments_acked), edits \(.edits_acked))"),
  f("lost_writes"; .lost_writes; "acknowledged and not stored (payments misapplied: \(.payments_misapplied))"),
  f("rss_first_mib"; .rss_first_mib; "MiB (median of the first \(.rss_window_seconds) s, warm-up)"),
  f("rss_reference_mib"; .rss_reference_mib; "MiB (median of the second window)"),
  f("rss_last_mib"; .rss_last_mib; "MiB (median of the last window; limit \(.rss_limit_mib))"),
  f("rss_max_mib"; .rss_max_mib; "MiB"),
  f("memory_flat"; .memory_flat; ""),
  "  timeline (from s: journeys/s completed, p50 / p99 ms; at the end of each: RSS, read per journey, outbox, WAL):",
  (.timeline[]? | "    \(.from_s | tostring | . + " " * (6 - length)) \(.journeys_per_s) j/s, \(.p50_ms) / \(.p99_ms) ms, \(.rss_mib) MiB, \(.read_mib_per_journey) MiB read/journey, \(.outbox_backlog) emails queued\(if .wal_mib then ", WAL \(.wal_mib) MiB" else "" end)"),
  (if (.errors | length) > 0 then "  first errors:", (.errors[] | "    " + .) else empty end),
  (if (.saturation_errors | length) > 0 then "  first errors during saturation:", (.saturation_errors[] | "    " + .) else empty end),
  (if (.lost_examples | length) > 0 then "  lost writes:", (.lost_examples[] | "    " + .) else empty end)
' "$WORK/load.json"
if grep -qiE 'panicked|ERROR' "$WORK/server.log"; then
  echo
  say "the server log has errors (first 10):"
  grep -iE 'panicked|ERROR' "$WORK/server.log" | head -10 | sed 's/^/    /'
fi
exit "$status"
