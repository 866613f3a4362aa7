#!/usr/bin/env bash
# What TLS and HTTP/2 cost a generator, side by side, one command:
#
#   bash benches/tls-cost.sh [SECONDS] [ROUNDS]
#
# Two release mock-api on CPU 0 (one plain, one `--tls`), each generator on
# CPU 1, 50 connections (HTTP/2: 50 users over one connection, up to 100
# streams; oha: 50 connections of one stream), no think time, GEN_PATH
# (default /healthz), SECONDS (8) each, ROUNDS (3) interleaved. Prints the
# median (min-max) of req/s and of the generator's CPU per request (user +
# sys from /usr/bin/time, µs), for: the harness over plain HTTP/1.1,
# HTTPS HTTP/1.1 and HTTPS HTTP/2; oha over the same three; wrk plain and
# HTTPS (it has no HTTP/2). Every connection is kept alive: the handshake
# is paid once per connection, so this measures TLS's cost per request
# (encryption), not per handshake. Tools are installed when missing (wrk
# with apt-get, oha with cargo install) or said missing. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
SECS=${1:-8}
ROUNDS=${2:-3}
CONNS=50
GEN_PATH=${GEN_PATH:-/healthz}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
say() { echo "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
if ! have wrk && [ "$(id -u)" = 0 ]; then (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1 || true; fi
have wrk || say "wrk: missing (apt-get install wrk)"
OHA=$(command -v oha || echo "$HOME/.cargo/bin/oha")
if [ ! -x "$OHA" ]; then cargo install --quiet --locked oha >/dev/null 2>&1 || true; fi
[ -x "$OHA" ] || { say "oha: missing (cargo install oha)"; OHA=""; }
cargo build --release -q -p mock-api -p harness
HARNESS=target/release/harness

# serve NAME FLAGS...: a mock-api on CPU 0; sets URL.
serve() {
  local name=$1; shift
  $(pin 0) target/release/mock-api --listen 127.0.0.1:0 --database "sqlite://$work/$name.db" --reset "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  for _ in $(seq 200); do grep -q "listening on" "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
  URL=$(sed -n 's/^listening on //p' "$work/$name.out")
  [ -n "$URL" ] || { cat "$work/$name.err" >&2; exit 1; }
}
serve plain
PLAIN=$URL
serve tls --tls
TLS=$URL
CERT="$work/tls.db.cert.pem"
say "plain $PLAIN, TLS $TLS (CPU 0); generators on CPU 1; $CONNS connections, ${SECS}s each, $ROUNDS rounds"

cpu_of() { awk '/^CPU / {print $2 + $3}' "$1"; }
timed() { /usr/bin/time -f "CPU %U %S" -o "$work/t" $(pin 1) "$@"; }
results="$work/results.tsv"   # label \t rps \t cpu_us_per_request
: >"$results"

harness_run() { # LABEL URL FLAGS...
  local label=$1 url=$2; shift 2
  timed "$HARNESS" run --target "$url" --path "$GEN_PATH" --users $CONNS --duration "${SECS}s" \
    --quiet --no-server-stats --out "$work/h.json" "$@" >/dev/null
  python3 - "$work/h.json" "$(cpu_of "$work/t")" "$label" >>"$results" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["steady"]
assert s["errors"] == 0, s
print(f"{sys.argv[3]}\t{s['rps']}\t{float(sys.argv[2]) / s['requests'] * 1e6:.2f}")
EOF
}
oha_run() { # LABEL URL FLAGS...
  local label=$1 url=$2; shift 2
  timed "$OHA" -c $CONNS -z "${SECS}s" --no-tui --output-format json "$@" "$url$GEN_PATH" >"$work/o.json"
  python3 - "$work/o.json" "$(cpu_of "$work/t")" "$label" >>"$results" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
n = sum(o.get("statusCodeDistribution", {}).values())
print(f"{sys.argv[3]}\t{o['summary']['requestsPerSec']:.1f}\t{float(sys.argv[2]) / max(n, 1) * 1e6:.2f}")
EOF
}
wrk_run() { # LABEL URL
  timed wrk -t1 -c$CONNS -d"${SECS}s" "$2$GEN_PATH" >"$work/w.txt"
  python3 - "$work/w.txt" "$(cpu_of "$work/t")" "$1" >>"$results" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
n = int(re.search(r"(\d+) requests in", t).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
print(f"{sys.argv[3]}\t{rps}\t{float(sys.argv[2]) / n * 1e6:.2f}")
EOF
}

for r in $(seq "$ROUNDS"); do
  say "round $r"
  harness_run "harness, plain HTTP/1.1" "$PLAIN"
  harness_run "harness, HTTPS HTTP/1.1" "$TLS" --ca-cert "$CERT"
  harness_run "harness, HTTPS HTTP/2" "$TLS" --ca-cert "$CERT" --http2
  if [ -n "$OHA" ]; then
    oha_run "oha, plain HTTP/1.1" "$PLAIN"
    oha_run "oha, HTTPS HTTP/1.1" "$TLS" --cacert "$CERT"
    oha_run "oha, HTTPS HTTP/2" "$TLS" --cacert "$CERT" --http2
  fi
  if have wrk; then
    wrk_run "wrk, plain HTTP/1.1" "$PLAIN"
    wrk_run "wrk, HTTPS HTTP/1.1" "$TLS"
  fi
done

python3 - "$results" "$SECS" "$ROUNDS" "$GEN_PATH" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, rps, cpu = line.rstrip("\n").split("\t")
    rows.setdefault(label, []).append((float(rps), float(cpu)))
def cell(xs, fmt):
    return f"{fmt.format(statistics.median(xs))} ({fmt.format(min(xs))}-{fmt.format(max(xs))})"
print(f"\n`{sys.argv[4]}`, 50 connections, {sys.argv[2]} s x {sys.argv[3]} rounds, median (min-max):\n")
print("| generator, protocol | req/s | CPU µs per request |")
print("|---|---|---|")
for label, v in rows.items():
    print(f"| {label} | {cell([x[0] for x in v], '{:.0f}')} | {cell([x[1] for x in v], '{:.1f}')} |")
EOF
