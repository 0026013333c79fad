#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each over its seeds (fuzz/make_seeds.sh) and prints one
# summary line per target: executions, coverage (cov/ft from libFuzzer's last status line) and
# crashes. Exit 1 if any target crashed; the crash input is left in build/fuzz/crashes/<target>/.
#   usage: fuzz/run.sh SECONDS [target...]      (CI: bash fuzz/run.sh 20)
# Configures and builds the `fuzz` preset (clang) when needed. New inputs found go to
# build/fuzz/corpus/<target>/ and are reused by the next run. FUZZ_NICE=N runs under nice -n N.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
secs=${1:?usage: fuzz/run.sh SECONDS [target...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_bson_validate fuzz_extjson_parse fuzz_archive_reader fuzz_metadata_json fuzz_wire_decode)
bdir=$root/build/fuzz
cd "$root"
[ -f "$bdir/build.ninja" ] || cmake --preset fuzz >/dev/null
if ! cmake --build "$bdir" -j2 --target fuzz >"$bdir/build.log" 2>&1; then
  echo "fuzz: building the fuzz targets failed:" >&2
  grep -E -m10 'error|FAILED' "$bdir/build.log" >&2 || tail -20 "$bdir/build.log" >&2
  exit 2
fi
[ -d "$bdir/seeds" ] || bash "$here/make_seeds.sh" "$bdir/seeds" >/dev/null
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=0
for t in "${targets[@]}"; do
  mkdir -p "$bdir/corpus/$t" "$bdir/crashes/$t" "$bdir/logs" "$bdir/seeds/$t"
  log=$bdir/logs/$t.log
  rc=0
  nice -n "${FUZZ_NICE:-0}" "$bdir/fuzz/$t" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$bdir/crashes/$t/" \
    "$bdir/corpus/$t" "$bdir/seeds/$t" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  status=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$status")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$status")
  corpus=$(sed -n 's/.*corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$status")
  if [ "$rc" -ne 0 ]; then
    failed=1
    echo "fuzz: $t CRASHED (exit $rc) after ${execs:-?} execs; see $log and $bdir/crashes/$t/"
    grep -m3 -E 'ERROR: |runtime error:|SUMMARY:' "$log" || true
  else
    echo "fuzz: $t ${secs}s execs=${execs:-?} cov=${cov:-?} ft=${ft:-?} corpus=${corpus:-?} crashes=0"
  fi
done
exit $failed
