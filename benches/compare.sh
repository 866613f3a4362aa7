#!/usr/bin/env bash
# Side-by-side load comparison, one command:
#
#   bash benches/compare.sh [SECONDS] [ROUNDS]
#
# A release mock-api pinned to CPU 0, each generator pinned to CPU 1, 50
# connections, no think time, SECONDS (10) each, ROUNDS (3) interleaved
# (A B C D A B C D ...). Prints markdown tables of medians with min-max:
#  1. generators on /healthz (or GEN_PATH, e.g. /api/missions/MISSION-0001):
#     harness (closed, 50 users), wrk, oha, Locust
#     FastHttpUser (headless, one process): req/s, p50/p99 as each reports
#     it, and the generator's CPU time per 1,000 requests;
#  2. mock-api routes under wrk: /healthz, mission read, search, waypoint
#     update, as req/s and as a ratio to /healthz;
#  3. harness RSS with idle users (think time 60 s), per user;
#  4. (section "open", not in the default) the open model at a fixed rate
#     (OPEN_RATE arrivals/s, default 5000) on GEN_PATH: the harness's open
#     stage against `oha -q` with its latency correction, CPU per request
#     and percentiles.
#  5. (section "bodies", not in the default) the harness's peak RSS against
#     a fast large-body server (benches/fast-body-server.c, built with
#     gcc): one user reading 128 MiB answers, and BODY_USERS (500) users
#     reading 1 MiB answers at once.
# The harness runs with each engine: "harness" is the native HTTP/1.1
# engine (the default), "harness-hyper" the same binary with --engine
# hyper (in the generators, open, idle and bodies sections);
# "harness-metrics" (generators only, not in the default TOOLS) the native
# engine with --metrics-listen, its /metrics scraped every second.
# Tools it needs are installed when missing (wrk and python3-venv with
# apt-get, oha with cargo install, locust with pip into a venv), or reported
# missing in one line; a missing tool's rows say so. Not part of CI.
#
# To measure a part only: SECTIONS (default "generators routes idle") and
# TOOLS (default "harness wrk oha locust") and ROUTES (default "healthz
# mission-read search waypoint-update"; keep healthz for the ratios), e.g.
#   SECTIONS=generators TOOLS="harness wrk" bash benches/compare.sh 10 3
#
# Before and after a change, in the same run: BASELINE=DIR names another
# checkout of this repository (e.g. `git worktree add ../base HEAD~3`); its
# release harness and mock-api are built and measured beside this tree's,
# interleaved: "harness (baseline)" among the generators (against this
# tree's server) and each route under wrk against the baseline's server.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
ROUNDS=${2:-3}
CONNS=50
SECTIONS=${SECTIONS:-generators routes idle}
GEN_PATH=${GEN_PATH:-/healthz}
OPEN_RATE=${OPEN_RATE:-5000}
TOOLS=${TOOLS:-harness harness-hyper wrk oha locust}
ROUTES=${ROUTES:-healthz mission-read search waypoint-update}
section() { [[ " $SECTIONS " == *" $1 "* ]]; }
tool() { [[ " $TOOLS " == *" $1 "* ]]; }
# Whether TOOLS asks for the harness with engine $1 (harness: native; harness-hyper: hyper).
engine_wanted() { if [ "$1" = native ]; then tool harness; else tool harness-hyper; fi; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

say() { echo "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
if ! have wrk && [ "$(id -u)" = 0 ]; then (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1 || true; fi
have wrk || say "wrk: missing (apt-get install wrk)"
OHA=$(command -v oha || echo "$HOME/.cargo/bin/oha")
if [ ! -x "$OHA" ]; then cargo install --quiet --locked oha >/dev/null 2>&1 || true; fi
[ -x "$OHA" ] || { say "oha: missing (cargo install oha)"; OHA=""; }
VENV=${LOCUST_VENV:-$HOME/.cache/mission-lab-locust}
if [ ! -x "$VENV/bin/locust" ]; then
  python3 -m venv "$VENV" >/dev/null 2>&1 && "$VENV/bin/pip" install -q locust >/dev/null 2>&1 || true
fi
LOCUST=""
[ -x "$VENV/bin/locust" ] && LOCUST="$VENV/bin/locust" || say "locust: missing (pip install locust)"

cargo build --release -q -p mock-api -p harness
MOCK=target/release/mock-api
HARNESS=target/release/harness

# Starts a mock-api binary on CPU 0 over a fresh database in the
# background; waits for it and sets URL to its address.
start_server() {
  local bin=$1 name=$2
  taskset -c 0 "$bin" --listen 127.0.0.1:0 --database "sqlite://$work/$name.db" --reset >"$work/$name.out" 2>"$work/$name.err" &
  for _ in $(seq 200); do grep -q "listening on" "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
  URL=$(sed -n 's/^listening on //p' "$work/$name.out")
}
start_server "$MOCK" server
BASE=$URL
BASELINE_URL=""
if [ -n "${BASELINE:-}" ]; then
  (cd "$BASELINE" && cargo build --release -q -p mock-api -p harness)
  BASELINE_HARNESS="$BASELINE/target/release/harness"
  start_server "$BASELINE/target/release/mock-api" baseline
  BASELINE_URL=$URL
  say "baseline: $BASELINE (its server: $BASELINE_URL, also on CPU 0)"
fi
say "server: $BASE (CPU 0); generators on CPU 1; $CONNS connections, ${SECS}s each, $ROUNDS rounds interleaved"

# CPU seconds (user+sys) a command used, from /usr/bin/time -f.
cpu_of() { awk '/^CPU / {print $2 + $3}' "$1"; }

cat >"$work/healthz.toml" <<EOF
name = "healthz"
[requirement]
id = "BENCH"
text = "closed model, $CONNS users, no think time"
[[tasks]]
name = "healthz"
path = "$GEN_PATH"
[[stages]]
name = "hold"
users = $CONNS
duration = "${SECS}s"
steady = true
EOF
sed -e "s/^users = $CONNS\$/rate = $OPEN_RATE/" -e "s/closed model, $CONNS users/open model, $OPEN_RATE arrivals per second/" "$work/healthz.toml" >"$work/open.toml"

cat >"$work/locustfile.py" <<EOF
from locust import task
from locust.contrib.fasthttp import FastHttpUser

class Health(FastHttpUser):
    @task
    def healthz(self):
        self.client.get("$GEN_PATH")
EOF

results="$work/results.tsv"   # tool \t rps \t p50_ms \t p99_ms \t cpu_s_per_1000
: >"$results"
for r in $(seq "$ROUNDS"); do
  section generators || break
  if tool harness || tool harness-hyper; then
    runs=()
    tool harness && runs+=("harness|$HARNESS||")
    tool harness-hyper && runs+=("harness --engine hyper|$HARNESS|hyper|")
    tool harness-metrics && runs+=("harness --metrics-listen (scraped 1/s)|$HARNESS||metrics")
    for h in "${runs[@]}" ${BASELINE_URL:+"harness (baseline)|$BASELINE_HARNESS||"}; do
      IFS='|' read -r label bin engine metrics <<<"$h"
      if [ -n "$metrics" ]; then
        # The live exposition on, and scraped every second as Prometheus would.
        /usr/bin/time -f "CPU %U %S" -o "$work/t" taskset -c 1 "$bin" run --target "$BASE" --scenario "$work/healthz.toml" --quiet --no-server-stats --out "$work/h.json" --metrics-listen 127.0.0.1:0 >/dev/null 2>"$work/m.err" &
        gen=$!
        for _ in $(seq 50); do grep -q '^metrics listening on' "$work/m.err" && break; sleep 0.1; done
        live=$(sed -n 's/^metrics listening on //p' "$work/m.err")
        while kill -0 $gen 2>/dev/null; do taskset -c 0 curl -s -o /dev/null "$live/metrics" || true; sleep 1; done
        wait $gen
      else
        /usr/bin/time -f "CPU %U %S" -o "$work/t" taskset -c 1 "$bin" run --target "$BASE" --scenario "$work/healthz.toml" --quiet --no-server-stats --out "$work/h.json" ${engine:+--engine "$engine"} >/dev/null
      fi
      python3 - "$work/h.json" "$(cpu_of "$work/t")" "$label" >>"$results" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); s = r["steady"]
print(f"{sys.argv[3]}\t{s['rps']}\t{s['p50_ms']}\t{s['p99_ms']}\t{float(sys.argv[2]) / s['requests'] * 1000:.4f}")
EOF
    done
  fi
  if tool wrk && have wrk; then
    /usr/bin/time -f "CPU %U %S" -o "$work/t" taskset -c 1 wrk -t1 -c$CONNS -d${SECS}s --latency "$BASE$GEN_PATH" >"$work/w.txt"
    python3 - "$work/w.txt" "$(cpu_of "$work/t")" >>"$results" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def ms(v, u): return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
n = int(re.search(r"(\d+) requests in", t).group(1))
p50 = ms(*re.search(r"50%\s+([\d.]+)(us|ms|s)", t).groups())
p99 = ms(*re.search(r"99%\s+([\d.]+)(us|ms|s)", t).groups())
print(f"wrk\t{rps}\t{p50}\t{p99}\t{float(sys.argv[2]) / n * 1000:.4f}")
EOF
  fi
  if tool oha && [ -n "$OHA" ]; then
    /usr/bin/time -f "CPU %U %S" -o "$work/t" taskset -c 1 "$OHA" -c $CONNS -z ${SECS}s --no-tui --output-format json "$BASE$GEN_PATH" >"$work/o.json"
    python3 - "$work/o.json" "$(cpu_of "$work/t")" >>"$results" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1])); s = o["summary"]; p = o["latencyPercentiles"]
