#!/usr/bin/env bash
# pplug's T5 against llama.cpp's on the same random weights (a FlanT5-layout model written by
# bench/t5_llama_cpp_parity.py as a GGUF with a small unigram vocabulary, and as an HF folder).
# Not part of CI: it needs a llama.cpp build (encoder-decoder support: c392e5094 has it).
#
#   bench/t5_llama_cpp_parity.sh LLAMA_CPP_BUILD_BIN [N_NEW_TOKENS]
#
# For each prompt and seed, llama-cli (greedy, -v) prints its encoder input ids and every token
# it feeds back; `pplug generate --print-ids` prints the same from the GGUF and from the HF
# folder (tokenized by the GGUF's vocabulary). Encoder ids and the generated ids must agree.
set -euo pipefail
BIN=${1:?usage: t5_llama_cpp_parity.sh LLAMA_CPP_BUILD_BIN [N_NEW_TOKENS]}
N=${2:-24}
HERE="$(cd "$(dirname "$0")/.." && pwd)"
PPLUG=${PPLUG:-"$HERE/build/bin/pplug"}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
status=0
prompts=("the cat sat on the mat" "a big red house and a small blue tree" "happy fish play in the sea at night")
for seed in 1 2 3; do
  dir="$OUT/seed$seed"
  /usr/bin/python3 "$HERE/bench/t5_llama_cpp_parity.py" --out "$dir" --seed "$seed" > /dev/null
  for prompt in "${prompts[@]}"; do
    "$BIN/llama-cli" -m "$dir/t5.gguf" -p "$prompt" -n "$N" --temp 0 -no-cnv -t 1 --no-warmup -v \
      > "$dir/llama.out" 2> "$dir/llama.err" < /dev/null
    # Encoder input: the "tokens: [ 'piece':id, ... ]" line; generated: "eval: [ 'piece':id ]"
    # lines after the decoder start (the last sampled token is never fed back, so it is left out).
    llama_in=$(grep -m1 '^tokens: ' "$dir/llama.err" | grep -o ':[0-9][0-9]*' | tr -d ':' | tr '\n' ' ')
    llama_gen=$(grep '^eval: ' "$dir/llama.err" | tail -n +2 | grep -o ':[0-9][0-9]*' | tr -d ':' | tr '\n' ' ')
    for model in "$dir/t5.gguf" "$dir/hf"; do
      ids=$("$PPLUG" generate --model "$model" --tokenizer "$dir/t5.gguf" --prompt "$prompt" \
        --max-new-tokens "$N" --print-ids --threads 1 | tail -1)
      n_in=$(echo "$llama_in" | wc -w)
      pplug_in=$(echo "$ids" | tr ' ' '\n' | head -n "$n_in" | tr '\n' ' ')
      n_gen=$(echo "$llama_gen" | wc -w)
      pplug_gen=$(echo "$ids" | tr ' ' '\n' | tail -n +"$((n_in + 1))" | head -n "$n_gen" | tr '\n' ' ')
      if [ "$pplug_in" == "$llama_in" ] && [ "$pplug_gen" == "$llama_gen" ]; then
        echo "OK    seed $seed $(basename "$model") '$prompt': $n_in input ids, $n_gen generated ids agree"
      else
        echo "DIFF  seed $seed $(basename "$model") '$prompt'"
        echo "  llama.cpp in:  $llama_in"; echo "  pplug in:      $pplug_in"
        echo "  llama.cpp gen: $llama_gen"; echo "  pplug gen:     $pplug_gen"
        status=1
      fi
    done
  done
done
exit $status
