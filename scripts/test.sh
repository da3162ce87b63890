#!/usr/bin/env bash
# Installs the dependencies, builds everything (Release) and runs the whole test suite; then the
# hardening runs: the suite under ASan + UBSan, the thread test under TSan, and every fuzz target
# on a fixed set of inputs, about 30 s each (docs/errors.md). MICSE_TEST_QUICK=1 stops after the
# Release suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure -j "$(nproc)"
if [ "${MICSE_TEST_QUICK:-0}" != 1 ]; then
  bash scripts/sanitize.sh asan tsan
  bash scripts/fuzz.sh --ci
fi
