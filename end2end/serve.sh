#!/usr/bin/env bash
# Started by Playwright: a fresh database with the demo data, then the server.
set -euo pipefail
rm -rf "$SETTLE_DATA_DIR"
mkdir -p "$SETTLE_DATA_DIR"
if [[ "$DATABASE_URL" == postgres* ]]; then
  psql "$TEST_DATABASE_URL" -q -c "DROP DATABASE IF EXISTS settle_e2e WITH (FORCE)" -c "CREATE DATABASE settle_e2e"
fi
../target/debug/settle demo > "$SETTLE_DATA_DIR/demo.txt"
exec ../target/debug/settle serve
