#!/usr/bin/env bash
# How often the regression story tells its own story: N stories per cause
# (default 20), each with its own seed (FIRST, default 1001, then 1002,
# ...), counting those that exit 0: the injected cause named first with a
# regression verdict, or, for the control (none), a stable verdict. Prints
# a markdown table (the figures of the README's) with the seeds that did
# not.
#
#   bash benches/regression-rate.sh [N]
#   EXTRA="--runs 6 --duration-scale 0.5" bash benches/regression-rate.sh 20   # the tests' stories
#   CAUSES="none" bash benches/regression-rate.sh 40
#   CAUSES="none" FIRST=1012 bash benches/regression-rate.sh 9   # seeds 1012-1020
#
# Defaults: every cause and the control, the story's default builds. Each
# story takes what `harness demo --regression` takes (66-69 s at the
# defaults on 2 cores): 20 stories of 6 causes is about 2.2 hours. Give it
# the machine: a second story beside it is noise in every build. Not part
# of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
CAUSES=${CAUSES:-"n-plus-one missing-index memory-leak slow-dependency data-growth none"}
EXTRA=${EXTRA:-}
FIRST=${FIRST:-1001}
cargo build --release -q -p harness
HARNESS=$PWD/target/release/harness
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "stories: $N per cause; settings: defaults ${EXTRA:+plus $EXTRA}; $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)" >&2
echo "| cause | told its story | seeds that did not | seconds per story (median) |"
echo "|---|---|---|---|"
for cause in $CAUSES; do
  ok=0
  missed=()
  times=()
  for i in $(seq 1 "$N"); do
    seed=$((FIRST + i - 1))
    start=$(date +%s%N)
    # shellcheck disable=SC2086
    if "$HARNESS" demo --regression "$cause" --seed "$seed" --quiet --out "$work/$cause-$seed" $EXTRA \
      >"$work/$cause-$seed.out" 2>&1; then
      ok=$((ok + 1))
    else
      missed+=("$seed")
      tail -3 "$work/$cause-$seed.out" | sed "s/^/  $cause $seed: /" >&2
    fi
    times+=("$((($(date +%s%N) - start) / 1000000000))")
    rm -rf "$work/$cause-$seed"
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '| %s | %d of %d | %s | %d |\n' "$cause" "$ok" "$N" "${missed[*]:-none}" "$median"
done
