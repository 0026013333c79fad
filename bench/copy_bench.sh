#!/bin/sh
# bench/copy_bench.sh: `bsonpipe copy` between two minimongod processes against dump alone (to a
# directory, no compression) and restore alone (of that dump) of the same data. Runs the three
# alternately (dump, restore, copy, dump, restore, copy, ...) so that load from other processes
# on the machine hits them alike; prints each run, then the median MB/s of each and whether copy
# is within 15% of the slower of dump and restore.
#
#   bench/copy_bench.sh [-b BUILD_DIR] [-m MB] [-d DOC_BYTES] [-r RUNS] [-p PARALLEL] [-w WORKDIR]
#
# Defaults: build/release, 500 MB of ~1000-byte documents in one collection, 3 runs,
# parallelism 4 (dump --readers 4 -j 4; restore --numInsertionWorkersPerCollection 4 -j 4; copy
# both). MB = 10^6 bytes of raw BSON, measured as the size of the dumped .bson file. Each run
# also shows the CPU seconds of the bsonpipe process and of both servers: on a small machine
# copy runs the source, the target and both halves of the pipeline at once, so CPU, not the
# pipeline, can be its limit.
set -eu

BUILD=build/release
MB=500
DOC=1000
RUNS=3
PAR=4
WORK=
while getopts b:m:d:r:p:w: opt; do
  case $opt in
    b) BUILD=$OPTARG ;;
    m) MB=$OPTARG ;;
    d) DOC=$OPTARG ;;
    r) RUNS=$OPTARG ;;
    p) PAR=$OPTARG ;;
    w) WORK=$OPTARG ;;
    *) echo "usage: $0 [-b BUILD_DIR] [-m MB] [-d DOC_BYTES] [-r RUNS] [-p PARALLEL] [-w WORKDIR]" >&2; exit 2 ;;
  esac
done
BSONPIPE=$BUILD/tools/bsonpipe/bsonpipe
MINIMONGOD=$BUILD/tools/minimongod/minimongod
for p in "$BSONPIPE" "$MINIMONGOD"; do
  [ -x "$p" ] || { echo "copy_bench: $p not found (build it: cmake --build $BUILD --target bsonpipe minimongod)" >&2; exit 1; }
done
OWN_WORK=
[ -n "$WORK" ] || { WORK=$(mktemp -d /tmp/copy-bench.XXXXXX); OWN_WORK=1; }
mkdir -p "$WORK"
COUNT=$((MB * 1000000 / DOC))

SRC_PID=
DST_PID=
cleanup() {
  [ -z "$SRC_PID" ] || kill "$SRC_PID" 2>/dev/null || true
  [ -z "$DST_PID" ] || kill "$DST_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK/dump" "$WORK/src.log" "$WORK/dst.log" "$WORK/run.log" "$WORK/time.txt"
  [ -z "$OWN_WORK" ] || rmdir "$WORK" 2>/dev/null || true
}
trap cleanup EXIT HUP INT PIPE TERM

# Starts minimongod with "$@", waits for its "listening on 127.0.0.1:PORT" line, prints PORT.
start_server() {
  log=$1
  shift
  "$MINIMONGOD" --port 0 "$@" >"$log" 2>&1 &
  pid=$!
  i=0
  while ! grep -q "listening on" "$log" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 3000 ] || ! kill -0 $pid 2>/dev/null; then echo "copy_bench: minimongod did not start:" >&2; cat "$log" >&2; exit 1; fi
    sleep 0.1
  done
  echo "$pid $(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)"
}

t0=$(date +%s.%N)
set -- $(start_server "$WORK/src.log" --generate "bench.docs:$COUNT:$DOC:1")
SRC_PID=$1
SRC="mongodb://127.0.0.1:$2/"
t1=$(date +%s.%N)
set -- $(start_server "$WORK/dst.log")
DST_PID=$1
DST="mongodb://127.0.0.1:$2/"
echo "source $SRC ($COUNT documents of ~$DOC bytes, loaded in $(echo "$t1 - $t0" | bc) s), target $DST"
echo "machine: $(uname -m), $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

