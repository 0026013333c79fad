#!/usr/bin/env bash
# A/B in one run: the same dump to S3 (the pinned s3rver of tests/s3 on loopback) and to local
# disk, as an archive (one object: 4 parts in flight) and as a directory with -j 2 (two data files
# at once: 8 parts in flight). Prints one line per run: CPU user+sys s, wall s, peak RSS MB of
# bsonpipe, and s3rver's CPU s during the run; then the load average.
#
#   bench/s3_dump_bench.sh BSONPIPE MINIMONGOD [MB=2048] [RUNS=1]
set -euo pipefail
BP=$1 MM=$2 MB=${3:-2048} RUNS=${4:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d /tmp/s3_dump_bench.XXXXXX)
MMPID= S3PID=
trap 'kill $MMPID $S3PID 2>/dev/null || true; rm -rf "$W"' EXIT
HALF=$((MB * 1000000 / 1024 / 2))
"$MM" --port 0 --generate "bench.a:$HALF:1024:1" --generate "bench.b:$HALF:1024:2" >"$W/mm.log" 2>&1 &
MMPID=$!
node --openssl-legacy-provider "$ROOT/tests/s3/start.js" -d "$W/s3" -a 127.0.0.1 -p 0 --silent \
  --configure-bucket bench >"$W/s3.log" 2>&1 &
S3PID=$!
for _ in $(seq 1200); do
  grep -q "listening" "$W/mm.log" && grep -q "S3rver listening" "$W/s3.log" && break
  sleep 0.5
done
PORT=$(grep -o 'listening on [^ ]*' "$W/mm.log" | grep -o '[0-9]*$' | head -1)
S3=$(grep -o 'S3rver listening on [^ ]*' "$W/s3.log" | sed 's/.*on //')
case $S3 in http*) ;; *) S3="http://$S3" ;; esac
URI="mongodb://127.0.0.1:$PORT/"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_CA_BUNDLE AWS_PROFILE AWS_ENDPOINT_URL AWS_SESSION_TOKEN
echo "minimongod port $PORT: 2 x $HALF docs of ~1 KB ($MB MB); s3rver $S3 (data in $W/s3)"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"

# s3rver's user+sys CPU seconds so far.
s3cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$S3PID/stat"; }

# run LABEL ARGS...: one timed bsonpipe run.
run() {
  local label=$1
  shift
  local before
  before=$(s3cpu)
  /usr/bin/time -f "%U %S %e %M" -o "$W/t" "$BP" "$@" --progress none >/dev/null 2>"$W/err" || {
    cat "$W/err" "$W/t" >&2
    return 1
  }
  read -r u s e m <"$W/t"
  printf '%-12s cpu %6.1f s  wall %6.1f s  rss %5d MB  s3rver cpu %6.1f s\n' "$label" \
    "$(echo "$u + $s" | bc)" "$e" $((m / 1024)) "$(echo "$(s3cpu) - $before" | bc)"
}

for _ in $(seq "$RUNS"); do
  run local/arch dump --uri "$URI" --archive="$W/local.archive"
  run s3/arch dump --uri "$URI" --archive=s3://bench/a.archive --s3-endpoint "$S3"
  local_size=$(stat -c %s "$W/local.archive")
  s3_size=$(/usr/bin/aws --endpoint-url "$S3" s3 ls s3://bench/a.archive | awk '{ print $3 }')
  echo "archive bytes: local $local_size, s3 $s3_size"
  rm -f "$W/local.archive"
  run local/dir-j2 dump --uri "$URI" -j 2 --out "$W/local.dir"
  run s3/dir-j2 dump --uri "$URI" -j 2 --out s3://bench/d --s3-endpoint "$S3"
  rm -rf "$W/local.dir"
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
