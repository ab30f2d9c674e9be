#!/usr/bin/env bash
# run_at_kernel_level.sh LEVEL BINARY FILTER: runs BINARY --gtest_filter=FILTER with
# PPLUG_KERNELS=LEVEL, or exits 77 (ctest: skipped) when this CPU lacks LEVEL's instructions
# (the run would only repeat a lower level's).
set -euo pipefail
level=$1 binary=$2 filter=$3
case "$level" in
  portable) required="" ;;
  avx2) required="avx2 fma f16c" ;;
  avx512) required="avx2 fma f16c avx512f avx512bw avx512vl avx512dq" ;;
  *) echo "unknown level $level" >&2; exit 2 ;;
esac
flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
for flag in $required; do
  if [[ "$flags" != *" $flag "* ]]; then
    echo "skipped: this CPU has no $flag, so kernels level $level cannot run"
    exit 77
  fi
done
PPLUG_KERNELS=$level exec "$binary" --gtest_filter="$filter" --gtest_brief=1
