#!/usr/bin/env bash
# Settle's benchmark suite (issue #9): every figure of the README's Performance section
# on one fixed data set, held against bench/budgets.toml. Not part of the test command.
#
#   scripts/bench.sh              # full data set (10,000 accounts, 200,000 invoices,
#                                 # 1,000,000 lines), SQLite, reminders and import too
#   scripts/bench.sh --quick      # short runs on a small data set, to try it out
#   scripts/bench.sh --postgres   # also the writes (and the import) on PostgreSQL, in a
#                                 # scratch database of TEST_DATABASE_URL's server
#   scripts/bench.sh --check      # exit 1 naming each figure that misses its budget
#   BENCH_NO_BUILD=1 scripts/bench.sh …   # use the release build already in target/
#   BENCH_SKIP_LOAD=1 scripts/bench.sh …  # without the 10-minute load run
#
# What it measures (bench/README.md says more): portal overview and the 200-line invoice
# page (requests/s at saturation, then p50/p99 at half that rate, oha with latency
# correction, the server pinned to CPU 0 and the load generator to CPU 1); the same
# overview from a minimal axum handler (`bench baseline-server`) and the ratio Settle /
# baseline; writes/s and p99 of a staff inline edit, a dispute line annotation and a
# promise to pay; the first portal page's compressed weight; hydration time and
# interaction-to-next-paint in headless Chromium with 4x CPU throttling; the reminder
# scheduler over 1M open invoices and the CSV import of 1M lines (not with --quick); the
# load run of scripts/bench-load.sh (mixed journeys, 10 minutes at 70 % of saturation).
# The table goes to the terminal and to bench/results/<time>.md and .json.
#
# The generated database is cached in target/bench-cache/ (keyed by GEN_VERSION and the
# size); each run works on a copy.
set -euo pipefail

QUICK=0 CHECK=0 POSTGRES=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --check) CHECK=1 ;;
    --postgres) POSTGRES=1 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--check] [--quick] [--postgres]" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
. scripts/env.sh

# Bump when the generated data changes: the cache is keyed on it.
GEN_VERSION=1
if [ "$QUICK" = 1 ]; then
  ACCOUNTS=1000 INVOICES=20000 LINES=100000 SAT_SECS=4 HALF_SECS=4 WRITE_SECS=3 BROWSER_RUNS=1
else
  ACCOUNTS=10000 INVOICES=200000 LINES=1000000 SAT_SECS=15 HALF_SECS=15 WRITE_SECS=10 BROWSER_RUNS=3
fi
CONNECTIONS=32          # oha's connections for the page figures
WRITERS=8               # concurrent writers
SERVER_CPU=0 LOAD_CPU=1
PORT=3980 BASE_PORT=3981
URL="http://127.0.0.1:$PORT" BASE_URL="http://127.0.0.1:$BASE_PORT"
EMAIL=ap1@bench.test
STAFF_EMAIL=bench-staff@settle.test STAFF_PASSWORD="bench staff password 1"
LONG_INVOICE=BINV-1
export SETTLE_SECRET_KEY="$(printf '0%.0s' {1..64})"
export RUST_LOG=warn SETTLE_REMIND_EVERY_MINUTES=0 LEPTOS_SITE_ROOT=target/site

say() { printf '\033[1mbench:\033[0m %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

WORK="$(mktemp -d /tmp/settle-bench.XXXXXX)"
FIGURES="$WORK/figures.tsv"
: >"$FIGURES"
PIDS=()
PG_ADMIN="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
PG_DB=settle_bench_scratch
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ "$POSTGRES" = 1 ]; then
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# figure NAME VALUE UNIT COMMAND: one measured figure for the report.
figure() {
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$FIGURES"
  printf '  %-28s %s %s\n' "$1" "$2" "$3"
}

