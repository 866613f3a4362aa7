#!/usr/bin/env bash
# The live dashboard in a real browser: a run of the built-in scenario
# with --metrics-listen, and two screenshots of http://IP:PORT/ in
# headless Chromium a few seconds apart, with the network shut off but
# for loopback. Fails unless both exist and differ (the charts moved).
#
#   bash scripts/dashboard-screenshot.sh [OUT_DIR]   (default docs/images)
#
# About 20 s after the release build; the run is stopped after the second shot. Installs Debian's chromium when missing and running as root.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/images}
mkdir -p "$out"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 || true
  fi
fi
command -v chromium >/dev/null || { echo "chromium: missing (apt-get install chromium)" >&2; exit 2; }

cargo build --release -q -p harness -p mock-api
target/release/mock-api --listen 127.0.0.1:0 --database "sqlite://$work/db.sqlite" \
  --latency 'get_mission=lognormal(3,60)' >"$work/mock.log" 2>&1 &
for _ in $(seq 50); do grep -q '^listening on' "$work/mock.log" && break; sleep 0.2; done
api=$(sed -n 's/^listening on //p' "$work/mock.log" | head -1)
target/release/harness run --target "$api" --duration-scale 0.04 --quiet \
  --metrics-listen 127.0.0.1:0 --out "$work/run.json" >"$work/summary.txt" 2>"$work/harness.log" &
for _ in $(seq 50); do grep -q '^metrics listening on' "$work/harness.log" && break; sleep 0.2; done
live=$(sed -n 's/^metrics listening on //p' "$work/harness.log" | head -1)
echo "target $api, dashboard $live"

shot() {
  # --virtual-time-budget lets the page's first poll and drawing finish;
  # --proxy-server to a closed port refuses anything not on loopback.
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --proxy-server="127.0.0.1:9" --proxy-bypass-list="127.0.0.1" \
    --user-data-dir="$work/profile-$1" --window-size=1000,1000 --hide-scrollbars \
    --virtual-time-budget=3000 --screenshot="$(realpath -m "$out/dashboard-$1.png")" "$live/" >/dev/null 2>&1
}
sleep 8
shot 1
sleep 6
shot 2
test -s "$out/dashboard-1.png" && test -s "$out/dashboard-2.png"
if cmp -s "$out/dashboard-1.png" "$out/dashboard-2.png"; then
  echo "the two screenshots are the same: the dashboard did not move" >&2
  exit 1
fi
echo "screenshots: $out/dashboard-1.png, $out/dashboard-2.png (they differ)"
