#!/usr/bin/env bash
# Installs what micse needs to build, test and benchmark on Debian 12 (bookworm) or later.
# Only Debian's packages: a compiler, CMake, Eigen, OpenMP (with GCC), Catch2, Google Benchmark,
# and, for the tools, nlohmann-json and libzip. For the hardening runs of scripts/test.sh: clang
# with its sanitizer and libFuzzer runtimes (GCC's sanitizer runtimes come with g++).
set -euo pipefail
packages=(g++ cmake ninja-build pkg-config libeigen3-dev catch2 libbenchmark-dev nlohmann-json3-dev libzip-dev)
if [ "${MICSE_TEST_QUICK:-0}" != 1 ]; then packages+=(clang libclang-rt-dev); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
