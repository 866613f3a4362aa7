#!/usr/bin/env bash
# A team's Locust history brought into the harness, one command:
#
#   bash benches/locust-history.sh [OUT_DIR]
#
# Runs Locust (headless, --csv) five times against a release mock-api, each
# "build" a little slower (every route's added latency lognormal, its
# median and p99 growing as in the seed document's five-run example), then
# `harness import --from locust` turns the five runs' CSV files into run
# records and `harness analyze` reads them as it reads its own. The output
# of the last two commands is what the README shows.
#
# Locust is installed with pip into a venv at LOCUST_VENV (default
# ~/.cache/mission-lab-locust) when missing. USERS (default 20) and
# SECONDS_PER_RUN (default 15) size each run. Takes about 2 minutes. Not
# part of CI (the import itself is tested on fixtures and generated files).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/locust-history}
USERS=${USERS:-20}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-15}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

VENV=${LOCUST_VENV:-$HOME/.cache/mission-lab-locust}
if [ ! -x "$VENV/bin/locust" ]; then
  echo "installing Locust into $VENV" >&2
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q locust
fi
cargo build --release -q -p mock-api -p harness
HARNESS=$PWD/target/release/harness
rm -rf "$OUT" && mkdir -p "$OUT/csv"

cat >"$work/locustfile.py" <<'PY'
import random

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser


class WatchOfficer(FastHttpUser):
    wait_time = between(0.05, 0.15)

    @task(3)
    def read_mission(self):
        n = random.randint(1, 1000)
        self.client.get(f"/api/missions/MISSION-{n:04d}", name="/api/missions/[id]")

    @task(1)
    def search(self):
        self.client.get("/api/missions?status=active&region=CENTCOM", name="search")
PY

# Each build's added latency on every route: lognormal(median, p99) in ms.
BUILDS=("lognormal(15,40)" "lognormal(15,42)" "lognormal(17,50)" "lognormal(19,60)" "lognormal(23,80)")
for i in "${!BUILDS[@]}"; do
  n=$((i + 1))
  target/release/mock-api --listen 127.0.0.1:0 --database "sqlite://$work/build$n.db" --reset \
    --latency "all=${BUILDS[$i]}" --behaviour-seed "$n" >"$work/mock.out" 2>"$work/mock.err" &
  mock=$!
  for _ in $(seq 200); do grep -q "listening on" "$work/mock.out" 2>/dev/null && break; sleep 0.1; done
  URL=$(sed -n 's/^listening on //p' "$work/mock.out")
  [ -n "$URL" ] || { cat "$work/mock.err" >&2; exit 1; }
  echo "build $n: added latency ${BUILDS[$i]} ms, Locust $USERS users for ${SECONDS_PER_RUN}s" >&2
  "$VENV/bin/locust" -f "$work/locustfile.py" --headless -u "$USERS" -r "$USERS" \
    -t "${SECONDS_PER_RUN}s" --host "$URL" --csv "$OUT/csv/build$n" --only-summary \
    --exit-code-on-error 0 >/dev/null 2>"$work/locust.err" || { tail -5 "$work/locust.err" >&2; exit 1; }
  kill "$mock" && wait "$mock" 2>/dev/null || true
done

echo "\$ harness import --from locust $OUT/csv/build*_stats.csv --label 'build {n}' --out $OUT/records"
"$HARNESS" import --from locust "$OUT"/csv/build*_stats.csv --label 'build {n}' --out "$OUT/records"
echo
echo "\$ harness analyze $OUT/records"
"$HARNESS" analyze "$OUT/records" || true
