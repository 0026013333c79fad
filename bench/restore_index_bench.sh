#!/usr/bin/env bash
# Restore of 500 MB (~1 KB docs, one collection with 3 secondary indexes) with and without index
# builds, alternating, 3 runs each; wall, CPU (user+sys) and peak RSS of bsonpipe from /usr/bin/time.
set -euo pipefail
B=${B:-$(cd "$(dirname "$0")/.." && pwd)/build/release}
W=$(mktemp -d /tmp/idxbench.XXXX)
$B/tools/minimongod/minimongod --port 0 --generate bench.logs:500000:1000:1 > $W/mm.out 2> $W/mm.err &
MM=$!
trap 'kill $MM 2>/dev/null; rm -rf $W' EXIT
for i in $(seq 100); do grep -q listening $W/mm.out && break; sleep 0.5; done
PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' $W/mm.out | cut -d: -f2)
URI=mongodb://127.0.0.1:$PORT/
/usr/bin/python3 - "$URI" <<'PY'
import sys, pymongo
c = pymongo.MongoClient(sys.argv[1])
coll = c.bench.logs
coll.create_index("name"); coll.create_index([("age", 1), ("score", -1)]); coll.create_index("createdAt")
print("indexes:", sorted(coll.index_information()))
PY
$B/tools/bsonpipe/bsonpipe dump --uri $URI --db bench --out $W/dump --progress none
for run in 1 2 3; do
  for mode in indexes noindexes; do
    extra=""; [ $mode = noindexes ] && extra="--noIndexRestore"
    /usr/bin/time -f "$mode run $run: wall %e s, cpu %U+%S s, rss %M KB" \
      $B/tools/bsonpipe/bsonpipe restore --uri $URI --nsFrom 'bench.$c$' --nsTo 'bench_r.$c$' --drop \
      --numInsertionWorkersPerCollection 2 -j 2 --progress none $extra $W/dump 2>&1 | grep run
  done
done
