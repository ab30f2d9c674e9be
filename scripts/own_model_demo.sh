#!/usr/bin/env bash
# Personalizing a model of your own, shown on what this machine has: a small random model of
# Qwen3's architecture (q/k norms, head_dim, tied head) with the real Qwen3 tokenizer.json, as
# an HF folder and as the GGUF `pplug convert` writes. The same commands take a real Qwen,
# Llama 3, Gemma or Phi-3 folder or GGUF (README, "Your own model"). Needs a build (scripts/setup.sh).
#   PPLUG_OWN_OUT   output folder (default out/own-model)
set -euo pipefail
cd "$(dirname "$0")/.."
PPLUG=build/bin/pplug
OUT="${PPLUG_OWN_OUT:-out/own-model}"
TOK=../shared/models/qwen3-tokenizer
rm -rf "$OUT"
mkdir -p "$OUT"
# Qwen3's 151936-row embedding (the tokenizer has 151669 ids; the padding rows are never sampled).
$PPLUG random-model --model-type qwen3 --dim 64 --hidden 128 --layers 2 --heads 4 --kv-heads 2 \
  --head-dim 32 --vocab 151936 --seq-len 512 --format hf --init-std 0.3 --seed 1 \
  --tokenizer "$TOK" --out "$OUT/qwen3-tiny" > /dev/null
$PPLUG synth --kind rating --users 40 --seed 1 --out "$OUT/data" > /dev/null
echo "== training Persona-Plug over the frozen Qwen3-shaped model"
$PPLUG train --model "$OUT/qwen3-tiny" --task LaMP_3 \
  --train-questions "$OUT/data/train_questions.json" --train-outputs "$OUT/data/train_outputs.json" \
  --epochs 1 --threads 1 --no-progress --out "$OUT/run" | tail -n 1
echo "== the plug-in over the HF folder, then over its GGUF (same model: same fingerprint)"
EVAL=(--task LaMP_3 --questions "$OUT/data/test_questions.json"
      --outputs "$OUT/data/test_outputs.json" --method pplug --plugin "$OUT/run/best"
      --threads 1 --no-progress)
$PPLUG eval --model "$OUT/qwen3-tiny" "${EVAL[@]}" --preds-out "$OUT/preds_hf.json" | tail -n 1
# The GGUF holds the tokenizer.json's vocabulary (tokenizer.ggml.model gpt2, pre qwen2): one file.
$PPLUG convert --model "$OUT/qwen3-tiny" --out "$OUT/qwen3-tiny.gguf" > /dev/null
$PPLUG eval --model "$OUT/qwen3-tiny.gguf" "${EVAL[@]}" --preds-out "$OUT/preds_gguf.json" | tail -n 1
cmp -s "$OUT/preds_hf.json" "$OUT/preds_gguf.json" && echo "same predictions from both files"