n = sum(o.get("statusCodeDistribution", {}).values())
print(f"oha\t{s['requestsPerSec']}\t{p['p50'] * 1000}\t{p['p99'] * 1000}\t{float(sys.argv[2]) / max(n, 1) * 1000:.4f}")
EOF
  fi
  if tool locust && [ -n "$LOCUST" ]; then
    /usr/bin/time -f "CPU %U %S" -o "$work/t" taskset -c 1 "$LOCUST" -f "$work/locustfile.py" --headless -u $CONNS -r $CONNS -t ${SECS}s \
      --host "$BASE" --csv "$work/l" --only-summary >/dev/null 2>&1 || true
    python3 - "$work/l_stats.csv" "$(cpu_of "$work/t")" >>"$results" <<'EOF'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["Name"] == "Aggregated"]
r = rows[0]; n = int(r["Request Count"])
print(f"locust FastHttpUser\t{r['Requests/s']}\t{r['50%']}\t{r['99%']}\t{float(sys.argv[2]) / max(n, 1) * 1000:.4f}")
EOF
  fi
done

section generators && python3 - "$results" "$GEN_PATH" <<'EOF'
import sys, statistics as st
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
by = {}
for tool, rps, p50, p99, cpu in rows:
    by.setdefault(tool, []).append((float(rps), float(p50), float(p99), float(cpu)))
