#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs each on its seed
# corpus (fuzz/corpus/<target>) and its kept findings (fuzz/regressions/<target>).
#   bash scripts/fuzz.sh [SECONDS] [TARGET]...   explore: SECONDS per target (default 30), a new
#                                                random seed each time, corpus kept in build-fuzz/
#   bash scripts/fuzz.sh --ci [TARGET]...        CI: a fixed number of inputs per target from a
#                                                fixed seed and an empty work corpus
# Exploration finds new bugs; the CI mode is a regression test: its inputs are fixed in number and
# start and nearly fixed in content (docs/errors.md), so a red CI points at the commit, not at
# the dice finding an old bug. Exploration's findings, once fixed, are kept in fuzz/regressions/,
# which both modes replay first. A crash is written to build-fuzz/crashes/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
ci=0
seconds=30
if [ "${1:-}" = --ci ]; then ci=1; shift
elif [ -n "${1:-}" ] && [[ "$1" =~ ^[0-9]+$ ]]; then seconds="$1"; shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gguf safetensors torch_zip pickle config tokenizer encoder)
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMICSE_BUILD_FUZZERS=ON \
  -DMICSE_OPENMP=OFF -DMICSE_BUILD_TESTS=OFF -DMICSE_BUILD_BENCH=OFF -DMICSE_BUILD_EXAMPLES=OFF \
  -DMICSE_BUILD_TOOLS=OFF > /dev/null
cmake --build build-fuzz -j "$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")
mkdir -p build-fuzz/crashes
# The same inputs each time needs libFuzzer's seed fixed, no re-reading of the work corpus while
# it runs (-reload=0), and fixed addresses: the readers keep pointers in ordered containers, whose
# branches (instrumented, as templates) otherwise differ from run to run with ASLR.
norandom=()
if [ $ci = 1 ]; then
  if setarch -R true 2> /dev/null; then norandom=(setarch -R)
  else echo "fuzz: setarch -R is not permitted here; CI-mode runs are not exactly reproducible"; fi
fi
# CI's inputs per target: about 30 s each on this project's 2-core reference machine
declare -A ci_runs=([gguf]=150000 [safetensors]=220000 [torch_zip]=150000 [pickle]=400000 [config]=150000
                    [tokenizer]=1000000 [encoder]=35000)
run() {
  local t="$1" work="build-fuzz/corpus/$1" budget
  if [ $ci = 1 ]; then
    work="build-fuzz/ci-corpus/$t"; rm -rf "$work"
    budget=(-seed=1 -runs="${ci_runs[$t]}" -reload=0)
  else
    budget=(-max_total_time="$seconds")
  fi
  mkdir -p "$work" "fuzz/regressions/$t"
  local start=$SECONDS
  # Inputs are capped at 1 MiB and allocations at 1 GiB: a reader that allocates more than a
  # small file justifies is a finding too (-malloc_limit_mb).
  if ASAN_OPTIONS=detect_leaks=1 ${norandom[@]+"${norandom[@]}"} ./build-fuzz/fuzz/fuzz_"$t" "$work" "fuzz/corpus/$t" "fuzz/regressions/$t" \
      "${budget[@]}" -max_len=1048576 -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20 \
      -artifact_prefix="build-fuzz/crashes/$t-" -print_final_stats=1 > "build-fuzz/$t.log" 2>&1; then
    echo "fuzz_$t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "build-fuzz/$t.log" | grep -o '[0-9]*$') runs in $((SECONDS - start)) s, no finding; $(grep -o 'cov: [0-9]* ft: [0-9]*' "build-fuzz/$t.log" | tail -1)"
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
