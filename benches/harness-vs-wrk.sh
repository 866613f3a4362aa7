#!/usr/bin/env bash
# Side-by-side: the harness's requests/s against a trivial endpoint (/healthz)
# next to wrk's, in the same run, server pinned to CPU 0 and the generator to
# CPU 1; then the memory of idle harness users (think time 60 s).
#
#   bash benches/harness-vs-wrk.sh [SECONDS] [ROUNDS]
#
# Prints a markdown table. Not part of CI's tests. Needs: taskset, python3,
# wrk (installed with apt-get when missing and running as root; otherwise
# reported missing in one line).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
ROUNDS=${2:-3}
CONNS=50
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1 || true
  fi
fi
command -v wrk >/dev/null || { echo "wrk: missing (apt-get install wrk); its column is left out" >&2; }

cargo build --release -q -p mock-api -p harness
MOCK=target/release/mock-api
HARNESS=target/release/harness

start_server() {
  taskset -c 0 "$MOCK" --listen 127.0.0.1:0 --database "sqlite://$work/bench.db" --reset >"$work/server.out" 2>"$work/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$work/server.out" 2>/dev/null && break
    sleep 0.1
  done
  BASE=$(sed -n 's/^listening on //p' "$work/server.out")
}

cat >"$work/healthz.toml" <<EOF
name = "healthz"
[requirement]
id = "BENCH"
text = "closed model, $CONNS users, no think time"
[[tasks]]
name = "healthz"
path = "/healthz"
[[stages]]
name = "hold"
users = $CONNS
duration = "${SECS}s"
steady = true
EOF

start_server
echo "server: $BASE (pid $SERVER_PID, CPU 0); generators on CPU 1; $CONNS connections, ${SECS}s each, $ROUNDS rounds interleaved" >&2

declare -a H_RPS W_RPS
for r in $(seq "$ROUNDS"); do
  taskset -c 1 "$HARNESS" run --target "$BASE" --scenario "$work/healthz.toml" --quiet --out "$work/h$r.json" >/dev/null
  H_RPS+=("$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['steady']['rps'])" "$work/h$r.json")")
  if command -v wrk >/dev/null; then
    out=$(taskset -c 1 wrk -t1 -c$CONNS -d${SECS}s "$BASE/healthz")
    W_RPS+=("$(echo "$out" | awk '/Requests\/sec/ {print $2}')")
  fi
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
minmax() { printf '%s\n' "$@" | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s-%s", lo, hi}'; }

echo
echo "| generator | req/s (median) | min-max | runs |"
echo "|---|---|---|---|"
hm=$(median "${H_RPS[@]}")
echo "| harness (closed, $CONNS users) | $hm | $(minmax "${H_RPS[@]}") | ${#H_RPS[@]} |"
if [ ${#W_RPS[@]} -gt 0 ]; then
  wm=$(median "${W_RPS[@]}")
  echo "| wrk -t1 -c$CONNS | $wm | $(minmax "${W_RPS[@]}") | ${#W_RPS[@]} |"
  python3 -c "import sys; print(f'\nharness / wrk = {float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$hm" "$wm"
fi

# Idle users: RSS with N users that each made one request and now think for 60 s.
idle_rss() {
  local users=$1
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
  taskset -c 1 "$HARNESS" run --target "$BASE" --scenario "$work/idle.toml" --quiet --out "$work/idle.json" >/dev/null &
  local pid=$!
  sleep 15
  local kb
  kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$kb"
}
base_kb=$(idle_rss 100)
big_kb=$(idle_rss 10000)
echo
echo "| idle users | harness RSS | per user |"
echo "|---|---|---|"
echo "| 100 | $((base_kb / 1024)) MiB | - |"
python3 -c "import sys; b,k=int(sys.argv[1]),int(sys.argv[2]); print(f'| 10000 | {k//1024} MiB | {(k-b)/9900:.1f} KiB (RSS difference from 100 users / 9900) |')" "$base_kb" "$big_kb"
kill "$SERVER_PID" 2>/dev/null || true
