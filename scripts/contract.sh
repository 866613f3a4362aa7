#!/usr/bin/env bash
# The API contract, checked from outside: starts a fresh mock-api (port 0,
# a new SQLite file) and runs Schemathesis against its /openapi.json over
# every phase (examples, coverage, fuzzing, stateful) with every check and
# the fixed seed of mock-api/contract/schemathesis.toml. Exits with
# Schemathesis's status: 0 only when no check failed. With --tls, the
# mock-api serves HTTPS (`--tls`, HTTP/1.1 and HTTP/2 by ALPN) and
# Schemathesis trusts the certificate it wrote beside its database.
#
#   bash scripts/contract.sh            # st from $ST, or PATH
#   bash scripts/contract.sh --tls
#   ST=/path/to/venv/bin/st bash scripts/contract.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ST="${ST:-st}"
tls=()
if [ "${1:-}" = "--tls" ]; then tls=(--tls); fi
command -v "$ST" >/dev/null || { echo "contract.sh: schemathesis (st) not found; set ST" >&2; exit 2; }

cargo build -q -p mock-api
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

RUST_LOG=warn ./target/debug/mock-api --listen 127.0.0.1:0 --database "sqlite://$work/contract.db" \
  "${tls[@]}" >"$work/out" 2>"$work/err" &
server_pid=$!
base=""
for _ in $(seq 1 200); do
  base="$(sed -n 's/^listening on //p' "$work/out" | head -1)"
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/err" >&2; echo "contract.sh: mock-api did not start" >&2; exit 2; }
  sleep 0.1
done
[ -n "$base" ] || { echo "contract.sh: mock-api printed no address in 20 s" >&2; exit 2; }
echo "contract: mock-api at $base"

verify=()
if [ ${#tls[@]} -gt 0 ]; then verify=(--tls-verify "$work/contract.db.cert.pem"); fi
"$ST" --config-file mock-api/contract/schemathesis.toml run "$base/openapi.json" "${verify[@]}" \
  --phases examples,coverage,fuzzing,stateful --checks all \
  --max-examples 300 --generation-database none \
  --workers 1 --request-timeout 10 --no-color
