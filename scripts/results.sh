#!/usr/bin/env bash
# Regenerates the tables of docs/results.md: every method and ablation on the synthetic kinds,
# trained over the frozen stories260K with several seeds. Long: about 2 minutes per training run
# on 2 cores. Usage: scripts/results.sh [OUT_DIR] (kinds: PPLUG_KINDS, seeds: PPLUG_SEEDS).
set -euo pipefail
cd "$(dirname "$0")/.."
PPLUG=build/bin/pplug
MODEL="${PPLUG_MODEL:-../shared/models/stories260K}"
OUT="${1:-out/results}"
KINDS="${PPLUG_KINDS:-rating tagging}"
SEEDS="${PPLUG_SEEDS:-1 2 3}"
VARIANTS="${PPLUG_VARIANTS:-pplug no-persona no-instruction mean}"
ENCODER="${PPLUG_ENCODER:-llm:last}"
COMMON=(--encoder "$ENCODER" --epochs "${PPLUG_EPOCHS:-6}" --lr 1e-2 --placement before-answer --no-eos --threads 1 --no-progress)
mkdir -p "$OUT"
RESULTS="$OUT/scores.jsonl"
: > "$RESULTS"
for kind in $KINDS; do
  case "$kind" in rating) task=LaMP_3 ;; tagging) task=LaMP_2 ;; headline) task=LaMP_4 ;; tweet) task=LaMP_7 ;; esac
  data="$OUT/data_$kind"
  [ -f "$data/stats.json" ] || $PPLUG synth --kind "$kind" --users 200 --seed 1 --out "$data" > /dev/null
  EVAL=(--model "$MODEL" --task "$task" --questions "$data/test_questions.json"
        --outputs "$data/test_outputs.json" --threads 1 --no-progress)
  for method in none rag-bm25; do
    s=$($PPLUG eval "${EVAL[@]}" --method "$method" --k 4 --preds-out "$OUT/preds_${kind}_$method.json" | tail -n 1)
    echo "{\"kind\":\"$kind\",\"method\":\"$method\",\"seed\":0,\"scores\":$s}" | tee -a "$RESULTS"
  done
  for variant in $VARIANTS; do
    case "$variant" in
      pplug) flags=() ;; no-persona) flags=(--no-persona) ;;
      no-instruction) flags=(--no-instruction) ;; mean) flags=(--aggregator mean) ;;
    esac
    for seed in $SEEDS; do
      run="$OUT/run_${kind}_${variant}_$seed"
      rm -rf "$run"
      $PPLUG train --model "$MODEL" --task "$task" --train-questions "$data/train_questions.json" \
        --train-outputs "$data/train_outputs.json" --out "$run" --seed "$seed" "${COMMON[@]}" \
        "${flags[@]}" > "$run.log" 2>&1
      s=$($PPLUG eval "${EVAL[@]}" --method pplug --encoder "$ENCODER" --plugin "$run/best" --preds-out "$run/preds.json" | tail -n 1)
      echo "{\"kind\":\"$kind\",\"method\":\"$variant\",\"seed\":$seed,\"scores\":$s}" | tee -a "$RESULTS"
    done
  done
done
python3 scripts/results_table.py "$RESULTS" "$OUT" > "$OUT/results.md"
cat "$OUT/results.md"