DUMP_CMD="$BSONPIPE dump --uri $SRC --db bench --out $WORK/dump --readers $PAR -j $PAR --progress none --quiet"
RESTORE_CMD="$BSONPIPE restore --uri $DST --drop --numInsertionWorkersPerCollection $PAR -j $PAR --progress none --quiet $WORK/dump"
COPY_CMD="$BSONPIPE copy --from $SRC --to $DST --db bench --drop --readers $PAR -j $PAR --numInsertionWorkersPerCollection $PAR --quiet"

# CPU seconds (user+sys) a process has used so far, from /proc/PID/stat.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }

# Runs "$@"; prints "wall_s tool_cpu_s servers_cpu_s" (tool = the bsonpipe process, servers = both
# minimongod processes). Fails the benchmark if the command fails.
timed() {
  before=$(echo "$(cpu_of "$SRC_PID") + $(cpu_of "$DST_PID")" | bc)
  if ! /usr/bin/time -f "%e %U %S" -o "$WORK/time.txt" "$@" >"$WORK/run.log" 2>&1; then
    echo "copy_bench: failed: $*" >&2; cat "$WORK/run.log" >&2; exit 1
  fi
  after=$(echo "$(cpu_of "$SRC_PID") + $(cpu_of "$DST_PID")" | bc)
  tail -1 "$WORK/time.txt" | awk -v s="$(echo "$after - $before" | bc)" '{ printf "%s %.2f %.2f\n", $1, $2 + $3, s }'
}

RAW=
DUMPS=
RESTORES=
COPIES=
i=1
while [ $i -le "$RUNS" ]; do
  rm -rf "$WORK/dump"
  set -- $(timed $DUMP_CMD)
  d=$1 dc="tool $2 s + servers $3 s"
  [ -n "$RAW" ] || RAW=$(stat -c %s "$WORK/dump/bench/docs.bson")
  set -- $(timed $RESTORE_CMD)
  r=$1 rc="tool $2 s + servers $3 s"
  set -- $(timed $COPY_CMD)
  c=$1 cc="tool $2 s + servers $3 s"
  echo "run $i: dump ${d}s ($dc CPU)  restore ${r}s ($rc CPU)  copy ${c}s ($cc CPU)  (load $(cut -d' ' -f1 /proc/loadavg))"
  DUMPS="$DUMPS $d"
  RESTORES="$RESTORES $r"
  COPIES="$COPIES $c"
  i=$((i + 1))
done

median() { echo "$@" | tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
md=$(median $DUMPS)
mr=$(median $RESTORES)
mc=$(median $COPIES)
mbs() { echo "scale=1; $RAW / 1000000 / $1" | bc; }
echo
echo "raw BSON: $RAW bytes ($(echo "scale=1; $RAW / 1000000" | bc) MB), $COUNT documents; median of $RUNS, alternating"
echo "| op | median s | MB/s | runs (s) |"
echo "|---|---:|---:|---|"
echo "| dump (directory, no compression) | $md | $(mbs "$md") |$DUMPS |"
echo "| restore (of that dump) | $mr | $(mbs "$mr") |$RESTORES |"
echo "| copy | $mc | $(mbs "$mc") |$COPIES |"
slower=$(echo "if ($md > $mr) $md else $mr" | bc)
ratio=$(echo "scale=3; $slower / $mc" | bc)
within=$(echo "$mc <= $slower * 1.15" | bc)
echo "copy MB/s / slower-of(dump, restore) MB/s = $ratio; within 15%: $([ "$within" = 1 ] && echo yes || echo no)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commands:"
echo "  $DUMP_CMD"
echo "  $RESTORE_CMD"
echo "  $COPY_CMD"
