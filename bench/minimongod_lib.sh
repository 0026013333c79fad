# Sourced by the bench scripts: start_minimongod MINIMONGOD MB WORKDIR starts a private minimongod
# on a free port with one collection bench.logs of ~1 KB documents (MB megabytes of raw BSON) and
# waits until it listens. Sets MMPID, PORT, URI and COUNT; the caller kills MMPID when done.
start_minimongod() {
  local mm=$1 mb=$2 dir=$3
  COUNT=$((mb * 1000000 / 1024))
  "$mm" --port 0 --generate "bench.logs:$COUNT:1024:1" >"$dir/mm.log" 2>&1 &
  MMPID=$!
  for _ in $(seq 600); do grep -q "listening" "$dir/mm.log" 2>/dev/null && break; sleep 0.5; done
  PORT=$(grep -o 'listening on [^ ]*' "$dir/mm.log" | grep -o '[0-9]*$' | head -1)
  [ -n "$PORT" ] || { echo "minimongod did not start: $(tail -1 "$dir/mm.log")" >&2; return 1; }
  URI="mongodb://127.0.0.1:$PORT/"
}
