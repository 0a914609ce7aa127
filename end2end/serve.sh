#!/usr/bin/env bash
# Started by Playwright: an SMTP sink, a fresh database with the demo data, then the server.
set -euo pipefail
rm -rf "$SETTLE_DATA_DIR"
mkdir -p "$SETTLE_DATA_DIR" "$E2E_MAIL_DIR"
if [[ "$DATABASE_URL" == postgres* ]]; then
  psql "$TEST_DATABASE_URL" -q -c "DROP DATABASE IF EXISTS $E2E_DB_NAME WITH (FORCE)" -c "CREATE DATABASE $E2E_DB_NAME"
fi
python3 ../server/tests/smtp_sink.py "$E2E_SMTP_PORT" "$E2E_MAIL_DIR" &
sink=$!
trap 'kill $sink 2>/dev/null || true' EXIT
../target/debug/settle demo > "$SETTLE_DATA_DIR/demo.txt"
../target/debug/settle serve
