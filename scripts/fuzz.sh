#!/usr/bin/env bash
# Builds pplug's libFuzzer targets (PPLUG_FUZZ=ON, clang, ASan+UBSan) in build-fuzz/ and runs
# each for SECONDS (default 60). Per target it prints executions per second, coverage (cov: edges,
# ft: features, from libFuzzer's final status line) and whether anything was found; crash-,
# leak-, timeout- and oom- inputs are kept under build-fuzz/findings/<target>/. Exits 1 when a
# target found something. Not part of CI (see docs/fuzzing.md).
#
#   scripts/fuzz.sh [SECONDS]         build, then run every target
#   FUZZ_TARGETS="gguf_metadata lamp_questions" scripts/fuzz.sh 600
#   scripts/fuzz.sh --seeds           rewrite the generated binary seeds of tests/fuzz/corpus
#
# PPLUG_JOBS sets the build's parallelism (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."

# clang, libFuzzer and the sanitizer runtimes, plus what pplug_base links (see setup.sh).
PACKAGES=(
  cmake ninja-build pkg-config clang-14 libfuzzer-14-dev libclang-rt-14-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libpcre2-dev libicu-dev
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fuzz: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=build-fuzz
JOBS="${PPLUG_JOBS:-$(nproc)}"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  CXX=clang++-14 CC=clang-14 cmake -S . -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPPLUG_FUZZ=ON
fi
cmake --build "$BUILD_DIR" -j "$JOBS" --target fuzzers

SEEDS=tests/fuzz/corpus
if [ "${1:-}" = "--seeds" ]; then
  "$BUILD_DIR/bin/fuzz_make_seeds" "$SEEDS"
  echo "fuzz: wrote the binary seeds under $SEEDS"
  exit 0
fi

SECONDS_EACH="${1:-60}"
ALL_TARGETS=(lamp_questions lamp_outputs gguf_metadata spm_model_proto tokenizer_json
             wordpiece_vocab safetensors_header safetensors_index llama2c_header model_config
             plugin_manifest user_embedding chat_template openai_request user_record
             tokenizer_folder)
read -r -a TARGETS <<< "${FUZZ_TARGETS:-${ALL_TARGETS[*]}}"

found_any=0
summary=()
for t in "${TARGETS[@]}"; do
  bin="$BUILD_DIR/bin/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz: no target fuzz_$t" >&2; exit 2; }
  work="$BUILD_DIR/corpus/$t"          # grows; the committed seeds stay as they are
  findings="$BUILD_DIR/findings/$t"
  log="$BUILD_DIR/logs/$t.log"
  mkdir -p "$work" "$findings" "$(dirname "$log")"
  dict=()
  case "$t" in
    lamp_* | tokenizer_json | safetensors_* | model_config | plugin_manifest | user_embedding | \
      openai_request | user_record | tokenizer_folder)
      dict=(-dict=tests/fuzz/json.dict) ;;
  esac
  echo "fuzz: $t for ${SECONDS_EACH}s (log: $log)"
  set +e
  "$bin" "$work" "$SEEDS/$t" "${dict[@]}" -max_total_time="$SECONDS_EACH" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  cov=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
  ft=$(grep -E '^#[0-9]+.*ft: ' "$log" | tail -1 | sed -E 's/.*ft: ([0-9]+).*/\1/')
  artifacts=$(find "$findings" -maxdepth 1 -type f \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  if [ "$rc" -ne 0 ] || [ "$artifacts" -gt 0 ]; then
    found_any=1
    verdict="FOUND (exit $rc, $artifacts file(s) in $findings)"
  else
    verdict="nothing found"
  fi
  summary+=("$(printf '%-16s %8ss %10s execs %7s exec/s  cov %6s  ft %7s  rss %5s MB  %s' \
    "$t" "$SECONDS_EACH" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${rss:-?}" "$verdict")")
  echo "  ${summary[-1]}"
done

echo
echo "fuzz: summary"
printf '  %s\n' "${summary[@]}"
exit "$found_any"
