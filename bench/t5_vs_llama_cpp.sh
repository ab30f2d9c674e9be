#!/usr/bin/env bash
# T5 speed against llama.cpp on the same random FlanT5-base-shaped weights (d 768, 12 + 12
# blocks, 12 heads of 64, d_ff 2048, vocab 32128): encoding a 256-token input and the decoder
# step, f32 and bf16, 2 threads, best of R alternating runs. Not part of CI: it needs a llama.cpp
# build with encoder-decoder support (c392e5094 has it) and writes ~3 GB under a temp folder.
#
#   bench/t5_vs_llama_cpp.sh LLAMA_CPP_BUILD_BIN [REPEATS]
#
# pplug: `pplug bench` over the GGUF (--dtype f32 / bf16). llama.cpp: llama-cli's own timings
# ("prompt eval" = the encoder over the input plus the first decoder step, "eval" = one decoder
# step per token), with --ignore-eos so both decode 64 tokens.
set -euo pipefail
BIN=${1:?usage: t5_vs_llama_cpp.sh LLAMA_CPP_BUILD_BIN [REPEATS]}
R=${2:-3}
HERE="$(cd "$(dirname "$0")/.." && pwd)"
PPLUG=${PPLUG:-"$HERE/build/bin/pplug"}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
/usr/bin/python3 "$HERE/bench/t5_llama_cpp_parity.py" --out "$OUT" --seed 1 --d-model 768 \
  --layers 12 --heads 12 --d-kv 64 --d-ff 2048 --vocab 32128 > /dev/null
"$BIN/llama-quantize" "$OUT/t5.gguf" "$OUT/t5-bf16.gguf" bf16 > /dev/null 2>&1
# 255 one-piece words; the tokenizer appends </s>: 256 encoder tokens.
PROMPT=$(python3 -c "w='the cat sat on the mat and ran to park big small red blue green house tree sun moon star sky sea fish bird song play happy sad day night home'.split(); print(' '.join((w*20)[:255]))")
best() { sort -g | tail -1; }
for dtype in f32 bf16; do
  gguf="$OUT/t5.gguf"; [ "$dtype" = bf16 ] && gguf="$OUT/t5-bf16.gguf"
  : > "$OUT/pp_enc"; : > "$OUT/pp_dec"; : > "$OUT/ll_enc"; : > "$OUT/ll_dec"
  for _ in $(seq "$R"); do
    j=$("$PPLUG" bench --model "$OUT/t5.gguf" --dtype "$dtype" --prompt-tokens 256 --new-tokens 64 \
      --threads 2 --repeats 1 2> /dev/null | tail -1)
    echo "$j" | python3 -c "import json,sys; print(json.load(sys.stdin)['prefill_tok_s'])" >> "$OUT/pp_enc"
    echo "$j" | python3 -c "import json,sys; print(json.load(sys.stdin)['decode_tok_s'])" >> "$OUT/pp_dec"
    "$BIN/llama-cli" -m "$gguf" -p "$PROMPT" -n 64 --temp 0 -no-cnv -t 2 --ignore-eos \
      --no-warmup < /dev/null > /dev/null 2> "$OUT/ll.err"
    grep 'prompt eval time' "$OUT/ll.err" | sed 's/.*, *\([0-9.]*\) tokens per second.*/\1/' >> "$OUT/ll_enc"
    grep ' eval time' "$OUT/ll.err" | grep -v prompt | sed 's/.*, *\([0-9.]*\) tokens per second.*/\1/' >> "$OUT/ll_dec"
  done
  pe=$(best < "$OUT/pp_enc"); pd=$(best < "$OUT/pp_dec")
  le=$(best < "$OUT/ll_enc"); ld=$(best < "$OUT/ll_dec")
  python3 -c "
pe, pd, le, ld = $pe, $pd, $le, $ld
print(f'$dtype  encode 256: pplug {pe:7.1f} tok/s, llama.cpp {le:7.1f} tok/s, ratio {pe/le:5.2f}x | '
      f'decoder step: pplug {pd:6.1f} tok/s, llama.cpp {ld:6.1f} tok/s, ratio {pd/ld:5.2f}x')"
done
