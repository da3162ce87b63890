#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/; all of it but
# the full-size parity test, see below), and the thread test under ThreadSanitizer (build-tsan/).
# Any report fails the run. The tests build at -O1, the tools and examples they run at -O0
# (tests/CMakeLists.txt): the sanitizers' recommended levels, and the shortest build.
#   bash scripts/sanitize.sh [asan|tsan]...     (default: both)
# GCC's sanitizers; OpenMP stays on under ASan. Under TSan OpenMP is off: libgomp is not built
# with TSan, so its own barriers would be reported; the test's threads are std::threads sharing
# one Encoder, which is what the test is about.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"
which=("$@")
[ ${#which[@]} -gt 0 ] || which=(asan tsan)
for w in "${which[@]}"; do
  case "$w" in
    asan)
      cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O0 -DNDEBUG" -DMICSE_SANITIZE=address,undefined \
        -DMICSE_BUILD_BENCH=OFF > /dev/null
      cmake --build build-asan -j "$jobs" --target micse_tests micse-convert micse-embed micse-tokenize similarity cluster search sts-eval
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --test-dir build-asan --output-on-failure -j "$jobs" -E '^full-size'
      # The full-size (bert-base) parity test stays in the Release suite: under ASan it takes longer
      # than all of CI may, and the kernel paths they reach at 768 x 3072 are reached by
      # test_gemm's shapes, which are built from the kernel's block sizes.
      ;;
    tsan)
      cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O0 -DNDEBUG" -DMICSE_SANITIZE=thread -DMICSE_OPENMP=OFF \
        -DMICSE_BUILD_BENCH=OFF -DMICSE_BUILD_EXAMPLES=ON > /dev/null
      cmake --build build-tsan -j "$jobs" --target micse_thread_tests
      TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ./build-tsan/tests/micse_thread_tests
      ;;
    *) echo "sanitize.sh: unknown build '$w' (asan or tsan)" >&2; exit 2 ;;
  esac
done