# ---------------------------------------------------------------------------------------
say "building (release: cargo leptos build --release --split --precompress, cargo build --release -p bench)"
command -v cargo-leptos >/dev/null || die "cargo-leptos is missing: run scripts/setup.sh"
for tool in curl jq python3 taskset sqlite3; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install -y $tool)"
done
if [ -n "${BENCH_NO_BUILD:-}" ]; then
  say "BENCH_NO_BUILD: using the release build already in target/ as it is"
else
  cargo leptos build --release --split --precompress >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; die "release build failed"; }
  cargo build --release -p bench >>"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; die "bench build failed"; }
fi
[ -x target/release/settle ] && [ -x target/release/bench ] || die "no release build in target/"
SITE_OK=1
ls target/site/pkg/*.wasm >/dev/null 2>&1 || SITE_OK=0
SETTLE="$ROOT/target/release/settle"
BENCH="$ROOT/target/release/bench"
cp "$SETTLE" "$WORK/settle"   # the scripts below may rebuild target/release/settle
SETTLE="$WORK/settle"

LOADGEN=oha
if ! command -v oha >/dev/null; then
  say "installing oha from crates.io (cargo install oha --locked)"
  if ! cargo install oha --locked >"$WORK/oha.log" 2>&1; then
    command -v wrk >/dev/null || die "neither oha (its build failed: $WORK/oha.log) nor wrk (apt-get install -y wrk)"
    LOADGEN=wrk
    say "oha did not build; using wrk (no fixed-rate run: p50/p99 are at saturation)"
  fi
fi

# ---------------------------------------------------------------------------------------
CACHE="$ROOT/target/bench-cache/g$GEN_VERSION-$ACCOUNTS-$INVOICES-$LINES"
import_all() {  # import_all: load the CSVs of $CACHE/csv into $DATABASE_URL, timing each
  local kind start
  "$SETTLE" migrate >/dev/null
  for kind in accounts contacts invoices payments; do
    start=$(date +%s.%N)
    "$SETTLE" import "$kind" "$CACHE/csv/$kind.csv" >"$WORK/import-$kind.txt" 2>"$WORK/import-$kind.err" ||
      { cat "$WORK/import-$kind.txt" "$WORK/import-$kind.err"; die "import of $kind failed"; }
    printf '    %-9s %s (%.1f s)\n' "$kind" "$(head -1 "$WORK/import-$kind.txt")" "$(echo "$(date +%s.%N) - $start" | bc)"
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
mkdir -p "$WORK/sqlite"
cp "$CACHE/settle.db" "$WORK/sqlite/settle.db"
SQLITE_URL="sqlite://$WORK/sqlite/settle.db?mode=rwc"

# ---------------------------------------------------------------------------------------
# start_settle DATABASE_URL DATA_DIR: serve on $PORT, pinned to the server CPU.
SETTLE_PID=
start_settle() {
  SETTLE_DATA_DIR="$2" DATABASE_URL="$1" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" SETTLE_PUBLIC_URL="$URL" \
    taskset -c "$SERVER_CPU" "$SETTLE" serve >"$2/server.log" 2>&1 &
  SETTLE_PID=$!
  PIDS+=("$SETTLE_PID")
  wait_up "$URL/" || { tail -20 "$2/server.log"; die "settle did not start"; }
}
stop_settle() { kill "$SETTLE_PID" 2>/dev/null || true; wait "$SETTLE_PID" 2>/dev/null || true; }
wait_up() {
  for _ in $(seq 1 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  return 1
}
# sign_in DATABASE_URL DATA_DIR: the customer's and the staff member's session cookies.
sign_in() {
  local link
  link=$(SETTLE_DATA_DIR="$2" DATABASE_URL="$1" SETTLE_PUBLIC_URL="$URL" "$SETTLE" link --email "$EMAIL")
  CUSTOMER_COOKIE=$(curl -s -D - -o /dev/null -H 'Sec-Fetch-Site: same-origin' \
    --data-urlencode "token=${link##*/}" "$URL/api/links/open" | cookie_of)
  STAFF_COOKIE=$(curl -s -D - -o /dev/null -H 'Sec-Fetch-Site: same-origin' \
    --data-urlencode "email=$STAFF_EMAIL" --data-urlencode "password=$STAFF_PASSWORD" \
    "$URL/api/staff/sign-in" | cookie_of)
  [ -n "$CUSTOMER_COOKIE" ] || die "the customer could not sign in"
  [ -n "$STAFF_COOKIE" ] || die "the staff member could not sign in"
}
cookie_of() { awk -F'[ ;]' 'tolower($1)=="set-cookie:" && $2 ~ /^settle_session=./ {print $2; exit}'; }

