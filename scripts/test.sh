#!/usr/bin/env bash
# Sets up what is missing and runs the whole test suite: formatting, lints, the Rust
# tests (on PostgreSQL too when TEST_DATABASE_URL is set), then the browser journeys
# in Chromium against a real server on SQLite (and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (server side, ssr)"
cargo clippy -p app -p server -p migration -p bench --features app/ssr --all-targets -- -D warnings
step "clippy (browser side, hydrate, wasm32)"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "Rust tests${TEST_DATABASE_URL:+ (SQLite and PostgreSQL)}"
cargo test -p app -p server -p migration --features app/ssr

step "build for the browser tests"
cargo leptos build --split

step "schemathesis: the REST API against its OpenAPI document"
./scripts/schemathesis.sh

step "Playwright in Chromium (SQLite)"
(cd end2end && E2E_DATABASE=sqlite npx playwright test)

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  step "Playwright in Chromium (PostgreSQL)"
  (cd end2end && E2E_DATABASE=postgres npx playwright test)
fi
step "all tests passed"
