#!/usr/bin/env bash
# The test command: installs missing dependencies, builds the `dev` preset (Debug + ASan/UBSan),
# runs the whole ctest suite, runs each fuzz target for 20 s, then builds the `tsan` preset and runs the concurrency-labelled
# tests under ThreadSanitizer. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps.sh
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cmake --preset dev >/dev/null
cmake --build --preset dev
ctest --preset dev
# libFuzzer targets (clang): a short run of each, seeded from the fixtures.
bash fuzz/run.sh 20
if [ "${BSONPIPE_SKIP_TSAN:-0}" != 1 ]; then
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan --target pipeline_test minimongod_test
  TSAN_OPTIONS=halt_on_error=1 ctest --preset tsan -L concurrency --no-tests=error
fi
