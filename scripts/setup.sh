#!/usr/bin/env bash
# Installs what Settle's build and tests need and is not there yet. Idempotent: every
# step checks first and is skipped when its tool is already present.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos 0.3.11 needs rustc 1.96; 0.3.10 works with 1.95.
if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "0.3.10" ]; then
  say "installing cargo-leptos 0.3.10 (about 12 minutes the first time)"
  cargo install cargo-leptos --version 0.3.10 --locked
fi

# cargo-leptos would download wasm-bindgen from GitHub; give it the exact version in Cargo.lock.
wbg_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbg_version" ]; then
  say "installing wasm-bindgen-cli $wbg_version"
  # Without --locked: the crate's own lock file names a yanked dependency.
  cargo install wasm-bindgen-cli --version "$wbg_version"
fi

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
command -v psql >/dev/null || missing+=(postgresql-client)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from Debian"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}"
fi

# Playwright and binaryen's wasm-opt (used by release builds) come from npm.
if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  say "installing the end-to-end test packages (npm ci)"
  (cd end2end && npm ci --no-audit --no-fund)
fi

# The mail tests run a real SMTP server (server/tests/smtp_sink.py) on aiosmtpd from PyPI.
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  say "installing aiosmtpd (the SMTP server of the mail tests)"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-pip
  fi
  # Debian's own Python refuses plain pip installs (PEP 668); then the second form.
  python3 -m pip install --quiet aiosmtpd ||
    python3 -m pip install --quiet --break-system-packages aiosmtpd
fi

# scripts/schemathesis.sh fuzzes the REST API with schemathesis from PyPI.
if ! command -v schemathesis >/dev/null 2>&1; then
  say "installing schemathesis (fuzzes the REST API against its OpenAPI document)"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-pip
  fi
  python3 -m pip install --quiet schemathesis ||
    python3 -m pip install --quiet --break-system-packages schemathesis
fi