wrk = st.median(r[0] for r in by["wrk"]) if "wrk" in by else None
print(f"\n| generator on {sys.argv[2]} | req/s median (min-max) | vs wrk | p50 ms | p99 ms | CPU s per 1,000 req | runs |")
print("|---|---|---|---|---|---|---|")
for tool, v in by.items():
    rps = [x[0] for x in v]
    ratio = f"{st.median(rps) / wrk:.2f}" if wrk else "-"
    print(f"| {tool} | {st.median(rps):,.0f} ({min(rps):,.0f}-{max(rps):,.0f}) | {ratio} | {st.median(x[1] for x in v):.3f} | {st.median(x[2] for x in v):.3f} | {st.median(x[3] for x in v):.4f} | {len(v)} |")
EOF

if section open; then
  : >"$work/open.tsv"   # tool \t p50_ms \t p99_ms \t cpu_s_per_1000 \t requests
  for r in $(seq "$ROUNDS"); do
    for engine in native hyper; do
      engine_wanted $engine || continue
      /usr/bin/time -f "CPU %U %S" -o "$work/t" taskset -c 1 "$HARNESS" run --target "$BASE" --scenario "$work/open.toml" --quiet --no-server-stats --out "$work/ho.json" --engine $engine >/dev/null
      python3 - "$work/ho.json" "$(cpu_of "$work/t")" "$engine" >>"$work/open.tsv" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["steady"]