# load NAME URL COOKIE: requests/s at saturation, then p50/p99 at half that rate.
load() {
  local name="$1" url="$2" cookie="$3" out="$WORK/$1" rps half
  if [ "$LOADGEN" = oha ]; then
    taskset -c "$LOAD_CPU" oha --no-tui --output-format json -z "${SAT_SECS}s" -c "$CONNECTIONS" \
      -H "Cookie: $cookie" -H 'Accept-Encoding: br' "$url" >"$out-sat.json"
    rps=$(jq '.summary.requestsPerSec' "$out-sat.json")
    check_ok "$out-sat.json" "$name"
    figure "${name}_rps" "$(printf '%.0f' "$rps")" "req/s" \
      "oha -z ${SAT_SECS}s -c $CONNECTIONS (server taskset -c $SERVER_CPU, oha taskset -c $LOAD_CPU)"
    half=$(printf '%.0f' "$(echo "$rps / 2" | bc -l)")
    [ "$half" -ge 1 ] || half=1
    taskset -c "$LOAD_CPU" oha --no-tui --output-format json -z "${HALF_SECS}s" -c "$CONNECTIONS" \
      -q "$half" --latency-correction -H "Cookie: $cookie" -H 'Accept-Encoding: br' "$url" >"$out-half.json"
    check_ok "$out-half.json" "$name"
    figure "${name}_p50_ms" "$(jq '.latencyPercentiles.p50 * 10000 | round / 10' "$out-half.json")" "ms" \
      "oha -z ${HALF_SECS}s -q $half --latency-correction"
    figure "${name}_p99_ms" "$(jq '.latencyPercentiles.p99 * 10000 | round / 10' "$out-half.json")" "ms" \
      "oha -z ${HALF_SECS}s -q $half --latency-correction"
  else
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${SAT_SECS}s" --latency -H "Cookie: $cookie" \
      -H 'Accept-Encoding: br' "$url" >"$out-wrk.txt"
    grep -q 'Non-2xx' "$out-wrk.txt" && die "$name: non-2xx responses ($(grep Non-2xx "$out-wrk.txt"))"
    rps=$(awk '/Requests\/sec/ {print $2}' "$out-wrk.txt")
    figure "${name}_rps" "$(printf '%.0f' "$rps")" "req/s" "wrk -t1 -c$CONNECTIONS -d${SAT_SECS}s"
    figure "${name}_p50_ms" "$(awk '$1=="50%" {print ms($2)} function ms(v){ if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; return v*1000 }' "$out-wrk.txt")" "ms" "wrk at saturation (no fixed rate)"
    figure "${name}_p99_ms" "$(awk '$1=="99%" {print ms($2)} function ms(v){ if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; return v*1000 }' "$out-wrk.txt")" "ms" "wrk at saturation (no fixed rate)"
  fi
}
# check_ok OHA_JSON NAME: every response 200, or stop.
check_ok() {
  local bad
  bad=$(jq '[.statusCodeDistribution | to_entries[] | select(.key != "200") | .value] | add // 0' "$1")
  [ "$bad" = 0 ] || die "$2: $bad responses were not 200: $(jq -c .statusCodeDistribution "$1")"
}

