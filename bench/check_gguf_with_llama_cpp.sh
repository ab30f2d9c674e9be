#!/usr/bin/env bash
# Cross-checks pplug's GGUF files against llama.cpp (built outside this repo), for the record in
# docs/formats.md and docs/benchmarks.md. Not part of CI: it needs a llama.cpp build.
#
#   bench/check_gguf_with_llama_cpp.sh LLAMA_CPP_BUILD_BIN [MODEL.bin TOKENIZER.model]
#
# 1. pplug converts MODEL (default: ../shared/models/stories260K) to GGUF at f32, f16, q8_0 and
#    q4_0 with its vocabulary; llama.cpp's llama-simple (greedy) and `pplug generate` (greedy)
#    continue the same prompt from each file. Float files must give the same text throughout.
#    Quantized ones must agree on the first 100 characters and are reported with the length they
#    agree on: llama.cpp also rounds the activations to 8 bits in prefill (pplug only in decode)
#    and to f16 against f16 rows, so near-tied logits of this tiny model eventually flip.
# 2. When MATRIX_MODEL (a llama2.c .bin whose rows are multiples of 32, e.g. the 110M shape from
#    `pplug random-model`) is set: pplug's f32 GGUF of it is quantized by llama-quantize --pure
#    to Q8_0 and Q4_0 and by pplug, and every tensor's bytes must be identical (needs Debian's
#    python3-numpy and llama.cpp's gguf-py beside its build: LLAMA_CPP_DIR/gguf-py).
set -euo pipefail
BIN=${1:?usage: check_gguf_with_llama_cpp.sh LLAMA_CPP_BUILD_BIN [MODEL.bin TOKENIZER.model]}
HERE="$(cd "$(dirname "$0")/.." && pwd)"
MODEL=${2:-"$HERE/../shared/models/stories260K/stories260K.bin"}
TOK=${3:-"$(dirname "$MODEL")/tok512.model"}
PPLUG=${PPLUG:-"$HERE/build/bin/pplug"}
PROMPT=${PROMPT:-"Once upon a time"}
N=${N:-200}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
status=0

for type in f32 f16 q8_0 q4_0; do
  gguf="$OUT/model-$type.gguf"
  "$PPLUG" convert --model "$MODEL" --tokenizer "$TOK" --out "$gguf" --dtype "$type" >/dev/null
  theirs=$("$BIN/llama-simple" -m "$gguf" -n "$N" "$PROMPT" 2>/dev/null | sed 's/^<s> *//')
  ours="$PROMPT$("$PPLUG" generate --model "$gguf" --prompt "$PROMPT" --max-new-tokens "$N")"
  # llama-simple counts the prompt's tokens in -n: compare over the shorter text.
  /usr/bin/python3 - "$type" "$ours" "$theirs" <<'PY' || status=1
import sys
t, a, b = sys.argv[1], sys.argv[2].strip(), sys.argv[3].strip()
n = min(len(a), len(b))
same = next((i for i in range(n) if a[i] != b[i]), n)
ok = same == n if t in ("f32", "f16") else same >= 100
print(f"{t}: pplug and llama.cpp greedy texts agree on {same} of {n} characters: "
      f"{'OK' if ok else 'DIFFER'}")
if not ok:
    print("  pplug:     ", a[:300]); print("  llama.cpp: ", b[:300])
sys.exit(0 if ok else 1)
PY
done

if [ -n "${MATRIX_MODEL:-}" ]; then
  GGUF_PY=${GGUF_PY:-"$(dirname "$(dirname "$BIN")")/../gguf-py"}
  "$PPLUG" convert --model "$MATRIX_MODEL" --out "$OUT/m-f32.gguf" >/dev/null 2>&1
  for type in q8_0 q4_0; do
    upper=$(echo "$type" | tr a-z A-Z)
    "$PPLUG" convert --model "$MATRIX_MODEL" --out "$OUT/m-pplug-$type.gguf" --dtype "$type" >/dev/null 2>&1
    "$BIN/llama-quantize" --pure "$OUT/m-f32.gguf" "$OUT/m-llama-$type.gguf" "$upper" >/dev/null 2>&1
    PYTHONPATH="$GGUF_PY" /usr/bin/python3 - "$OUT/m-pplug-$type.gguf" "$OUT/m-llama-$type.gguf" "$type" <<'PY' || status=1
import sys
import numpy as np
from gguf import GGUFReader
ours = {t.name: t for t in GGUFReader(sys.argv[1]).tensors}
theirs = {t.name: t for t in GGUFReader(sys.argv[2]).tensors}
def same(n):
    return (n in theirs and ours[n].tensor_type == theirs[n].tensor_type and
            np.array_equal(np.asarray(ours[n].data).view(np.uint8),
                           np.asarray(theirs[n].data).view(np.uint8)))
bad = [n for n in ours if not same(n)]
print(f"{sys.argv[3]}: {len(ours) - len(bad)} of {len(ours)} tensors byte-identical to "
      f"llama-quantize --pure{': ' + ', '.join(bad[:5]) if bad else ''}")
sys.exit(1 if bad else 0)
PY
  done
fi
exit $status
