#!/usr/bin/env bash
# The aarch64 check (not part of CI; docs/design.md, "Other architectures"), on an x86-64
# Debian 12 host with no aarch64 hardware:
#   1. every src/**/*.cpp compiled for aarch64 with -fsyntax-only -Wall -Wextra (the libtorch
#      files against the host's headers, which are architecture-neutral);
#   2. pplug_base and its tests cross-built (cmake/aarch64-linux-gnu.cmake) and run under
#      qemu-user.
# Installs what it needs with apt. The aarch64 libraries pplug_base links (GoogleTest, spdlog,
# fmt, PCRE2, ICU) are Debian's arm64 packages unpacked into build-aarch64/deps, not installed:
# installing them through multiarch would pull libc6-dev:arm64 and with it upgrade host packages
# (krb5, OpenSSL) to keep the two architectures' versions equal.
# Environment: PPLUG_JOBS (parallel compilers, default nproc), PPLUG_AARCH64_DIR (default
# build-aarch64).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${PPLUG_AARCH64_DIR:-build-aarch64}"
JOBS="${PPLUG_JOBS:-$(nproc)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# Host packages: the cross compiler, qemu-user (without qemu-user-binfmt: the emulator is called
# explicitly), the build tools, and the headers the libtorch files include.
PACKAGES=(
  g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
  cmake ninja-build pkg-config
  libtorch-dev libgloo-dev libsentencepiece-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libcli11-dev libpcre2-dev libicu-dev libcpp-httplib-dev
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "check_aarch64: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The aarch64 libraries, unpacked (see the header). The arm64 package lists are needed only to
# download them: an architecture this script added is removed again.
DEPS="$OUT/deps"
ARM64_PACKAGES=(
  libgtest-dev:arm64 libspdlog-dev:arm64 libspdlog1.10:arm64 libfmt-dev:arm64 libfmt9:arm64
  libpcre2-dev:arm64 libpcre2-8-0:arm64 libicu-dev:arm64 libicu72:arm64 nlohmann-json3-dev
)
if [ ! -f "$DEPS/.unpacked" ]; then
  added_arch=0
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
    added_arch=1
  fi
  $SUDO apt-get update -qq
  rm -rf "$OUT/debs" "$DEPS"
  mkdir -p "$OUT/debs" "$DEPS"
  # apt's _apt user must be able to write there; otherwise apt warns and downloads as root.
  (cd "$OUT/debs" && apt-get download -q "${ARM64_PACKAGES[@]}")
  for deb in "$OUT"/debs/*.deb; do dpkg-deb -x "$deb" "$DEPS"; done
  if [ "$added_arch" = 1 ]; then
    $SUDO dpkg --remove-architecture arm64
    $SUDO apt-get update -qq
  fi
  touch "$DEPS/.unpacked"
fi

# 1. Syntax check. The flags are those of the x86-64 build (its build.ninja): libtorch's
# compile definitions from TorchConfig, spdlog's and fmt's, the warnings of src/CMakeLists.txt.
# /usr/include comes after the cross compiler's own C and C++ headers, so only the libraries'
# headers (libtorch, Gloo, spdlog, nlohmann, ICU, ...) are taken from it; kernels/x86/* are
# compiled too, since the build compiles them on every architecture (they reduce to stubs).
SYNTAX_FLAGS=(
  -std=c++17 -fsyntax-only -fopenmp -Wall -Wextra -Wno-unused-parameter
  -D_GLIBCXX_USE_CXX11_ABI=1 -DFMT_SHARED -DSPDLOG_COMPILED_LIB -DSPDLOG_FMT_EXTERNAL
  -DSPDLOG_SHARED_LIB -DGFLAGS_IS_A_DLL=0 -DGLOG_CUSTOM_PREFIX_SUPPORT -DUSE_C10D_GLOO
  -DUSE_DISTRIBUTED -DUSE_RPC -DUSE_TENSORPIPE
  -Iinclude -Isrc -isystem /usr/include/torch/csrc/api/include -idirafter /usr/include
)
LOGS="$OUT/syntax"
rm -rf "$LOGS"
mkdir -p "$LOGS"
export LOGS
find src -name '*.cpp' | sort >"$LOGS/files.txt"
total=$(wc -l <"$LOGS/files.txt")
echo "check_aarch64: syntax check of $total files with aarch64-linux-gnu-g++ ($JOBS at a time)"
# A file fails on an error or on any warning (a warning here that x86-64 lacks is a portability
# finding: plain char is unsigned on aarch64, for instance).
# shellcheck disable=SC2016 # expanded by the inner sh
xargs -P "$JOBS" -I{} sh -c '
  log="$LOGS/$(echo "$1" | tr / _).log"
  if aarch64-linux-gnu-g++ "$@" 2>"$log" && [ ! -s "$log" ]; then rm -f "$log"
  else echo "FAILED $1"; fi' sh {} "${SYNTAX_FLAGS[@]}" <"$LOGS/files.txt" | tee "$LOGS/failed.txt"
failed=$(grep -c . "$LOGS/failed.txt" || true)
echo "check_aarch64: syntax check: $((total - failed)) of $total files clean (logs: $LOGS)"

# 2. Cross build of pplug_base and its tests, run under qemu-user.
BUILD="$OUT/build"
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" -DPPLUG_AARCH64_DEPS="$DEPS" \
    -DPPLUG_BASE_TESTS_ONLY=ON -DPPLUG_INSTALL=OFF >/dev/null
fi
cmake --build "$BUILD" -j "$JOBS" --target pplug_base_tests
tests_status=0
qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH="$DEPS/usr/lib/aarch64-linux-gnu" \
  "$BUILD/bin/pplug_base_tests" --gtest_brief=1 || tests_status=$?
echo "check_aarch64: pplug_base_tests under qemu-aarch64 exited with $tests_status"

[ "$failed" -eq 0 ] && [ "$tests_status" -eq 0 ]
