#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs each for SECONDS on
# its seed corpus (fuzz/corpus/<target>) and its kept findings (fuzz/regressions/<target>).
#   bash scripts/fuzz.sh [SECONDS] [TARGET]...     (default: 30 s, every target)
# New inputs go to build-fuzz/corpus/<target>; a crash is written to build-fuzz/crashes/ and
# fails the run. Keep each crash as fuzz/regressions/<target>/<name> once it is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gguf safetensors torch_zip pickle config tokenizer encoder)
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMICSE_BUILD_FUZZERS=ON \
  -DMICSE_OPENMP=OFF -DMICSE_BUILD_TESTS=OFF -DMICSE_BUILD_BENCH=OFF -DMICSE_BUILD_EXAMPLES=OFF \
  -DMICSE_BUILD_TOOLS=OFF > /dev/null
cmake --build build-fuzz -j "$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")
mkdir -p build-fuzz/crashes
run() {
  local t="$1" work="build-fuzz/corpus/$1"
  mkdir -p "$work" "fuzz/regressions/$t"
  # Inputs are capped at 1 MiB and allocations at 1 GiB: a reader that allocates more than a
  # small file justifies is a finding too (-malloc_limit_mb).
  if ASAN_OPTIONS=detect_leaks=1 ./build-fuzz/fuzz/fuzz_"$t" "$work" "fuzz/corpus/$t" "fuzz/regressions/$t" \
      -max_total_time="$seconds" -max_len=1048576 -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20 \
      -artifact_prefix="build-fuzz/crashes/$t-" -print_final_stats=1 > "build-fuzz/$t.log" 2>&1; then
    echo "fuzz_$t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "build-fuzz/$t.log" | grep -o '[0-9]*$') runs, no finding"
  else
    echo "fuzz_$t: FINDING (build-fuzz/$t.log)"; tail -40 "build-fuzz/$t.log"; return 1
  fi
}
status=0
# two at a time: one per core
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  pids=()
  for t in "${targets[@]:i:2}"; do run "$t" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
done
exit $status
