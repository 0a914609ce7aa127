#!/usr/bin/env bash
# The baseline figures in the README's Performance section: release wasm size (raw and
# brotli) and the portal overview's requests/s under wrk, against the release build on
# a fresh SQLite database with the demo data. Needs: wrk, brotli (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
for tool in wrk brotli curl; do
  command -v "$tool" >/dev/null || { echo "bench: install $tool (apt-get install -y $tool)"; exit 1; }
done

cargo leptos build --release --split --precompress >/dev/null 2>&1

wasm=target/site/pkg/settle.wasm
js=target/site/pkg/settle.js
css=target/site/pkg/settle.css
size() { stat -c %s "$1"; }
br() { brotli -c -q 11 "$1" | wc -c; }
echo "| asset | raw | brotli -q 11 |"
echo "|---|---|---|"
for f in "$wasm" "$js" "$css"; do echo "| $(basename "$f") | $(size "$f") B | $(br "$f") B |"; done

dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
export SETTLE_DATA_DIR="$dir" DATABASE_URL="sqlite://$dir/settle.db?mode=rwc" LEPTOS_SITE_ADDR=127.0.0.1:3900 \
  SETTLE_PUBLIC_URL=http://127.0.0.1:3900 LEPTOS_SITE_ROOT=target/site RUST_LOG=warn
./target/release/settle demo >/dev/null
./target/release/settle serve >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:3900/ && break; sleep 0.1; done

link=$(./target/release/settle link --email ap@acme-hardware.test)
token=${link##*/}
cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/x-www-form-urlencoded' \
  --data "token=$token" http://127.0.0.1:3900/api/links/open | awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2; exit}')
[ -n "$cookie" ] || { echo "bench: could not sign in"; exit 1; }

echo
for path in /portal /api/portal/overview; do
  method=GET; [ "$path" = /api/portal/overview ] && method=POST
  echo "wrk -t2 -c32 -d10s ($method $path, Accept-Encoding: br):"
  script="$dir/req.lua"
  printf 'wrk.method = "%s"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n' "$method" >"$script"
  wrk -t2 -c32 -d10s --latency -s "$script" -H "Cookie: $cookie" -H "Accept-Encoding: br" "http://127.0.0.1:3900$path" \
    | grep -E "Requests/sec|Latency  |50%|99%|Non-2xx"
done
