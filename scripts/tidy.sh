#!/usr/bin/env bash
# clang-tidy with the project's .clang-tidy over the libtorch-free sources (pplug_base and its
# tests: src/util, text, format, lamp, chat, tokenizer/hf, tests/base ...) changed since a git
# revision. bugprone-* findings fail the run; performance-* and modernize-* are printed.
# libtorch translation units are left out: parsing libtorch's headers costs clang-tidy ~30 s per
# file here, which the test run cannot afford.
#
#   scripts/tidy.sh              files changed by the last commit (what scripts/test.sh runs)
#   scripts/tidy.sh main~5       files changed since main~5
#   scripts/tidy.sh --all        every libtorch-free source (about 20 CPU-minutes)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-tidy >/dev/null; then
  echo "tidy: installing clang-tidy"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends clang-tidy
fi

BUILD_DIR="${PPLUG_BUILD_DIR:-build}-tidy"
JOBS="${PPLUG_JOBS:-$(nproc)}"
# Configured only (no build): the compile commands of pplug_base and pplug_base_tests.
if [ ! -f "$BUILD_DIR/compile_commands.json" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPPLUG_BASE_TESTS_ONLY=ON \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DPPLUG_INSTALL=OFF >/dev/null
fi
known=$(mktemp)
trap 'rm -f "$known"' EXIT
# The sources in the compile database, relative to the checkout.
sed -n 's/^ *"file": "\(.*\)",\{0,1\}$/\1/p' "$BUILD_DIR/compile_commands.json" |
  sed "s|^$(pwd)/||" | sort -u >"$known"

if [ "${1:-}" = "--all" ]; then
  files=$(cat "$known")
else
  base="${1:-HEAD~1}"
  if ! git rev-parse --verify -q "$base^{commit}" >/dev/null; then
    echo "tidy: no revision $base (a shallow clone?); nothing checked"
    exit 0
  fi
  files=$(git diff --name-only --diff-filter=AMR "$base" -- '*.cpp' | sort -u | comm -12 - "$known")
fi
if [ -z "$files" ]; then
  echo "tidy: no libtorch-free source changed; nothing to check"
  exit 0
fi
echo "tidy: $(echo "$files" | wc -l) file(s)"
echo "$files" | xargs -P "$JOBS" -n 4 clang-tidy -p "$BUILD_DIR" --quiet \
  --warnings-as-errors='bugprone-*' 2> >(grep -v '^[0-9]* warnings\? generated' >&2)