# ---------------------------------------------------------------------------------------
say "SQLite: starting settle (taskset -c $SERVER_CPU) on $URL"
start_settle "$SQLITE_URL" "$WORK/sqlite"
sign_in "$SQLITE_URL" "$WORK/sqlite"
INVOICE_ID=$(sqlite3 "$WORK/sqlite/settle.db" "SELECT id FROM documents WHERE number = '$LONG_INVOICE'")
[ -n "$INVOICE_ID" ] || die "no invoice $LONG_INVOICE in the data set"
# The pages must be what we think they are before they are timed.
curl -sf -H "Cookie: $CUSTOMER_COOKIE" "$URL/portal" >"$WORK/portal.html" || die "GET /portal failed"
open_rows=$(grep -o 'href="/portal/invoices/[0-9]*"' "$WORK/portal.html" | wc -l)
[ "$open_rows" -ge 100 ] || die "the overview lists $open_rows open invoices, not 100"
curl -sf -H "Cookie: $CUSTOMER_COOKIE" "$URL/portal/invoices/$INVOICE_ID" >"$WORK/invoice.html" || die "GET invoice page failed"
line_rows=$(grep -o 'data-testid="line"' "$WORK/invoice.html" | wc -l)
[ "$line_rows" -eq 200 ] || die "the invoice page shows $line_rows lines, not 200"

say "pages: /portal (100 open invoices) and /portal/invoices/$INVOICE_ID (200 lines)"
load overview "$URL/portal" "$CUSTOMER_COOKIE"
load invoice "$URL/portal/invoices/$INVOICE_ID" "$CUSTOMER_COOKIE"

say "baseline: bench baseline-server (taskset -c $SERVER_CPU) on $BASE_URL"
taskset -c "$SERVER_CPU" "$BENCH" baseline-server --db "$SQLITE_URL" --addr "127.0.0.1:$BASE_PORT" \
  >"$WORK/baseline.log" 2>&1 &
BASE_PID=$!
PIDS+=("$BASE_PID")
for _ in $(seq 1 100); do
  code=$(curl -s -o "$WORK/baseline.html" -w '%{http_code}' -H "Cookie: $CUSTOMER_COOKIE" "$BASE_URL/portal" || true)
  [ "$code" = 200 ] && break
  sleep 0.1
done
[ "$code" = 200 ] || { cat "$WORK/baseline.log"; die "the baseline server did not answer 200"; }
base_rows=$(grep -o 'href="/portal/invoices/[0-9]*"' "$WORK/baseline.html" | wc -l)
[ "$base_rows" = "$open_rows" ] || die "the baseline lists $base_rows invoices, Settle $open_rows"
load baseline "$BASE_URL/portal" "$CUSTOMER_COOKIE"
kill "$BASE_PID" 2>/dev/null || true
settle_rps=$(awk -F'\t' '$1=="overview_rps" {print $2}' "$FIGURES")
base_rps=$(awk -F'\t' '$1=="baseline_rps" {print $2}' "$FIGURES")
figure overview_vs_baseline "$(echo "scale=3; $settle_rps / $base_rps" | bc -l)" "×" \
  "overview_rps / baseline_rps, same run"

if [ "$SITE_OK" = 0 ]; then
  say "SKIPPED page weight and browser figures: no wasm in target/site/pkg (the site build did not finish)"
else
say "page weight: the first portal page (HTML + JS + wasm + CSS)"
fetch_size() {  # fetch_size URL ENCODING: bytes transferred (the response must be 200)
  local out
  out=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -H "Cookie: $CUSTOMER_COOKIE" ${2:+-H "Accept-Encoding: $2"} "$1")
  [ "${out%% *}" = 200 ] || die "page weight: $1 answered ${out%% *}"
  echo "${out#* }"
}
assets=$(grep -o '/pkg/[^"'"'"' ]*' "$WORK/portal.html" | sort -u)
echo "$assets" | grep -q '\.wasm$' || assets="$assets /pkg/settle.wasm"
# The loader of the lazily loaded staff pages (cargo leptos build --split) is imported by settle.js.
for js in $(grep -o '__wasm_split[^"'"'"' ]*\.js' target/site/pkg/settle.js 2>/dev/null | sort -u); do
  assets="$assets /pkg/$js"