print(f"harness --engine {sys.argv[3]} (open stage)\t{s['p50_ms']}\t{s['p99_ms']}\t{float(sys.argv[2]) / s['requests'] * 1000:.4f}\t{s['requests']}")
EOF
    done
    if [ -n "$OHA" ]; then
      /usr/bin/time -f "CPU %U %S" -o "$work/t" taskset -c 1 "$OHA" -q "$OPEN_RATE" --latency-correction -c $CONNS -z ${SECS}s --no-tui --output-format json "$BASE$GEN_PATH" >"$work/oo.json"
      python3 - "$work/oo.json" "$(cpu_of "$work/t")" >>"$work/open.tsv" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1])); p = o["latencyPercentiles"]
n = sum(o.get("statusCodeDistribution", {}).values())
print(f"oha -q --latency-correction\t{p['p50'] * 1000}\t{p['p99'] * 1000}\t{float(sys.argv[2]) / max(n, 1) * 1000:.4f}\t{n}")
EOF
    fi
  done
  python3 - "$work/open.tsv" "$OPEN_RATE" "$GEN_PATH" <<'EOF'
import sys, statistics as st
by = {}
for l in open(sys.argv[1]):
    tool, p50, p99, cpu, n = l.rstrip("\n").split("\t")
    by.setdefault(tool, []).append((float(p50), float(p99), float(cpu), int(n)))
print(f"\n| open model, {sys.argv[2]}/s on {sys.argv[3]} | requests | p50 ms | p99 ms | CPU s per 1,000 req median (min-max) | runs |")
print("|---|---|---|---|---|---|")
for tool, v in by.items():
    cpu = [x[2] for x in v]
    print(f"| {tool} | {st.median(x[3] for x in v):,.0f} | {st.median(x[0] for x in v):.3f} | {st.median(x[1] for x in v):.3f} | {st.median(cpu):.4f} ({min(cpu):.4f}-{max(cpu):.4f}) | {len(v)} |")
EOF
fi

if section routes && have wrk; then
  cat >"$work/put.lua" <<'EOF'
wrk.method = "PUT"
wrk.body = '{"lat": 38.8977, "lon": -77.0365}'
wrk.headers["Content-Type"] = "application/json"
EOF
  : >"$work/routes.tsv"
  for r in $(seq "$ROUNDS"); do
    for route in "healthz|/healthz|" "mission read|/api/missions/MISSION-0001|" "search|/api/missions?status=active&region=CENTCOM|" "waypoint update|/api/missions/MISSION-0002/waypoints/wp-001|$work/put.lua"; do
      IFS='|' read -r name path script <<<"$route"
      [[ " $ROUTES " == *" ${name// /-} "* ]] || continue
      args=(-t1 -c$CONNS -d${SECS}s)
      [ -n "$script" ] && args+=(-s "$script")
      for server in "|$BASE" ${BASELINE_URL:+" (baseline)|$BASELINE_URL"}; do
        IFS='|' read -r which url <<<"$server"
        rps=$(taskset -c 1 wrk "${args[@]}" "$url$path" | awk '/Requests\/sec/ {print $2}')
        printf '%s%s\t%s\n' "$name" "$which" "$rps" >>"$work/routes.tsv"
      done
    done
  done
  python3 - "$work/routes.tsv" <<'EOF'
import sys, statistics as st
by = {}
for l in open(sys.argv[1]):
    name, rps = l.rstrip("\n").split("\t"); by.setdefault(name, []).append(float(rps))
def healthz(name):
    return st.median(by["healthz (baseline)" if name.endswith("(baseline)") else "healthz"])
print("\n| mock-api route under wrk | req/s median (min-max) | ratio to /healthz |")
print("|---|---|---|")
for name, v in by.items():
    print(f"| {name} | {st.median(v):,.0f} ({min(v):,.0f}-{max(v):,.0f}) | {st.median(v) / healthz(name):.2f} |")
EOF
fi

