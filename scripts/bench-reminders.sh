#!/usr/bin/env bash
# Measures the reminder scheduler on a large book: generates open invoices (1,000,000 by
# default) over a few thousand accounts straight in SQL, builds `settle` in release mode,
# then runs `settle remind --dry-run` and `settle remind --now` (the first, catch-up run)
# and `--now` again (the steady state: nothing new) under /usr/bin/time -v, printing the
# wall-clock seconds and the peak resident memory of each. Each account gets invoices of
# every age (10 to 129 days old, 30-day terms), 1 in 50 accounts is on hold, 1 in 20
# contacts bounced, 1 in 25 accounts has no contact, some invoices are disputed.
#
#   scripts/bench-reminders.sh            # SQLite file under /tmp
#   scripts/bench-reminders.sh postgres   # PostgreSQL (TEST_DATABASE_URL's server)
#   INVOICES=100000 ACCOUNTS=500 scripts/bench-reminders.sh
#
# The generated database lives under /tmp (or in a scratch PostgreSQL database) and is
# deleted on exit.
set -euo pipefail

BACKEND="${1:-sqlite}"
INVOICES="${INVOICES:-1000000}"
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

WORK="$(mktemp -d /tmp/settle-bench-reminders.XXXXXX)"
PG_ADMIN="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
PG_DB="settle_bench_reminders"
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
    "$BIN" migrate >/dev/null
    echo "== generating $INVOICES open invoices over $ACCOUNTS accounts (SQLite)"
    start=$(date +%s)
    sqlite3 "$WORK/settle.db" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ACCOUNTS)
INSERT INTO accounts (kind, account_number, legal_name, display_name, payment_terms_days,
                      currency, status, segment, version, created_at, updated_at)
SELECT 'customer', printf('B%05d', i), printf('Bench %d Inc.', i), printf('Bench %d', i), 30,
       'USD', CASE WHEN i % 50 = 0 THEN 'on_hold' ELSE 'active' END,
       CASE WHEN i % 3 = 0 THEN 'wholesale' ELSE 'retail' END, 1,
       '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'
FROM n;
INSERT INTO contacts (account_id, name, email, role, is_primary_billing, email_status,
                      version, created_at, updated_at)
SELECT id, 'Pat Payables', 'ap' || id || '@bench.test', 'ap', 1,
       CASE WHEN id % 20 = 0 THEN 'bounced' ELSE 'verified' END, 1,
       '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'
FROM accounts WHERE id % 25 <> 0;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $INVOICES)
INSERT INTO documents (account_id, kind, number, issue_date, due_date, currency, total_minor,
                       tax_minor, open_minor, disputed_minor, status, created_at, updated_at)
SELECT 1 + (i % $ACCOUNTS), 'invoice', 'BINV-' || i,
       date('now', printf('-%d days', ((i / $ACCOUNTS) % 120) + 10)),
       date('now', printf('%+d days', 20 - ((i / $ACCOUNTS) % 120))),
       'USD', 10000 + (i % 5000), 0, 10000 + (i % 5000),
       CASE WHEN i % 97 = 0 THEN 10000 + (i % 5000) WHEN i % 31 = 0 THEN 2500 ELSE 0 END,
       'open', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'
FROM n;
COMMIT;
ANALYZE;
SQL
    echo "   generated in $(( $(date +%s) - start )) s; file $(du -h "$WORK/settle.db" | cut -f1)"
    ;;
  postgres)
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
    psql -q "$PG_ADMIN" -c "CREATE DATABASE $PG_DB" >/dev/null
    export DATABASE_URL="${PG_ADMIN%/*}/$PG_DB"
    "$BIN" migrate >/dev/null
    echo "== generating $INVOICES open invoices over $ACCOUNTS accounts (PostgreSQL)"
    start=$(date +%s)
    psql -q "$DATABASE_URL" <<SQL
BEGIN;
INSERT INTO accounts (kind, account_number, legal_name, display_name, payment_terms_days,
                      currency, status, segment, version, created_at, updated_at)
SELECT 'customer', 'B' || lpad(i::text, 5, '0'), 'Bench ' || i || ' Inc.', 'Bench ' || i, 30,
       'USD', CASE WHEN i % 50 = 0 THEN 'on_hold' ELSE 'active' END,
       CASE WHEN i % 3 = 0 THEN 'wholesale' ELSE 'retail' END, 1, now(), now()
FROM generate_series(1, $ACCOUNTS) AS i;
INSERT INTO contacts (account_id, name, email, role, is_primary_billing, email_status,
                      version, created_at, updated_at)
SELECT id, 'Pat Payables', 'ap' || id || '@bench.test', 'ap', true,
       CASE WHEN id % 20 = 0 THEN 'bounced' ELSE 'verified' END, 1, now(), now()
FROM accounts WHERE id % 25 <> 0;
INSERT INTO documents (account_id, kind, number, issue_date, due_date, currency, total_minor,
                       tax_minor, open_minor, disputed_minor, status, created_at, updated_at)
SELECT 1 + (i % $ACCOUNTS), 'invoice', 'BINV-' || i,
       current_date - (((i / $ACCOUNTS) % 120) + 10), current_date + (20 - ((i / $ACCOUNTS) % 120)),
       'USD', 10000 + (i % 5000), 0, 10000 + (i % 5000),
       CASE WHEN i % 97 = 0 THEN 10000 + (i % 5000) WHEN i % 31 = 0 THEN 2500 ELSE 0 END,
       'open', now(), now()
FROM generate_series(1, $INVOICES) AS i;
COMMIT;
ANALYZE;
SQL
    echo "   generated in $(( $(date +%s) - start )) s"
    ;;
  *)
    echo "usage: $0 [sqlite|postgres]" >&2
    exit 2
    ;;
esac

measure() {
  local label="$1"; shift
  echo "== settle remind $* ($label)"
  /usr/bin/time -v "$BIN" remind "$@" >"$WORK/out.txt" 2>"$WORK/time.txt" || {
    cat "$WORK/out.txt" "$WORK/time.txt" >&2
    exit 1
  }
  grep -v '^  ' "$WORK/out.txt"
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$WORK/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$WORK/time.txt" | awk '{print $NF}')
  echo "   RESULT $BACKEND $label: wall ${wall} (h:mm:ss or m:ss), peak RSS $((rss / 1024)) MiB"
}

measure "dry run" --dry-run
measure "first run, catch-up" --now
measure "second run, nothing new" --now
