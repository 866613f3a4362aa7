#!/usr/bin/env bash
# The seed document's search at scale, side by side, one command:
#
#   bash benches/search-at-scale.sh [MISSIONS] [SECONDS] [ROUNDS]
#
# Seeds MISSIONS (1,000,000) missions into a SQLite file (kept in
# $SCALE_DB, default /tmp/mission-lab-scale-MISSIONS.db, and reused when
# it is there), serves it with a release mock-api pinned to CPU 0, and
# loads it with wrk pinned to CPU 1 (50 connections, SECONDS (10) each,
# ROUNDS (3) interleaved): /healthz, then GET
# /api/missions?status=active&region=CENTCOM with each way of counting its
# matches (count=bounded, the default; count=exact; count=none). Prints a
# markdown table of req/s medians (min-max) and ratios to /healthz, and
# what each answer says of its total. Not part of CI (about 2 GB of disk
# and a minute of seeding at 1,000,000).
set -euo pipefail
cd "$(dirname "$0")/.."
MISSIONS=${1:-1000000}
SECS=${2:-10}
ROUNDS=${3:-3}
DB=${SCALE_DB:-/tmp/mission-lab-scale-$MISSIONS.db}
command -v wrk >/dev/null || { echo "search-at-scale.sh: wrk is missing (apt-get install wrk)" >&2; exit 2; }
cargo build --release -q -p mock-api -p seed-data
if [ ! -s "$DB" ]; then
  echo "seeding $MISSIONS missions into $DB" >&2
  target/release/seed-data --missions "$MISSIONS" --database "sqlite://$DB" >&2
fi
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
taskset -c 0 target/release/mock-api --listen 127.0.0.1:0 --database "sqlite://$DB" \
  --missions "$MISSIONS" >"$work/server.log" 2>&1 &
for _ in $(seq 1 600); do
  URL=$(grep -ao 'listening on http://[0-9.:]*' "$work/server.log" | head -1 | cut -d' ' -f3 || true)
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || { echo "mock-api did not start: $(cat "$work/server.log")" >&2; exit 1; }
SEARCH="/api/missions?status=active&region=CENTCOM"
declare -A PATHS=(
  [healthz]="/healthz"
  [bounded]="$SEARCH"
  [exact]="$SEARCH&count=exact"
  [none]="$SEARCH&count=none"
)
ORDER="healthz bounded exact none"
for r in $(seq 1 "$ROUNDS"); do
  for k in $ORDER; do
    rps=$(taskset -c 1 wrk -t1 -c50 -d"${SECS}s" "$URL${PATHS[$k]}" | awk '/Requests\/sec/ {print $2}')
    echo "$rps" >>"$work/$k"
    echo "round $r: $k $rps req/s" >&2
  done
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
range() { sort -n "$1" | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.0f-%.0f", lo, hi}'; }
health=$(median "$work/healthz")
echo
echo "| $MISSIONS missions, under wrk | req/s median (min-max) | ratio to /healthz | total in the answer |"
echo "|---|---|---|---|"
for k in $ORDER; do
  m=$(median "$work/$k")
  says=""
  if [ "$k" != healthz ]; then
    says=$(curl -s "$URL${PATHS[$k]}&limit=1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("total %s, total_exact %s" % (json.dumps(d["total"]), json.dumps(d["total_exact"])))')
  fi
  printf "| %s | %.0f (%s) | %.2f | %s |\n" "${PATHS[$k]}" "$m" "$(range "$work/$k")" "$(echo "$m / $health" | bc -l)" "$says"
done
