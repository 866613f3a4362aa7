#!/usr/bin/env bash
# Renders an HTML report in headless Chromium and takes a screenshot, with
# the network shut off (nothing in the report may be fetched).
#
#   bash scripts/report-screenshot.sh [REPORT.html] [OUT.png]
#
# Without a report, makes one: a short demo run (about 12 s). Installs
# Debian's chromium when missing and running as root.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
report=${1:-}
out=${2:-report.png}

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 || true
  fi
fi
command -v chromium >/dev/null || { echo "chromium: missing (apt-get install chromium)" >&2; exit 2; }

if [ -z "$report" ]; then
  cargo build --release -q -p harness
  target/release/harness demo --duration-scale 0.005 --quiet --out "$work/demo.json" >/dev/null
  report="$work/demo.html"
fi

# --proxy-server to a closed port: any fetch the page tried would fail.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --proxy-server="127.0.0.1:9" --user-data-dir="$work/profile" \
  --window-size=1100,4200 --hide-scrollbars \
  --screenshot="$(realpath -m "$out")" "file://$(realpath "$report")" >/dev/null 2>&1
test -s "$out"
echo "screenshot: $out ($(stat -c %s "$out") bytes) of $report"
rm -rf "$work"
