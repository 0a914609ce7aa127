#!/usr/bin/env bash
# Fuzzes the REST API with schemathesis (PyPI) against its own OpenAPI document: starts
# `settle` on a fresh SQLite database with the demo data, creates a read-write API key, and
# checks that no request gets a server error and every response matches the document.
# Exits non-zero on any failure. Bounded to a couple of minutes.
#
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 15)
#
# Requests are paced under the API's limit of 600 a minute per key, so the server answers
# them rather than 429. One worker: CPython 3.11's ast module is not thread-safe under
# hypothesis (SystemError "AST constructor recursion depth mismatch").
#   SCHEMATHESIS_PORT          where the server listens (default: a free port)
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/debug/settle
if [[ ! -x "$bin" ]]; then
  cargo build -p server --bin settle
fi
if ! command -v schemathesis >/dev/null 2>&1; then
  echo "schemathesis is not installed; run scripts/setup.sh" >&2
  exit 1
fi

port="${SCHEMATHESIS_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
dir="$(mktemp -d -t settle-schemathesis-XXXXXX)"
server=""
cleanup() {
  if [[ -n "$server" ]]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

export SETTLE_DATA_DIR="$dir"
export DATABASE_URL="sqlite://$dir/settle.db?mode=rwc"
export LEPTOS_SITE_ADDR="127.0.0.1:$port"
export LEPTOS_SITE_ROOT="$PWD/target/site"
export SETTLE_PUBLIC_URL="http://127.0.0.1:$port"
export SETTLE_SECRET_KEY="5e771e5e771e5e771e5e771e5e771e5e771e5e771e5e771e5e771e5e771e0000"
export SETTLE_REMIND_EVERY_MINUTES=0
export RUST_LOG="${RUST_LOG:-warn}"
# No SETTLE_SMTP_URL: mail is written to files under the data directory.
unset SETTLE_SMTP_URL

"$bin" demo > "$dir/demo.txt"
key="$("$bin" api-key create --name schemathesis --scope read-write 2>/dev/null | tail -n 1)"
if [[ "$key" != settle_* ]]; then
  echo "could not create an API key" >&2
  exit 1
fi

"$bin" serve > "$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  if curl -fs -o /dev/null "http://127.0.0.1:$port/api/v1/openapi.json"; then
    break
  fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "settle serve exited:" >&2
    cat "$dir/server.log" >&2
    exit 1
  fi
  sleep 0.2
done

status=0
schemathesis run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-15}" \
  --rate-limit 540/m \
  --workers 1 \
  --seed 8 \
  --warnings off \
  --report-dir "$dir/report" || status=$?

if [[ $status -ne 0 ]]; then
  echo "--- settle serve log (last 60 lines)" >&2
  tail -n 60 "$dir/server.log" >&2
fi
exit $status
