#!/usr/bin/env bash
# Set-up (packages + build), the portability check, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR="${PPLUG_BUILD_DIR:-build}"
JOBS="${PPLUG_JOBS:-$(nproc)}"

# Portability check (x86-64 only): the kernels compiled with AVX2 as the baseline
# (-march=x86-64-v3) must still give every AVX-512 function its own target attribute (a missing
# one fails to compile here even on an AVX-512 machine), and their tests must pass in that build.
if [ "$(uname -m)" = "x86_64" ] && [ "${PPLUG_SKIP_PORTABILITY_CHECK:-0}" != "1" ]; then
  V3_DIR="${BUILD_DIR}-x86-64-v3"
  if [ ! -f "$V3_DIR/build.ninja" ]; then
    cmake -S . -B "$V3_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-march=x86-64-v3 \
      -DPPLUG_BUILD_CLI=OFF -DPPLUG_BUILD_EXAMPLES=OFF -DPPLUG_BUILD_BENCH=OFF -DPPLUG_INSTALL=OFF \
      -DPPLUG_KERNEL_TESTS_ONLY=ON >/dev/null
  fi
  cmake --build "$V3_DIR" -j "$JOBS" --target pplug_kernel_tests
  if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    "$V3_DIR/bin/pplug_kernel_tests" --gtest_brief=1
  else
    echo "test: this CPU has no AVX2; the x86-64-v3 kernel build compiled but cannot run here"
  fi
fi

# Same-binary check (x86-64 CPUs with AVX-512 only): the build above, made on this machine, runs
# its kernel, model and generation tests on an emulated CPU without AVX-512 (qemu-x86_64 -cpu
# max), where any AVX-512 instruction outside the kernels picked at run time is a SIGILL.
if [ "$(uname -m)" = "x86_64" ] && grep -qw avx512f /proc/cpuinfo &&
  [ "${PPLUG_SKIP_EMULATED_AVX2_CHECK:-0}" != "1" ]; then
  scripts/check_avx2_emulated.sh "$BUILD_DIR"
fi

# Sanitizer check: the libtorch-free code (LaMP readers and metrics, retrieval, synthetic data,
# tokenizer.json, WordPiece, GGUF metadata and vocabularies) and its tests under ASan+UBSan;
# any report fails the run (docs/fuzzing.md, "Sanitizers").
if [ "${PPLUG_SKIP_SANITIZER_CHECK:-0}" != "1" ]; then
  SAN_DIR="${BUILD_DIR}-asan"
  if [ ! -f "$SAN_DIR/build.ninja" ]; then
    cmake -S . -B "$SAN_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPPLUG_BASE_TESTS_ONLY=ON \
      -DPPLUG_SANITIZE=address,undefined -DPPLUG_INSTALL=OFF >/dev/null
  fi
  cmake --build "$SAN_DIR" -j "$JOBS" --target pplug_base_tests
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$SAN_DIR/bin/pplug_base_tests" --gtest_brief=1
fi

# Static check: clang-tidy (.clang-tidy) over the libtorch-free files the last commit changed;
# a bugprone-* finding fails the run (scripts/tidy.sh checks any range of commits).
if [ "${PPLUG_SKIP_TIDY:-0}" != "1" ]; then
  scripts/tidy.sh
fi

ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 900
