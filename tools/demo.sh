#!/usr/bin/env bash
# The demo (README command 1): start minimongod with generated data, dump it with bsonpipe,
# restore the dump into a second, empty minimongod, and verify both the dump and the restored
# copy against the source with an independent reader (Debian's pymongo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target bsonpipe minimongod

BIN=build/release/tools
WORK=$(mktemp -d /tmp/bsonpipe-demo.XXXXXX)
# Servers are started inside $(...) (a subshell), so their pids go to a file, not a variable.
cleanup() {
  if [ -f "$WORK/pids" ]; then while read -r p; do kill "$p" 2>/dev/null || true; done <"$WORK/pids"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {  # start_server NAME FLAGS... ; prints the port
  local log="$WORK/$1.log"; shift
  "$BIN/minimongod/minimongod" --port 0 "$@" >"$log" 2>&1 &
  echo $! >>"$WORK/pids"
  for _ in $(seq 600); do
    if grep -q "listening on" "$log"; then sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -1; return; fi
    sleep 0.1
  done
  echo "minimongod did not start: $(cat "$log")" >&2; exit 1
}

echo "== starting the source minimongod with generated data (~300 MB)"
SRC=$(start_server source --generate demo.events:250000:1024:1 --generate demo.users:20000:400:2 \
                          --generate shop.orders:60000:700:3 --generate shop.items:2000:300:4)
echo "   source on 127.0.0.1:$SRC"

echo "== bsonpipe dump --gzip (4 range readers per large collection)"
"$BIN/bsonpipe/bsonpipe" dump --uri "mongodb://127.0.0.1:$SRC/" --out "$WORK/dump" --gzip --readers 4 --progress plain
ls -l "$WORK/dump" "$WORK/dump/demo"

echo "== bsonpipe verify: manifest sizes and XXH3-128, every document, metadata, and counts and content hashes against the source"
"$BIN/bsonpipe/bsonpipe" verify "$WORK/dump" --against "mongodb://127.0.0.1:$SRC/"

echo "== verifying the dump against the source (pymongo/bson, independent of bsonpipe)"
/usr/bin/python3 tools/demo/verify.py "mongodb://127.0.0.1:$SRC/" "$WORK/dump"

if "$BIN/bsonpipe/bsonpipe" restore --help >/dev/null 2>&1; then
  echo "== bsonpipe restore into an empty minimongod"
  DST=$(start_server target)
  "$BIN/bsonpipe/bsonpipe" restore --uri "mongodb://127.0.0.1:$DST/" "$WORK/dump" --progress plain
  echo "== verifying the restored copy against the source"
  /usr/bin/python3 tools/demo/verify.py "mongodb://127.0.0.1:$SRC/" "mongodb://127.0.0.1:$DST/"
else
  echo "== bsonpipe restore is not built yet: the demo stops after verifying the dump"
fi
echo "== demo finished"
