#!/usr/bin/env bash
# What `dump --gzip` costs against the compressor alone, on the same bytes, in one run.
#
#   bench/gzip_floor.sh BSONPIPE MINIMONGOD [MB] [RUNS]
#
# One private minimongod with one collection of ~1 KB documents (MB megabytes, default 400).
# The collection is dumped plain once; then, alternating, RUNS times each:
#   floor  `libdeflate-gzip -6 -c logs.bson` (Debian's libdeflate-tools: the compressor alone,
#          one thread, one call over the whole file, statically linked like our binary's)
#   zlib   `gzip -6 -c logs.bson` (zlib's level 6, for scale)
#   dump   `bsonpipe dump --gzip` of the same collection (default flags)
# and, when Go is installed (Debian's golang-go), once:
#   go     bench/gogzip: Go's compress/gzip at its default level, the writer mongodump 100.x
#          uses for `--gzip` (mongodump/mongodump.go: gzip.NewWriter)
# Every output is checked to inflate to the plain dump. It prints CPU (user+sys) medians in s/GB
# (GB = 10^9 raw bytes) and each output's size.
set -euo pipefail
BIN=$1 MM=$2 MB=${3:-400} RUNS=${4:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/gzip_floor.XXXXXX)
trap 'kill $MMPID 2>/dev/null || true; rm -rf "$W"' EXIT
MMPID=
# shellcheck source=bench/minimongod_lib.sh
. "$HERE/minimongod_lib.sh"
start_minimongod "$MM" "$MB" "$W"
"$BIN" dump --uri "$URI" --out "$W/plain" --quiet
RAW="$W/plain/bench/logs.bson"
BYTES=$(stat -c %s "$RAW")
echo "minimongod port $PORT; $BYTES raw bytes; load $(cut -d' ' -f1-3 /proc/loadavg)"

timed() {  # LABEL STDOUT-FILE OUTPUT-FILE COMMAND...: records CPU and OUTPUT-FILE's size
  local label=$1 out=$2 result=$3
  shift 3
  /usr/bin/time -f "%U %S" -o "$W/t" "$@" >"$out" 2>"$W/err" || { cat "$W/err" >&2; return 1; }
  read -r u s <"$W/t"
  echo "$label $(echo "$u + $s" | bc) $(stat -c %s "$result")" | tee -a "$W/results"
}

for _ in $(seq "$RUNS"); do
  timed floor "$W/ld.gz" "$W/ld.gz" libdeflate-gzip -6 -c "$RAW"
  timed zlib "$W/z.gz" "$W/z.gz" gzip -6 -c "$RAW"
  rm -rf "$W/out"
  timed dump /dev/null "$W/out/bench/logs.bson.gz" "$BIN" dump --uri "$URI" --db bench --gzip --out "$W/out" --quiet
done
# Every compressor was given the same bytes: each output inflates to the plain dump.
for gz in "$W/ld.gz" "$W/z.gz" "$W/out/bench/logs.bson.gz"; do
  zcat "$gz" | cmp -s - "$RAW" || { echo "$gz does not inflate to $RAW" >&2; exit 1; }
done
if command -v go >/dev/null; then
  (cd "$HERE/gogzip" && go build -o "$W/gogzip" .)
  timed go "$W/go.gz" "$W/go.gz" "$W/gogzip" -1 "$RAW"
  zcat "$W/go.gz" | cmp -s - "$RAW" || { echo "$W/go.gz does not inflate to $RAW" >&2; exit 1; }
fi
python3 - "$W/results" "$BYTES" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    l, c, size = line.split()
    rows[l].append((float(c), int(size)))
gb = int(sys.argv[2]) / 1e9
for l, v in rows.items():
    c = statistics.median(x[0] for x in v)
    print("%-6s cpu median %6.2f s  %6.2f s/GB  runs %s  output %d bytes" %
          (l, c, c / gb, " ".join("%.2f" % x[0] for x in v), v[-1][1]))
PY
