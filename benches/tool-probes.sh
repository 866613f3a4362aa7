#!/usr/bin/env bash
# The direct measurements TRUTH.md quotes beside the scorecards, against a
# release mock-api (CPU 0) with the tool on CPU 1:
#   1. autocannon --overallRate 200 on the stall behaviour: latency samples
#      against answers, with and without --ignoreCoordinatedOmission;
#   2. JMeter 2.13 on harness score's own plan for the fixed trial, 10
#      threads, 15 s, twice: when its five slowest samples started, and its
#      max after the first 2 s;
#   3. Artillery on fixed(50), 100 users/s for 30 s, twice: p99 and max of
#      each 10 s period of its report.
#
#   bash benches/tool-probes.sh        (about 3 minutes)
#
# Uses the tools benches/score-tools.sh installs (run it first): npm tools
# in ~/.cache/mission-lab-tools/npm, JMeter through benches/jmeter/Permit.java.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${TOOLS_CACHE:-$HOME/.cache/mission-lab-tools}
NPM="$CACHE/npm/node_modules/.bin"
TOKEN=probes
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
. benches/lib.sh
cargo build --release -q -p mock-api -p harness
start_target "$work" "$TOKEN"
behave() {
  curl -sf -X PUT -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "$1" "$URL/__admin/behaviour" -o /dev/null
}

echo "== 1. autocannon -c 50 -d 12s --overallRate 200 on a stall of 1 s every 10 s"
behave '{"seed":1,"stall":{"every":"10s","for":"1s","phase":"0s"}}'
for flag in "" --ignoreCoordinatedOmission; do
  # shellcheck disable=SC2086
  $(pin 1) "$NPM/autocannon" -c 50 -d 12s --overallRate 200 $flag --json \
    "$URL/api/missions/MISSION-0001" 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)
answers = sum(v['count'] for v in d['statusCodeStats'].values())
print(f'  {sys.argv[1] or \"(default)\"}: {d[\"latency\"][\"totalCount\"]} latency samples for {answers} answers')" "$flag"
done

echo "== 2. JMeter: harness score's own plan (trial fixed: fixed(50)), 10 threads, 15 s"
if [ -f /usr/share/jmeter/lib/ext/ApacheJMeter_http.jar ] && command -v javac >/dev/null; then
  JM=/usr/share/jmeter
  CP="$JM/bin/ApacheJMeter.jar:$(ls "$JM"/lib/*.jar "$JM"/lib/ext/*.jar | tr '\n' ':')"
  javac -d "$work" -cp "$CP" benches/jmeter/Permit.java
  printf '#!/bin/sh\nexec java -Djmeter.home=%s -cp "%s:%s" Permit "$@"\n' "$JM" "$work" "$CP" >"$work/jmeter"
  chmod +x "$work/jmeter"
  for r in 1 2; do
    # The score writes its plan to {jmeterplan}; the command keeps the JTL.
    $(pin 1) target/release/harness score --tool jmeter --trial fixed --duration 15s \
      --connections 10 --target "$URL" --admin-token "$TOKEN" --out "$work/card.json" -- \
      sh -c "$work/jmeter -n -t {jmeterplan} -l {out} -Jjmeterengine.nongui.port=0 \
        -Jjmeter.save.saveservice.print_field_names=true >/dev/null 2>&1; cp {out} $work/j.jtl" \
      >/dev/null || true
    python3 - "$work/j.jtl" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
t0 = min(int(r["timeStamp"]) for r in rows)
slow = sorted(rows, key=lambda r: -int(r["elapsed"]))[:5]
late = max(int(r["elapsed"]) for r in rows if int(r["timeStamp"]) - t0 > 2000)
print(f"  {len(rows)} samples; five slowest (ms @ s from start):",
      ", ".join(f'{r["elapsed"]} @ {(int(r["timeStamp"]) - t0) / 1000:.1f}' for r in slow),
      f"; max after the first 2 s: {late} ms")
PY
  done
else
  echo "  JMeter not installed (benches/score-tools.sh installs it): skipped"
fi

echo "== 3. Artillery: 100 users/s for 30 s on fixed(50), each 10 s period"
behave '{"seed":1,"latency":{"get_mission":"fixed(50)"}}'
printf 'config:\n  target: "%s"\n  phases:\n    - duration: 30\n      arrivalRate: 100\nscenarios:\n  - flow:\n      - get:\n          url: "/api/missions/MISSION-0001"\n' \
  "$URL" >"$work/a.yml"
for r in 1 2; do
  rm -f "$work/a.json"
  ARTILLERY_DISABLE_TELEMETRY=true $(pin 1) "$NPM/artillery" run --quiet --output "$work/a.json" "$work/a.yml" >/dev/null 2>&1
  python3 - "$work/a.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
a = d["aggregate"]; t0 = a["firstMetricAt"]; s = a["summaries"]["http.response_time"]
print(f"  run: p99 {s['p99']} ms, max {s['max']} ms; per period (start s: count, p99, max):",
      "; ".join(f'{(int(i["firstMetricAt"]) - t0) / 1000:.1f}: {i["summaries"]["http.response_time"]["count"]}, '
                f'{i["summaries"]["http.response_time"]["p99"]}, {i["summaries"]["http.response_time"]["max"]}'
                for i in d["intermediate"] if "http.response_time" in i["summaries"]))
PY
done
