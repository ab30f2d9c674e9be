#!/usr/bin/env bash
# Regenerates the tables of docs/results.md: every method and ablation on the synthetic kinds,
# trained over the frozen stories260K with several seeds. Long: about 2 minutes per training run
# on 2 cores. Usage: scripts/results.sh [OUT_DIR]. Choose runs with PPLUG_KINDS (rating tagging
# tagging-by-topic headline tweet), PPLUG_SEEDS, PPLUG_VARIANTS (default default-mean pplug no-persona no-instruction
# mean learned-temperature prompt-query keyed keyed-p2 keyed-p2-learned keyed-cosine keyed-mean
# standardized) and PPLUG_BASELINES (none rag-bm25; empty for none). The pplug variant is also
# evaluated as pplug-rag. Wall time and peak memory of every train and eval go to OUT/timings.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
PPLUG=build/bin/pplug
MODEL="${PPLUG_MODEL:-../shared/models/stories260K}"
OUT="${1:-out/results}"
KINDS="${PPLUG_KINDS:-rating tagging}"
SEEDS="${PPLUG_SEEDS:-1 2 3}"
VARIANTS="${PPLUG_VARIANTS:-pplug no-persona no-instruction mean}"
BASELINES="${PPLUG_BASELINES-none rag-bm25}"
ENCODER="${PPLUG_ENCODER:-llm:last}"
# The variants are changes to the documented stories260K recipe of docs/results.md, which starts
# from the paper's settings (--recipe reference); `default` is `pplug train` with no recipe flag.
COMMON=(--recipe reference --epochs "${PPLUG_EPOCHS:-6}" --lr 1e-2 --placement before-answer --no-eos)
mkdir -p "$OUT"
RESULTS="$OUT/scores.jsonl"
TIMINGS="$OUT/timings.jsonl"
: > "$RESULTS"
: > "$TIMINGS"

# timed LABEL CMD...: runs CMD, appends its wall time and peak RSS to timings.jsonl.
timed() {
  local label="$1" stats
  shift
  stats=$(mktemp)
  /usr/bin/time -f '%e %M' -o "$stats" "$@"
  read -r wall rss < "$stats"
  rm -f "$stats"
  echo "{\"run\":\"$label\",\"wall_s\":$wall,\"peak_rss_mb\":$((rss / 1024))}" >> "$TIMINGS"
}

# evaluate KIND METHOD SEED PREDS [ARGS...]: one eval, its scores appended to scores.jsonl.
evaluate() {
  local kind="$1" method="$2" seed="$3" preds="$4" s
  shift 4
  timed "eval_${kind}_${method}_$seed" $PPLUG eval "${EVAL[@]}" --preds-out "$preds" "$@" > "$preds.log"
  s=$(tail -n 1 "$preds.log")
  echo "{\"kind\":\"$kind\",\"method\":\"$method\",\"seed\":$seed,\"scores\":$s}" | tee -a "$RESULTS"
}

for kind in $KINDS; do
  case "$kind" in rating) task=LaMP_3 ;; tagging|tagging-by-topic) task=LaMP_2 ;; headline) task=LaMP_4 ;; tweet) task=LaMP_7 ;; esac
  data="$OUT/data_$kind"
  [ -f "$data/stats.json" ] || $PPLUG synth --kind "$kind" --users 200 --seed 1 --out "$data" > /dev/null
  EVAL=(--model "$MODEL" --task "$task" --questions "$data/test_questions.json"
        --outputs "$data/test_outputs.json" --threads 1 --no-progress)
  for method in $BASELINES; do
    evaluate "$kind" "$method" 0 "$OUT/preds_${kind}_$method.json" --method "$method" --k 4
  done
  for variant in $VARIANTS; do
    enc="$ENCODER"
    case "$variant" in
      pplug) flags=() ;; no-persona) flags=(--no-persona) ;;
      # What `pplug train` does with no recipe flag (--recipe auto, chosen for the model).
      default) enc=""; flags=() ;;
      # The same with the input-blind mean aggregator (the paper's ablation).
      default-mean) enc=""; flags=(--aggregator mean) ;;
      # Input-aware: items matched by mean-pooled keys, standardized scores at T = 0.3.
      keyed) enc="llm:last/mean"; flags=(--scores standardized --temperature 0.3) ;;
      keyed-p2) enc="llm:last/mean"; flags=(--scores standardized --temperature 0.3 --persona-tokens 2) ;;
      # The same with the temperature learned from a flat start (T = 1).
      keyed-p2-learned) enc="llm:last/mean"; flags=(--scores standardized --aggregator learned-temperature --temperature 1 --persona-tokens 2) ;;
      keyed-cosine) enc="llm:last/mean"; flags=() ;;
      standardized) flags=(--scores standardized --temperature 0.3) ;;
      keyed-mean) enc="llm:last/mean"; flags=(--aggregator mean) ;;
      no-instruction) flags=(--no-instruction) ;; mean) flags=(--aggregator mean) ;;
      learned-temperature) flags=(--aggregator learned-temperature) ;;
      prompt-query) flags=(--query-source prompt) ;;
      *) echo "unknown variant '$variant'" >&2; exit 2 ;;
    esac
    for seed in $SEEDS; do
      run="$OUT/run_${kind}_${variant}_$seed"
      rm -rf "$run"
      recipe=("${COMMON[@]}" --encoder "$enc")
      [[ "$variant" == default* ]] && recipe=()
      timed "train_${kind}_${variant}_$seed" $PPLUG train --model "$MODEL" --task "$task" \
        --train-questions "$data/train_questions.json" --train-outputs "$data/train_outputs.json" \
        --out "$run" --seed "$seed" --threads 1 --no-progress "${recipe[@]}" "${flags[@]}" > "$run.log" 2>&1
      # The plug-in records its encoder: eval needs no --encoder.
      evaluate "$kind" "$variant" "$seed" "$run/preds.json" --method pplug --plugin "$run/best"
      if [ "$variant" = pplug ]; then
        evaluate "$kind" pplug-rag "$seed" "$run/preds_rag.json" --method pplug-rag --plugin "$run/best"
      fi
    done
  done
done
python3 scripts/results_table.py "$RESULTS" "$OUT" > "$OUT/results.md"
cat "$OUT/results.md"
