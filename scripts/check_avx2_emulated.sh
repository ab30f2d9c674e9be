#!/usr/bin/env bash
# The binaries of BUILD_DIR, built on this machine, run on an emulated x86-64 CPU without
# AVX-512: `qemu-x86_64 -cpu max` (QEMU 7.2's TCG has AVX2, FMA and F16C and no AVX-512).
#
#   scripts/check_avx2_emulated.sh [BUILD_DIR]
#
# A library built on an AVX-512 machine must run on an AVX2-only one: an AVX-512 instruction
# anywhere but in the kernels picked at run time (a helper without its target attribute, a
# compiler flag that leaked into a shared file) stops the emulated run with SIGILL. Runs:
#   1. `pplug bench` on stories260K, which must report "kernels": "avx2";
#   2. the kernel tests (every kernel against libtorch at the levels the emulated CPU has);
#   3. the model, decode and generation tests (Llama and T5), with the stories260K greedy
#      references: the set ctest reruns with the kernels capped at each level.
# scripts/test.sh calls it on CPUs with AVX-512 (elsewhere the ordinary run is the AVX2 run).
# Installs qemu-user with apt when missing. Environment: PPLUG_SHARED_MODELS (../shared/models).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
MODELS="${PPLUG_SHARED_MODELS:-../shared/models}"

if ! command -v qemu-x86_64 >/dev/null; then
  echo "check_avx2_emulated: installing qemu-user"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq --no-install-recommends qemu-user >/dev/null ||
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends qemu-user; }
fi
# Each emulated thread costs a host thread: keep the runs on one, as the ctest runs do.
run() { OMP_NUM_THREADS=1 qemu-x86_64 -cpu max "$@"; }

log="$BUILD_DIR/check_avx2_emulated.log"
if ! report=$(run "$BUILD_DIR/bin/pplug" bench --model "$MODELS/stories260K" --prompt-tokens 8 \
  --new-tokens 8 --repeats 1 --threads 1 2>"$log"); then
  echo "check_avx2_emulated: pplug bench failed on the emulated CPU:" >&2
  cat "$log" >&2
  exit 1
fi
kernels=$(printf '%s' "$report" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["kernels"])')
if [ "$kernels" != "avx2" ]; then
  echo "check_avx2_emulated: the emulated CPU ran kernels '$kernels', expected avx2" >&2
  exit 1
fi
echo "check_avx2_emulated: pplug bench under qemu-x86_64 -cpu max: kernels $kernels"
run "$BUILD_DIR/bin/pplug_kernel_tests" --gtest_brief=1
run "$BUILD_DIR/bin/pplug_tests" --gtest_brief=1 \
  --gtest_filter='Stories260K*:LlamaModel*:LlamaKernels*:Generator*:T5*'
echo "check_avx2_emulated: passed"