done
total_br=$(fetch_size "$URL/portal" br) total_raw=$(fetch_size "$URL/portal" identity)
printf '    %-24s %9s B raw %9s B br\n' /portal "$total_raw" "$total_br"
for a in $assets; do
  br=$(fetch_size "$URL$a" br) raw=$(fetch_size "$URL$a" identity)
  printf '    %-24s %9s B raw %9s B br\n' "$a" "$raw" "$br"
  case "$a" in *.wasm) figure wasm_br_kb "$(echo "scale=1; $br / 1024" | bc)" "KB" "curl -H 'Accept-Encoding: br' $a" ;; esac
  total_br=$((total_br + br)) total_raw=$((total_raw + raw))
done
figure page_weight_br_kb "$(echo "scale=1; $total_br / 1024" | bc)" "KB" \
  "curl -H 'Accept-Encoding: br' -w %{size_download}: /portal and $(echo $assets | tr '\n' ' ')"
figure page_weight_raw_kb "$(echo "scale=1; $total_raw / 1024" | bc)" "KB" "same, Accept-Encoding: identity"

say "browser: hydration and interaction-to-next-paint (headless Chromium, 4x CPU throttling)"
if [ -x /usr/bin/chromium ] && [ -d end2end/node_modules/@playwright/test ]; then
  if (cd end2end && BENCH_URL="$URL" BENCH_COOKIE="$CUSTOMER_COOKIE" BENCH_INVOICE_ID="$INVOICE_ID" \
      BENCH_RUNS="$BROWSER_RUNS" BENCH_OUT="$WORK/browser.json" \
      taskset -c "$LOAD_CPU" npx playwright test -c bench/bench.config.ts >"$WORK/browser.log" 2>&1); then
    figure hydrated_ms "$(jq .hydrated_ms "$WORK/browser.json")" "ms" \
      "cd end2end && npx playwright test -c bench/bench.config.ts (median of $BROWSER_RUNS)"
    figure first_page_transfer_kb "$(jq '.first_page_bytes / 1024 * 10 | round / 10' "$WORK/browser.json")" "KB" \
      "same: /portal's HTML and every resource it loaded, bytes on the wire (encodedBodySize, brotli)"
    figure first_page_requests "$(jq .first_page_requests "$WORK/browser.json")" "requests" "same"
    figure inp_select_line_ms "$(jq .select_line_ms "$WORK/browser.json")" "ms" \
      "same, worst of the click on Dispute lines and the one on line 150"
    figure inp_start_disputing_ms "$(jq .start_disputing_ms "$WORK/browser.json")" "ms" "same, the click on Dispute lines"
    figure inp_tick_line_ms "$(jq .tick_line_ms "$WORK/browser.json")" "ms" "same, the click on line 150's checkbox"
    figure inp_typing_ms "$(jq .typing_ms_max "$WORK/browser.json")" "ms" "same, worst keystroke of 1.25"
  else
    tail -30 "$WORK/browser.log"
    die "the browser figures failed (log above)"
  fi
else
  say "SKIPPED browser figures: /usr/bin/chromium or end2end/node_modules missing (scripts/setup.sh installs them)"
fi
fi

# writes NAME KIND DATABASE_URL COOKIE
writes() {
  local out="$WORK/$1.json"
  taskset -c "$LOAD_CPU" "$BENCH" writes --kind "$2" --base "$URL" --db "$3" --cookie "$4" \
    --seconds "$WRITE_SECS" --concurrency "$WRITERS" >"$out"
  jq -c '{acknowledged, non_2xx, transport_errors, lost, writes_per_s, p99_ms, first_refusal}' "$out" | sed 's/^/    /'
  figure "$1_per_s" "$(jq '.writes_per_s | floor' "$out")" "writes/s" \
    "bench writes --kind $2 --seconds $WRITE_SECS --concurrency $WRITERS"
  figure "$1_p99_ms" "$(jq '.p99_ms * 10 | floor / 10' "$out")" "ms" "same"
  figure "$1_failed" "$(jq '.non_2xx + .transport_errors + (if .lost > 0 then .lost else 0 end)' "$out")" \
    "writes" "same: not acknowledged 2xx, or acknowledged and not stored"
}
say "writes on SQLite (WAL), $WRITERS writers"
writes sqlite_edit edit "$SQLITE_URL" "$STAFF_COOKIE"
writes sqlite_dispute dispute "$SQLITE_URL" "$CUSTOMER_COOKIE"
writes sqlite_promise promise "$SQLITE_URL" "$CUSTOMER_COOKIE"
stop_settle

