#!/usr/bin/env bash
# A/B of two bsonpipe binaries on one generated collection, alternating, in one run: dump (default
# flags), dump --gzip, restore of bsonpipe's own --gzip dump, restore of a stock single-member gzip
# archive (a plain archive through gzip -6, as mongodump --gzip --archive writes it: one member),
# and copy (bench.logs into bench_copy.logs on the same server, --drop: the server does both the
# reads and the inserts, so its CPU is not in the figures; bsonpipe's is).
# The dumps read database bench only (a copy's bench_copy would double what they read).
# Prints one line per run (CPU user+sys s, wall s, peak RSS MB) and the medians per binary.
# A_ENV / B_ENV: environment settings for each side's runs, e.g. A_ENV=BSONPIPE_GZIP_INFLATER=zlib
# to compare gzip readers within one binary.
# COLD=1 (root): sync and drop the page cache before every timed run, so each restore reads its
# input from disk (a dump written with O_DIRECT is not in the page cache; one written through it
# is, which favours its restore in a warm run).
#
#   [A_ENV=..] [B_ENV=..] bench/ab_dump_restore.sh A_BSONPIPE B_BSONPIPE MINIMONGOD [MB=400] [RUNS=3] \
#       [OPS="dump gzip rgz rstock"]   (also: rplain, the restore of its own plain dump; copy)
set -euo pipefail
A=$1 B=$2 MM=$3 MB=${4:-400} RUNS=${5:-3} OPS=${6:-"dump gzip rgz rstock"}
W=$(mktemp -d /tmp/ab_dump_restore.XXXXXX)
trap 'kill $MMPID 2>/dev/null || true; rm -rf "$W"' EXIT
MMPID=
# shellcheck source=bench/minimongod_lib.sh
. "$(dirname "$0")/minimongod_lib.sh"
start_minimongod "$MM" "$MB" "$W"
echo "minimongod pid $MMPID port $PORT, $COUNT docs of ~1 KB ($MB MB); load $(cut -d' ' -f1-3 /proc/loadavg)"

# run LABEL ENV BIN ARGS...: one timed run; appends "LABEL cpu wall rss" to $W/results
run() {
  local label=$1 envs=$2 bin=$3
  shift 3
  if [ "${COLD:-0}" = 1 ]; then
    sync
    echo 3 >/proc/sys/vm/drop_caches
  fi
  env $envs /usr/bin/time -f "%U %S %e %M" -o "$W/t" "$bin" "$@" --quiet >/dev/null 2>"$W/err" || {
    cat "$W/err" "$W/t" >&2
    return 1
  }
  read -r u s e m <"$W/t"
  local cpu
  cpu=$(echo "$u + $s" | bc)
  echo "$label $cpu $e $((m / 1024))" | tee -a "$W/results"
}

# Inputs for the restores, made once per binary (each restores what it wrote).
for side in A B; do
  bin=${!side}
  "$bin" dump --uri "$URI" --gzip --out "$W/gz_$side" --quiet
  case " $OPS " in *" rplain "*) "$bin" dump --uri "$URI" --out "$W/plain_$side" --quiet ;; esac
done
"$A" dump --uri "$URI" --archive="$W/plain.archive" --readers 1 --quiet
gzip -6 -c "$W/plain.archive" >"$W/stock.archive.gz"
rm -f "$W/plain.archive"

for i in $(seq "$RUNS"); do
  for side in A B; do
    bin=${!side}
    envname=${side}_ENV
    envs=${!envname:-}
    for op in $OPS; do
      rm -rf "$W/out"
      case $op in
        dump) run "$side/dump" "$envs" "$bin" dump --uri "$URI" --db bench --out "$W/out" ;;
        gzip) run "$side/gzip" "$envs" "$bin" dump --uri "$URI" --db bench --gzip --out "$W/out" ;;
        rplain) run "$side/restore_plain" "$envs" "$bin" restore --uri "$URI" --drop "$W/plain_$side" ;;
        rgz) run "$side/restore_own_gzip" "$envs" "$bin" restore --uri "$URI" --drop --gzip "$W/gz_$side" ;;
        rstock) run "$side/restore_stock_gzip" "$envs" "$bin" restore --uri "$URI" --drop --gzip --archive="$W/stock.archive.gz" ;;
        copy) run "$side/copy" "$envs" "$bin" copy --from "$URI" --to "$URI" --nsInclude 'bench.logs' \
          --nsFrom 'bench.logs' --nsTo 'bench_copy.logs' --drop ;;
      esac
    done
  done
done
rm -rf "$W/out"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "medians (label cpu_s wall_s rss_MB, cpu s/GB):"
python3 - "$W/results" "$MB" <<'EOF'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    l, c, w, r = line.split()
    rows[l].append((float(c), float(w), int(r)))
gb = int(sys.argv[2]) / 1000
for l in sorted(rows):
    v = rows[l]
    c = statistics.median(x[0] for x in v)
    print("%-24s cpu %6.2f  wall %6.2f  rss %5d  cpu/GB %6.2f  (n=%d)" %
          (l, c, statistics.median(x[1] for x in v), max(x[2] for x in v), c / gb, len(v)))
EOF
