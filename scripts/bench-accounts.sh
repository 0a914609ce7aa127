#!/usr/bin/env bash
# The staff accounts list at 10,000 accounts: requests/s and latency of
# `POST /api/staff/accounts` (a page of 25, server-side search, sort and filters) under
# wrk, against the release build, on SQLite and (with TEST_DATABASE_URL) PostgreSQL.
# The demo's 50 accounts are cloned 200 times with their contacts and addresses in SQL.
# Needs: wrk, sqlite3, psql (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
for tool in wrk sqlite3 curl; do
  command -v "$tool" >/dev/null || { echo "bench: install $tool (apt-get install -y $tool)"; exit 1; }
done
[ -x target/release/settle ] || cargo leptos build --release --split --precompress >/dev/null 2>&1

dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
port=3901
base="http://127.0.0.1:$port"

# Clones every account 199 more times (numbers get a "/n" suffix), with contacts and
# addresses; plain SQL both databases understand.
clone_sql="
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 199)
INSERT INTO accounts (kind, account_number, legal_name, display_name, tin_last4, phone, website,
  payment_terms_days, credit_limit_minor, currency, collector_id, status, segment, verified_at,
  version, created_at, updated_at)
SELECT a.kind, a.account_number || '/' || seq.n, a.legal_name || ' ' || seq.n,
  a.display_name || ' ' || seq.n, a.tin_last4, a.phone, a.website, a.payment_terms_days,
  a.credit_limit_minor, a.currency, a.collector_id, a.status, a.segment, a.verified_at,
  a.version, a.created_at, a.updated_at
FROM accounts a CROSS JOIN seq WHERE a.account_number NOT LIKE '%/%';
INSERT INTO contacts (account_id, name, email, phone, role, is_primary_billing, email_status,
  version, created_at, updated_at)
SELECT na.id, c.name, c.email, c.phone, c.role, c.is_primary_billing, c.email_status, c.version,
  c.created_at, c.updated_at
FROM contacts c JOIN accounts a ON a.id = c.account_id
JOIN accounts na ON na.account_number LIKE a.account_number || '/%';
INSERT INTO addresses (account_id, kind, line1, line2, city, region, postal_code, country,
  version, created_at, updated_at)
SELECT na.id, d.kind, d.line1, d.line2, d.city, d.region, d.postal_code, d.country, d.version,
  d.created_at, d.updated_at
FROM addresses d JOIN accounts a ON a.id = d.account_id
JOIN accounts na ON na.account_number LIKE a.account_number || '/%';
"

run() {
  local label=$1
  export SETTLE_DATA_DIR="$dir/$label" LEPTOS_SITE_ADDR="127.0.0.1:$port" SETTLE_PUBLIC_URL="$base" \
    LEPTOS_SITE_ROOT=target/site RUST_LOG=warn
  mkdir -p "$SETTLE_DATA_DIR"
  ./target/release/settle demo >/dev/null
  if [ "$label" = sqlite ]; then
    sqlite3 "$SETTLE_DATA_DIR/settle.db" "$clone_sql"
    accounts=$(sqlite3 "$SETTLE_DATA_DIR/settle.db" "SELECT count(*) FROM accounts")
  else
    psql -q "$DATABASE_URL" -c "$clone_sql" >/dev/null
    psql -q "$DATABASE_URL" -c "ANALYZE" >/dev/null
    accounts=$(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM accounts")
  fi
  printf 'bench accounts list password\n' | ./target/release/settle staff add --email bench@settle.test \
    --name Bench --role admin --password-stdin >/dev/null
  ./target/release/settle serve >"$SETTLE_DATA_DIR/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "$base/" && break; sleep 0.1; done
  cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/x-www-form-urlencoded' \
    --data 'email=bench%40settle.test&password=bench+accounts+list+password' "$base/api/staff/sign-in" |
    awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2; exit}')
  [ -n "$cookie" ] || { echo "bench: could not sign in"; exit 1; }
  echo
  echo "### $label, $accounts accounts (wrk -t1 -c8 -d10s, POST /api/staff/accounts)"
  echo
  echo "| query | requests/s | p50 | p99 |"
  echo "|---|---|---|---|"
  for body in "page=1" "page=200" "q=harbor" "q=zzz-no-match" "sort=number&page=50" "gap=email" \
    "gap=unverified&sort=updated" "bounced=1"; do
    printf 'wrk.method = "POST"\nwrk.body = "%s"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n' \
      "$body" >"$dir/req.lua"
    out=$(wrk -t1 -c8 -d10s --latency -s "$dir/req.lua" -H "Cookie: $cookie" "$base/api/staff/accounts")
    if echo "$out" | grep -q "Non-2xx"; then echo "bench: $body answered with errors"; echo "$out"; exit 1; fi
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    echo "| \`$body\` | $rps | $p50 | $p99 |"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

DATABASE_URL="sqlite://$dir/sqlite/settle.db?mode=rwc" run sqlite
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  db=settle_bench_accounts
  psql -q "$TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  DATABASE_URL="${TEST_DATABASE_URL%/*}/$db" run postgres
  psql -q "$TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
fi
