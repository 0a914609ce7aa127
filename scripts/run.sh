#!/usr/bin/env bash
# Sets up what is missing, builds Settle, loads the demo data on SQLite and serves it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh

cargo leptos build --release --split --precompress
export SETTLE_DATA_DIR="${SETTLE_DATA_DIR:-data}"
mkdir -p "$SETTLE_DATA_DIR"
export LEPTOS_SITE_ROOT=target/site
./target/release/settle demo
exec ./target/release/settle serve
