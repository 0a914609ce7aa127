#!/usr/bin/env bash
# Measures `settle import invoices` on a generated file of 1,000,000 invoice lines
# (100,000 invoices of 10 lines by default) over a few thousand accounts, which an
# accounts import creates first. Builds `settle` in release mode, then runs the invoices
# import under /usr/bin/time -v and prints rows/s and the peak resident memory; then runs
# it again (every row unchanged) for the steady state.
#
#   scripts/bench-import.sh            # SQLite file under /tmp
#   scripts/bench-import.sh postgres   # PostgreSQL (TEST_DATABASE_URL's server)
#   INVOICES=10000 LINES=10 ACCOUNTS=500 scripts/bench-import.sh
#   SETTLE_BIN=/tmp/settle scripts/bench-import.sh   # skip the build
#
# Everything generated lives under /tmp (or in a scratch PostgreSQL database) and is
# deleted on exit.
set -euo pipefail

BACKEND="${1:-sqlite}"
INVOICES="${INVOICES:-100000}"
LINES="${LINES:-10}"
ACCOUNTS="${ACCOUNTS:-3000}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

if [ -n "${SETTLE_BIN:-}" ]; then
  BIN="$SETTLE_BIN"   # an already built binary: no build
else
  echo "== building settle (release)"
  cargo build --release -p server --bin settle
  BIN="$ROOT/target/release/settle"
fi

WORK="$(mktemp -d /tmp/settle-bench-import.XXXXXX)"
PG_ADMIN="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
PG_DB="settle_bench_import"
cleanup() {
  rm -rf "$WORK"
  if [ "$BACKEND" = postgres ]; then
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

export SETTLE_DATA_DIR="$WORK"
export SETTLE_SECRET_KEY="$(printf '0%.0s' {1..64})"
export SETTLE_PUBLIC_URL="https://billing.example.com"
export RUST_LOG=warn

case "$BACKEND" in
  sqlite)
    export DATABASE_URL="sqlite://$WORK/settle.db?mode=rwc"
    ;;
  postgres)
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
    psql -q "$PG_ADMIN" -c "CREATE DATABASE $PG_DB" >/dev/null
    export DATABASE_URL="${PG_ADMIN%/*}/$PG_DB"
    ;;
  *)
    echo "usage: $0 [sqlite|postgres]" >&2
    exit 2
    ;;
esac
"$BIN" migrate >/dev/null

echo "== generating $ACCOUNTS accounts and $INVOICES invoices of $LINES lines"
python3 - "$WORK" "$ACCOUNTS" "$INVOICES" "$LINES" <<'PY'
import sys
work, accounts, invoices, lines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open(f"{work}/accounts.csv", "w") as f:
    f.write("external_id,account_number,legal_name,payment_terms_days,currency\n")
    for a in range(1, accounts + 1):
        f.write(f"BA-{a},B{a:05d},Bench {a} Inc.,30,USD\n")
with open(f"{work}/invoices.csv", "w") as f:
    f.write("external_id,invoice_number,account_number,invoice_date,due_date,currency,"
            "line_no,sku,description,quantity,unit_price,tax\n")
    for i in range(1, invoices + 1):
        account = f"B{1 + i % accounts:05d}"
        day = 1 + i % 28
        for l in range(1, lines + 1):
            f.write(f"BI-{i},BINV-{i},{account},2026-10-{day:02d},2026-11-{day:02d},USD,"
                    f"{l},SKU-{l},Bench item {l},{1 + l % 7}.5,{10 + i % 90}.25,1.50\n")
PY
ROWS=$((INVOICES * LINES))
echo "   invoices.csv: $(du -h "$WORK/invoices.csv" | cut -f1), $ROWS rows"
"$BIN" import accounts "$WORK/accounts.csv" | head -1

measure() {
  local label="$1"
  echo "== settle import invoices ($label)"
  /usr/bin/time -v "$BIN" import invoices "$WORK/invoices.csv" >"$WORK/out.txt" 2>"$WORK/time.txt" || {
    cat "$WORK/out.txt" "$WORK/time.txt" >&2
    exit 1
  }
  head -1 "$WORK/out.txt"
  local wall rss seconds
  wall=$(grep 'Elapsed (wall clock)' "$WORK/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$WORK/time.txt" | awk '{print $NF}')
  seconds=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
  echo "   RESULT $BACKEND $label: $ROWS rows in ${seconds}s = $(awk "BEGIN { printf \"%d\", $ROWS / $seconds }") rows/s, peak RSS $((rss / 1024)) MiB"
}

measure "first import, all created"
measure "second import, all unchanged"
