#!/usr/bin/env bash
# Remakes tests/models/data/llama_cpp_families (see its README): numpy writes each family's tiny
# random model as a GGUF and an HF folder, a small program built against llama.cpp dumps what
# llama.cpp computes from the GGUF. Not part of CI: it needs a llama.cpp tree built with CMake.
#
#   bench/make_llama_cpp_families.sh LLAMA_CPP_DIR
set -euo pipefail
LLAMA=${1:?usage: make_llama_cpp_families.sh LLAMA_CPP_DIR}
HERE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$HERE/tests/models/data/llama_cpp_families"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$LLAMA" && g++ -O2 -std=c++17 -fopenmp -Iinclude -Iggml/include -Isrc \
  "$HERE/bench/decoder_llama_cpp_dump.cpp" build/src/libllama.a build/ggml/src/libggml.a \
  build/ggml/src/libggml-cpu.a build/ggml/src/libggml-base.a -lpthread -ldl -o "$TMP/decoder_dump")
for family in llama llama31 qwen2 gemma phi3; do
  rm -rf "${OUT:?}/$family"
  GGUF_PY="$LLAMA/gguf-py" /usr/bin/python3 "$HERE/bench/decoder_llama_cpp_fixture.py" \
    --family "$family" --out "$OUT/$family" --seed 5 > /dev/null
  "$TMP/decoder_dump" "$OUT/$family/model.gguf" "1 5 9 17 33 4 60 12 7" 12 \
    > "$OUT/$family/llama_cpp.json" 2> /dev/null
  echo "$family: $(git -C "$LLAMA" rev-parse --short HEAD)"
done
GGUF_PY="$LLAMA/gguf-py" /usr/bin/python3 "$HERE/bench/decoder_llama_cpp_fixture.py" \
  --family llama-wide --out "$TMP/wide" --seed 5 > /dev/null
mkdir -p "$OUT/kquant"
for q in q4_k_m q5_k_m; do
  "$LLAMA/build/bin/llama-quantize" "$TMP/wide/model.gguf" "$OUT/kquant/$q.gguf" \
    "$(echo $q | tr a-z A-Z)" > /dev/null 2>&1
  "$TMP/decoder_dump" "$OUT/kquant/$q.gguf" "1 5 9 17 33 4 60 12 7" 12 > "$OUT/kquant/$q.json" 2> /dev/null
  GGUF_PY="$LLAMA/gguf-py" /usr/bin/python3 "$HERE/bench/gguf_dequantized_copy.py" \
    "$OUT/kquant/$q.gguf" "$TMP/$q-f32.gguf"
  "$TMP/decoder_dump" "$TMP/$q-f32.gguf" "1 5 9 17 33 4 60 12 7" 12 \
    > "$OUT/kquant/$q.dequantized.json" 2> /dev/null
done
