#!/usr/bin/env bash
# What keeping every request costs k6's own figures: the `fixed` trial
# scored with k6's per-request CSV (harness score's default k6 command) and
# with its summary only (--summary-export), in interleaved rounds, side by
# side on one release mock-api pinned to CPU 0, k6 on CPU 1.
#
#   bash benches/k6-output-cost.sh [ROUNDS]     (default 3; about 70 s a round)
#
# Needs k6 on PATH or in ~/.cache/mission-lab-tools/bin (benches/score-tools.sh
# installs it). Prints each round's signed error (tool minus server, ms) at
# p50, p90, p99 and max, then the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
TOKEN=k6-cost
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
K6=$(command -v k6 || echo "$HOME/.cache/mission-lab-tools/bin/k6")
[ -x "$K6" ] || { echo "k6 not found: run benches/score-tools.sh first (it installs k6)" >&2; exit 1; }
mkdir -p "$work/bin" && ln -s "$K6" "$work/bin/k6"
. benches/lib.sh
cargo build --release -q -p mock-api -p harness
start_target "$work" "$TOKEN"
summary=(-- "$work/bin/k6" run --quiet --summary-export '{out}' -e 'URL={url}{path}'
  -e 'VUS={connections}' -e 'DURATION={duration}' '{k6script}')
for r in $(seq "$ROUNDS"); do
  for kind in csv summary; do
    extra=()
    [ "$kind" = summary ] && extra=("${summary[@]}")
    $(pin 1) target/release/harness score --tool k6 --trial fixed --tools-dir "$work/bin" \
      --target "$URL" --admin-token "$TOKEN" --out "$work/$kind-$r.json" "${extra[@]}" >/dev/null || true
  done
done
python3 - "$work" "$ROUNDS" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
figs = ["p50", "p90", "p99", "max"]
print("| k6 output | round | " + " | ".join(f"{f} error ms" for f in figs) + " |")
print("|---|---|" + "---|" * len(figs))
med = {}
for kind in ["csv", "summary"]:
    for r in range(1, rounds + 1):
        c = json.load(open(f"{work}/{kind}-{r}.json"))
        err = {p["name"]: p["error_ms"] for p in c["percentiles"]}
        for f in figs:
            med.setdefault((kind, f), []).append(err[f])
        print(f"| {kind} | {r} | " + " | ".join(f"{err[f]:+.1f}" for f in figs) + " |")
for kind in ["csv", "summary"]:
    print(f"| {kind} | median | " + " | ".join(f"{statistics.median(med[(kind, f)]):+.1f}" for f in figs) + " |")
PY