if [ "$POSTGRES" = 1 ]; then
  say "PostgreSQL: scratch database $PG_DB on ${PG_ADMIN%/*}"
  psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
  psql -q "$PG_ADMIN" -c "CREATE DATABASE $PG_DB" >/dev/null
  PG_URL="${PG_ADMIN%/*}/$PG_DB"
  mkdir -p "$WORK/pg"
  say "  importing the data set (PostgreSQL: about 2,000 rows/s, ≈ 10 minutes at full size)"
  (export SETTLE_DATA_DIR="$WORK/pg" DATABASE_URL="$PG_URL"; import_all)
  start_settle "$PG_URL" "$WORK/pg"
  sign_in "$PG_URL" "$WORK/pg"
  say "writes on PostgreSQL, $WRITERS writers"
  writes pg_edit edit "$PG_URL" "$STAFF_COOKIE"
  writes pg_dispute dispute "$PG_URL" "$CUSTOMER_COOKIE"
  writes pg_promise promise "$PG_URL" "$CUSTOMER_COOKIE"
  stop_settle
  psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
fi

# ---------------------------------------------------------------------------------------
# seconds_of H:MM:SS.ss or M:SS.ss
seconds_of() { echo "$1" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }'; }
if [ "$QUICK" = 1 ]; then
  say "SKIPPED with --quick: reminders over 1M open invoices and the 1M-line import"
else
  if [ -n "${BENCH_NO_BUILD:-}" ] && ! grep -q SETTLE_BIN scripts/bench-reminders.sh; then
    say "SKIPPED reminders: scripts/bench-reminders.sh always builds settle, and BENCH_NO_BUILD is set"
  else
  say "reminders over 1,000,000 open invoices (scripts/bench-reminders.sh)"
  SETTLE_BIN="$SETTLE" scripts/bench-reminders.sh >"$WORK/reminders.txt" 2>&1 || { tail -30 "$WORK/reminders.txt"; die "bench-reminders.sh failed"; }
  grep RESULT "$WORK/reminders.txt" | sed 's/^ */    /'
  while IFS= read -r line; do
    label=$(echo "$line" | sed -E 's/.*RESULT sqlite ([^:]*):.*/\1/')
    key=$(case "$label" in "dry run") echo dry_run ;; "first run"*) echo first_run ;; *) echo second_run ;; esac)
    wall=$(echo "$line" | sed -E 's/.*wall ([0-9:.]+).*/\1/')
    rss=$(echo "$line" | sed -E 's/.*peak RSS ([0-9]+) MiB.*/\1/')
    figure "reminders_${key}_s" "$(seconds_of "$wall")" "s" "scripts/bench-reminders.sh ($label)"
    figure "reminders_${key}_rss_mib" "$rss" "MiB" "same"
  done < <(grep RESULT "$WORK/reminders.txt")
  fi

  import_bench() {  # import_bench BACKEND
    SETTLE_BIN="$SETTLE" scripts/bench-import.sh "$1" >"$WORK/import-$1.txt" 2>&1 ||
      { tail -30 "$WORK/import-$1.txt"; die "bench-import.sh $1 failed"; }
    grep RESULT "$WORK/import-$1.txt" | sed 's/^ */    /'
    local first
    first=$(grep 'RESULT.*first import' "$WORK/import-$1.txt")
    figure "import_$1_rows_per_s" "$(echo "$first" | sed -E 's/.*= ([0-9]+) rows\/s.*/\1/')" "rows/s" \
      "SETTLE_BIN=… scripts/bench-import.sh $1 (1,000,000 lines, first import)"
    figure "import_$1_rss_mib" "$(echo "$first" | sed -E 's/.*peak RSS ([0-9]+) MiB.*/\1/')" "MiB" "same"
  }
  say "CSV import of 1,000,000 invoice lines (scripts/bench-import.sh)"
  import_bench sqlite
  if [ "$POSTGRES" = 1 ]; then import_bench postgres; fi
