#!/usr/bin/env bash
# The test command: installs missing dependencies, builds the `dev` preset (Debug + ASan/UBSan),
# runs the whole ctest suite, runs each fuzz target for 20 s, then builds the `tsan` preset and runs
# the concurrency-labelled tests under ThreadSanitizer (with oneTBB built for it: tests/build-tbb-tsan.sh),
# then pipeline_test once more built with BSONPIPE_SLOW_PATH (the `slowpath` preset). Every phase runs even when an earlier one
# failed (so one failure does not hide the other results); the exit status is non-zero if any did.
set -uo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps.sh || exit 1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
declare -A result=()
phase() {  # phase NAME COMMAND...: runs COMMAND, records ok/FAILED under NAME
  local name=$1
  shift
  if "$@"; then result[$name]=ok; else result[$name]=FAILED; fi
}
dev_build() { cmake --preset dev >/dev/null && cmake --build --preset dev; }
phase "dev build" dev_build
# The S3 test server (tests/s3: @20minutes/s3rver, pinned in its package-lock.json) for io_test.
s3_deps() { npm ci --prefix tests/s3 --no-audit --no-fund --loglevel=error >/dev/null; }
dev_tests() { s3_deps && ctest --preset dev; }
if [ "${result[dev build]}" = ok ]; then
  phase "ctest (ASan/UBSan)" dev_tests
else
  result["ctest (ASan/UBSan)"]="not run (build failed)"
fi
# libFuzzer targets (clang): a short run of each, seeded from the fixtures.
phase "fuzz 20 s per target" bash fuzz/run.sh 20
if [ "${BSONPIPE_SKIP_TSAN:-0}" != 1 ]; then
  tsan() {
    bash tests/build-tbb-tsan.sh && cmake --preset tsan >/dev/null && cmake --build --preset tsan --target pipeline_test minimongod_test &&
      TSAN_OPTIONS=halt_on_error=1 ctest --preset tsan -L concurrency --no-tests=error
  }
  phase "TSan concurrency tests" tsan
fi
# BSONPIPE_SLOW_PATH (the `slowpath` preset, -O1, no sanitizers): every BoundedQueue holds one item
# and the ordered writer's window is one block, so stages hand over item by item and interleave in
# orders the default sizes hide. Only pipeline_test (the queues, the ordered writer and the dump
# pipeline in-process) and the libraries it links: about 105 compile steps at -O1. BoundedQueue's
# own tests are left out: the capacities they check are what this build overrides.
slowpath() {
  cmake --preset slowpath >/dev/null && cmake --build --preset slowpath &&
    timeout 600 build/slowpath/tests/pipeline_test --gtest_brief=1 --gtest_filter='-BoundedQueue.*'
}
phase "slow-path pipeline tests" slowpath
status=0
echo "tests/run.sh summary:"
for name in "dev build" "ctest (ASan/UBSan)" "fuzz 20 s per target" "TSan concurrency tests" \
  "slow-path pipeline tests"; do
  [ -n "${result[$name]:-}" ] || continue
  echo "  $name: ${result[$name]}"
  [ "${result[$name]}" = ok ] || status=1
done
exit $status
