#!/usr/bin/env bash
# Runs one scenario as N shards on plain machines, then merges and judges.
#
#   bash scripts/run-sharded.sh N [--via 'ssh HOST']... [--out DIR] [--start-in SECONDS] -- HARNESS-RUN-ARGS...
#
# Each shard is `harness run HARNESS-RUN-ARGS --shard I/N --start-at T`
# (T: now plus --start-in, default 5 s, so all start together). Without
# --via, shards run here; with --via, shard I runs through the I-th prefix
# (round-robin), e.g. --via 'ssh gen1' --via 'ssh gen2', which must find
# `harness` on its PATH (or set HARNESS). Their records are collected into
# DIR (default results/sharded-<UTC stamp>), merged into DIR/merged.json,
# and judged: the exit code is the judge's (0 every SLO held, 1 not, 2 a
# shard or the merge failed).
set -euo pipefail

usage() { echo "usage: run-sharded.sh N [--via 'ssh HOST']... [--out DIR] [--start-in SECONDS] -- HARNESS-RUN-ARGS..." >&2; exit 2; }

[[ $# -ge 1 && $1 =~ ^[1-9][0-9]*$ ]] || usage
n=$1; shift
vias=()
out="results/sharded-$(date -u +%Y%m%dT%H%M%SZ)"
start_in=5
while [[ $# -gt 0 && $1 != -- ]]; do
  case $1 in
    --via) [[ $# -ge 2 ]] || usage; vias+=("$2"); shift 2 ;;
    --out) [[ $# -ge 2 ]] || usage; out=$2; shift 2 ;;
    --start-in) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || usage; start_in=$2; shift 2 ;;
    *) echo "run-sharded.sh: unknown option $1" >&2; usage ;;
  esac
done
[[ ${1:-} == -- ]] || usage
shift
harness=${HARNESS:-harness}
start=$(date -u -d "+${start_in} seconds" +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$out"

pids=()
for i in $(seq 1 "$n"); do
  record="$out/shard-$i.json"
  if [[ ${#vias[@]} -eq 0 ]]; then
    "$harness" run "$@" --shard "$i/$n" --start-at "$start" --quiet --out "$record" > "$out/shard-$i.log" 2>&1 &
  else
    via=${vias[$(( (i - 1) % ${#vias[@]} ))]}
    remote="/tmp/harness-shard-$i-$$.json"
    # The remote runs the shard, then prints its record; the record comes back on stdout.
    $via "$harness run $(printf '%q ' "$@") --shard $i/$n --start-at $start --quiet --out $remote > /dev/null; rc=\$?; cat $remote; rm -f $remote; exit \$rc" > "$record" 2> "$out/shard-$i.log" &
  fi
  pids+=($!)
done

failed=0
for i in $(seq 1 "$n"); do
  rc=0
  wait "${pids[$((i - 1))]}" || rc=$?
  # 1 is an SLO that failed in this shard: its record is still good.
  if [[ $rc -ne 0 && $rc -ne 1 ]]; then
    echo "run-sharded.sh: shard $i/$n failed (exit $rc); see $out/shard-$i.log" >&2
    failed=1
  fi
done
[[ $failed -eq 0 ]] || exit 2

"$harness" merge "$out"/shard-*.json -o "$out/merged.json" || exit 2
"$harness" judge "$out/merged.json"