fi

# ---------------------------------------------------------------------------------------
# load_run PREFIX [--postgres]: the mixed journeys at 70 % of saturation for 10 minutes
# (--quick: 60 s on the small data set), scripts/bench-load.sh; its JSON feeds the figures.
load_run() {
  local prefix="$1" args=() status=0 json
  shift
  if [ "$QUICK" = 1 ]; then args+=(--quick); fi
  SETTLE_BIN="$SETTLE" BENCH_NO_BUILD=1 scripts/bench-load.sh "${args[@]}" "$@" >"$WORK/$prefix.txt" 2>&1 || status=$?
  json=$(grep -o 'bench/results/load-[^ )]*\.json' "$WORK/$prefix.txt" | tail -1)
  if [ -z "$json" ] || [ ! -f "$json" ]; then
    tail -30 "$WORK/$prefix.txt"
    die "scripts/bench-load.sh $* printed no figures (exit $status)"
  fi
  grep -E 'load_(ok|journeys_per_s|journey_p99|lost|5xx|memory)' "$WORK/$prefix.txt" | sed 's/^ */    /'
  local cmd="scripts/bench-load.sh${args[*]:+ ${args[*]}}${*:+ $*} ($json)"
  figure "${prefix}_ok" "$(jq 'if .ok then 1 else 0 end' "$json")" "(1 = every check held)" "$cmd"
  figure "${prefix}_journeys_per_s" "$(jq .journeys_per_s "$json")" "journeys/s" \
    "same: completed, at $(jq .fraction "$json") of the saturation ($(jq .saturation_journeys_per_s "$json") journeys/s)"
  figure "${prefix}_journey_p99_ms" "$(jq .journey_p99_ms "$json")" "ms" "same, 9 requests per journey"
  figure "${prefix}_failed" "$(jq '.status_5xx + .saturation_5xx + .transport_errors + .refused + .journeys_failed + .dropped_arrivals' "$json")" \
    "requests/journeys" "same: 5xx, transport errors, refused steps, failed journeys, dropped arrivals"
  figure "${prefix}_lost_writes" "$(jq .lost_writes "$json")" "writes" "same: acknowledged and not in the database"
  figure "${prefix}_rss_growth_mib" "$(jq '((.rss_last_mib // 0) - (.rss_reference_mib // 0)) * 10 | round / 10' "$json")" "MiB" \
    "same: last window's median RSS − the second window's"
}
if [ -n "${BENCH_SKIP_LOAD:-}" ]; then
  say "SKIPPED the load run (BENCH_SKIP_LOAD is set)"
else
  say "load: mixed journeys at 70 % of saturation (scripts/bench-load.sh; about 13 minutes, --quick 2)"
  load_run load
  if [ "$POSTGRES" = 1 ]; then load_run load_pg --postgres; fi
fi

# ---------------------------------------------------------------------------------------
mkdir -p bench/results
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
mode=$([ "$QUICK" = 1 ] && echo "QUICK run (small data set: $ACCOUNTS accounts, $INVOICES invoices, $LINES lines; short durations) — not comparable with the budgets' full-size figures" || echo "full run ($ACCOUNTS accounts, $INVOICES invoices, $LINES lines)")
about="Settle benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty'); $mode. Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/ {print $2}') GiB; load average at the end $(cut -d' ' -f1-3 /proc/loadavg); load generator $LOADGEN."
echo
"$BENCH" report --figures "$FIGURES" --budgets bench/budgets.toml --out "bench/results/$stamp$([ "$QUICK" = 1 ] && echo -quick)" \
  --about "$about" $([ "$CHECK" = 1 ] && echo --check)