idle_rss() {
  local users=$1 engine=$2
  cat >"$work/idle.toml" <<EOF
name = "idle"
[requirement]
id = "BENCH"
text = "idle users"
[think_time]
kind = "constant"
value = "60s"
[[tasks]]
name = "healthz"
path = "/healthz"
[[stages]]
name = "ramp"
users = $users
duration = "5s"
[[stages]]
name = "idle"
users = $users
duration = "20s"
steady = true
EOF
  taskset -c 1 "$HARNESS" run --target "$BASE" --scenario "$work/idle.toml" --quiet --no-server-stats --out "$work/idle.json" --engine "$engine" >/dev/null &
  local pid=$!
  sleep 15
  awk '/VmRSS/ {print $2}' "/proc/$pid/status"
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
if section bodies; then
  gcc -O2 -pthread -o "$work/fast-body-server" benches/fast-body-server.c
  body_rss() { # SIZE USERS SECONDS ENGINE: peak RSS (KiB) and answers
    "$work/fast-body-server" "$1" >"$work/fast.port" &
    local server=$!
    for _ in $(seq 50); do [ -s "$work/fast.port" ] && break; sleep 0.1; done
    /usr/bin/time -f "RSS %M" -o "$work/t" taskset -c 1 "$HARNESS" run --target "http://127.0.0.1:$(cat "$work/fast.port")" \
      --path /big --users "$2" --duration "${3}s" --quiet --no-server-stats --engine "$4" --out "$work/b.json" >/dev/null
    kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true
    : >"$work/fast.port"
    echo "$(awk '/^RSS / {print $2}' "$work/t") $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['steady']['requests'])" "$work/b.json")"
  }
  echo
  echo "| harness peak RSS, fast large-body server | engine | peak RSS median (min-max) | answers read (last round) | aim |"
  echo "|---|---|---|---|---|"
  users=${BODY_USERS:-500}
  for load in "1 user, 128 MiB answers|134217728|1|6|24 MiB" "$users users, 1 MiB answers|1048576|$users|6|$(( 64 + users / 16 )) MiB"; do
    IFS='|' read -r what size n secs aim <<<"$load"
    for engine in native hyper; do
      engine_wanted $engine || continue
      : >"$work/rss"
      for r in $(seq "$ROUNDS"); do body_rss "$size" "$n" "$secs" "$engine" >>"$work/rss"; done
      python3 - "$work/rss" "$what" "$engine" "$aim" <<'EOF'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
rss = [int(r[0]) / 1024 for r in rows]
print(f"| {sys.argv[2]} | {sys.argv[3]} | {st.median(rss):.1f} MiB ({min(rss):.1f}-{max(rss):.1f}) | {rows[-1][1]} | under {sys.argv[4]} |")
EOF
    done
  done
fi

section idle || exit 0
fds=$(ulimit -n)
# The most idle users this process's descriptor limit allows, in thousands.
most=$(( (fds - 1000) / 1000 * 1000 ))
echo
echo "| idle users (think time 60 s) | engine | harness RSS | per user (difference from 100 users) | projected for 100,000 |"
echo "|---|---|---|---|---|"
for engine in native hyper; do
  engine_wanted $engine || continue
  base_kb=$(idle_rss 100 $engine)
  echo "| 100 | $engine | $((base_kb / 1024)) MiB | - | - |"
  for n in ${IDLE_USERS:-10000 $most}; do
    # Each idle user holds a connection: the client and the server each need a descriptor.
    if [ "$fds" != unlimited ] && [ $((n + 200)) -gt "$fds" ]; then
      echo "| $n | $engine | not measured: needs $((n + 200)) file descriptors per process, the limit here is $fds | - | - |"
      continue
    fi
    kb=$(idle_rss "$n" $engine)
    python3 -c "import sys; b,k,n,e=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3]),sys.argv[4]; per=(k-b)/(n-100); print(f'| {n} | {e} | {k//1024} MiB | {per:.1f} KiB | {(b + per*99900)/1024/1024:.2f} GiB |')" "$base_kb" "$kb" "$n" "$engine"
  done
done
kill $(jobs -p) 2>/dev/null || true
