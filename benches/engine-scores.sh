#!/usr/bin/env bash
# The harness's own accuracy with each HTTP/1.1 engine, one command:
#
#   bash benches/engine-scores.sh [ROUNDS]
#
# Scores the harness (`harness score --tool harness`, each trial's own
# in-process target) on the `fixed`, `tail` and `stall` trials with
# `--engine native` and `--engine hyper`, ROUNDS (3) rounds interleaved
# (native fixed, hyper fixed, native tail, ...). Prints a markdown table:
# per trial and engine, the median over rounds of the tool's p50 and p99
# errors against the trial's reference (the server's own figures, or the
# users' expected ones for the stall), and how many rounds passed. About
# 25 s per score. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p harness
H=$PWD/target/release/harness
: >"$work/rows.tsv"
for r in $(seq "$ROUNDS"); do
  for trial in fixed tail stall; do
    for engine in native hyper; do
      load=(--users {connections})
      [ "$trial" = stall ] && load=(--rate {rate})
      card="$work/$trial-$engine-$r.json"
      "$H" score --tool harness --trial "$trial" -o "$card" -- \
        "$H" run --target {url} --path {path} --duration {duration} --quiet --no-server-stats \
        --out {out} "${load[@]}" --engine "$engine" >/dev/null 2>&1 || true
      python3 - "$card" "$trial" "$engine" >>"$work/rows.tsv" <<'EOF'
import json, sys
try:
    c = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print(f"{sys.argv[2]}\t{sys.argv[3]}\tnan\tnan\tnan\tnan\tmissing")
    sys.exit()
p = {x["name"]: x for x in c["percentiles"]}
ref = lambda x: x["expected_ms"] if x.get("expected_ms") is not None else x["server_ms"]
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{p['p50']['tool_ms']}\t{ref(p['p50'])}\t{p['p99']['tool_ms']}\t{ref(p['p99'])}\t{c['verdict']}")
EOF
    done
  done
done
python3 - "$work/rows.tsv" <<'EOF'
import sys, statistics as st
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
by = {}
for trial, engine, p50, r50, p99, r99, verdict in rows:
    by.setdefault((trial, engine), []).append((float(p50), float(r50), float(p99), float(r99), verdict))
print("| trial | engine | p50 tool / reference ms (median) | p50 error ms median (min-max) | p99 tool / reference ms (median) | p99 error ms median (min-max) | passed |")
print("|---|---|---|---|---|---|---|")
for (trial, engine), v in by.items():
    e50 = [x[0] - x[1] for x in v]
    e99 = [x[2] - x[3] for x in v]
    passed = sum(x[4] == "pass" for x in v)
    print(f"| {trial} | {engine} | {st.median(x[0] for x in v):.2f} / {st.median(x[1] for x in v):.2f} | {st.median(e50):+.2f} ({min(e50):+.2f} to {max(e50):+.2f}) "
          f"| {st.median(x[2] for x in v):.2f} / {st.median(x[3] for x in v):.2f} | {st.median(e99):+.2f} ({min(e99):+.2f} to {max(e99):+.2f}) | {passed} of {len(v)} |")
EOF
