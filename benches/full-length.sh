#!/usr/bin/env bash
# The built-in REQ-PERF-401 scenario at full length (40 minutes), one
# command:
#
#   bash benches/full-length.sh [OUT_DIR]
#
# Builds release binaries, starts mock-api (fresh database, 1000 missions,
# seed 42) on CPU 0 and `harness run` (the built-in scenario, no
# --duration-scale) on CPU 1, and samples the resident set (VmRSS) of both
# processes every minute into OUT_DIR/rss.csv. At the end it prints the
# harness's summary and verdict, and the RSS over the sustained stage:
# first and last sample after a 5-minute warm-up, and the growth in %.
# Leaves the record, its HTML report and the samples in OUT_DIR (default
# results/full-length). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/full-length}
SAMPLE_S=${SAMPLE_S:-60}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
have() { command -v "$1" >/dev/null 2>&1; }
# Pinned by taskset, which execs the command: `$!` is then the process
# itself (a shell function run with & would be a subshell, and its RSS).
cpu0=() cpu1=()
if have taskset; then cpu0=(taskset -c 0) cpu1=(taskset -c 1); fi
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

cargo build --release -q -p mock-api -p harness
mkdir -p "$OUT"
"${cpu0[@]}" target/release/mock-api --listen 127.0.0.1:0 --database "sqlite://$work/target.db" \
  --reset >"$work/mock.out" 2>"$work/mock.err" &
mock=$!
for _ in $(seq 200); do grep -q "listening on" "$work/mock.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$work/mock.out")
[ -n "$URL" ] || { cat "$work/mock.err" >&2; exit 1; }
echo "mock-api at $URL (CPU 0), harness on CPU 1; 40 minutes" >&2

"${cpu1[@]}" target/release/harness run --target "$URL" --out "$OUT/record.json" --report \
  --label full-length >"$OUT/summary.txt" 2>"$OUT/progress.txt" &
harness=$!
start=$(date +%s)
echo "minute,mock_api_rss_kib,harness_rss_kib" >"$OUT/rss.csv"
while kill -0 "$harness" 2>/dev/null; do
  sleep "$SAMPLE_S"
  kill -0 "$harness" 2>/dev/null || break
  minute=$(( ($(date +%s) - start) / 60 ))
  echo "$minute,$(rss_kib "$mock"),$(rss_kib "$harness")" >>"$OUT/rss.csv"
done
rc=0
wait "$harness" || rc=$?

cat "$OUT/summary.txt"
echo
echo "RSS each minute: $OUT/rss.csv"
# Sustained: minutes 5-35 of the run; warm-up: its first 5 minutes.
awk -F, 'NR > 1 && $1 >= 10 && $1 <= 35 {
    if (!seen) { m0 = $2; h0 = $3; seen = 1 }
    m1 = $2; h1 = $3
  }
  END {
    if (!seen) { print "no samples in the sustained stage"; exit }
    printf "sustained stage after warm-up (minutes 10-35): mock-api %d -> %d KiB (%+.1f%%), harness %d -> %d KiB (%+.1f%%)\n",
      m0, m1, (m1 - m0) * 100 / m0, h0, h1, (h1 - h0) * 100 / h0
  }' "$OUT/rss.csv"
echo "harness exit code: $rc"
