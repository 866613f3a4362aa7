# Shared by the scripts in benches/: sourced (`. benches/lib.sh`), not run.

# A command pinned to CPU $1 when taskset is here (taskset execs it: a
# background job's pid is the command's own, so an exit trap stops it).
pin() { if command -v taskset >/dev/null 2>&1; then echo taskset -c "$1"; fi; }

# start_target WORK TOKEN [FLAGS...]: a release mock-api (cargo build
# --release first) on CPU 0, port 0, a fresh database in WORK (1000
# missions, seed 42), its admin token TOKEN, and FLAGS (--tls: its
# certificate is WORK/target.db.cert.pem); sets URL from its first line,
# or fails with its errors.
start_target() {
  local dir=$1 token=$2
  shift 2
  $(pin 0) target/release/mock-api --listen 127.0.0.1:0 --database "sqlite://$dir/target.db" \
    --reset --admin-token "$token" "$@" >"$dir/mock.out" 2>"$dir/mock.err" &
  for _ in $(seq 200); do grep -q "listening on" "$dir/mock.out" 2>/dev/null && break; sleep 0.1; done
  URL=$(sed -n 's/^listening on //p' "$dir/mock.out")
  [ -n "$URL" ] || { cat "$dir/mock.err" >&2; return 1; }
}
