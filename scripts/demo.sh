#!/usr/bin/env bash
# The main job, end to end on a fresh machine: set-up and build, a synthetic LaMP-format
# personalization benchmark, Persona-Plug trained over the frozen real stories260K model, and a
# comparison with no personalization, BM25 retrieval and the no-persona ablation.
#   PPLUG_MODEL       model path (default ../shared/models/stories260K)
#   PPLUG_DEMO_KIND   synthetic kind: rating (default), tagging or tagging-by-topic
#   PPLUG_DEMO_OUT    output folder (default out/demo)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
PPLUG=build/bin/pplug
MODEL="${PPLUG_MODEL:-../shared/models/stories260K}"
KIND="${PPLUG_DEMO_KIND:-rating}"
OUT="${PPLUG_DEMO_OUT:-out/demo}"
# `pplug train` chooses its settings for the model (--recipe auto, docs/training.md): for
# stories260K the input-aware recipe with the small-LLM optimizer and targets without EOS (its
# llama2.c pretraining never saw EOS). PPLUG_DEMO_EPOCHS overrides its 6 epochs.
EPOCHS=()
[ -n "${PPLUG_DEMO_EPOCHS:-}" ] && EPOCHS=(--epochs "$PPLUG_DEMO_EPOCHS")
case "$KIND" in
  rating) TASK=LaMP_3 ;;
  tagging|tagging-by-topic) TASK=LaMP_2 ;;
  *) echo "PPLUG_DEMO_KIND must be rating, tagging or tagging-by-topic" >&2; exit 2 ;;
esac
rm -rf "$OUT"
mkdir -p "$OUT"
DATA="$OUT/data"
$PPLUG synth --kind "$KIND" --users 200 --seed 1 --out "$DATA" > /dev/null
TRAIN=(--model "$MODEL" --task "$TASK" --train-questions "$DATA/train_questions.json"
       --train-outputs "$DATA/train_outputs.json" --dev-questions "$DATA/dev_questions.json"
       --dev-outputs "$DATA/dev_outputs.json" "${EPOCHS[@]}" --threads 1 --no-progress)
echo "== training Persona-Plug ($TASK, $KIND, frozen $(basename "$MODEL"))"
$PPLUG train "${TRAIN[@]}" --out "$OUT/pplug" | tail -n 1
echo "== training the no-persona ablation"
$PPLUG train "${TRAIN[@]}" --no-persona --out "$OUT/no-persona" | tail -n 1

EVAL=(--model "$MODEL" --task "$TASK" --questions "$DATA/test_questions.json"
      --outputs "$DATA/test_outputs.json" --threads 1 --no-progress)
declare -A SCORES
SCORES[none]=$($PPLUG eval "${EVAL[@]}" --method none --preds-out "$OUT/preds_none.json" | tail -n 1)
SCORES[rag-bm25]=$($PPLUG eval "${EVAL[@]}" --method rag-bm25 --k 4 --preds-out "$OUT/preds_rag.json" | tail -n 1)
SCORES[no-persona]=$($PPLUG eval "${EVAL[@]}" --method pplug --plugin "$OUT/no-persona/best" --preds-out "$OUT/preds_nopersona.json" | tail -n 1)
SCORES[pplug]=$($PPLUG eval "${EVAL[@]}" --method pplug --plugin "$OUT/pplug/best" --preds-out "$OUT/preds_pplug.json" | tail -n 1)

python3 - "$OUT" "$DATA/stats.json" "$TASK" "${SCORES[none]}" "${SCORES[rag-bm25]}" "${SCORES[no-persona]}" "${SCORES[pplug]}" <<'PY'
import json, sys
out, stats_path, task = sys.argv[1:4]
rows = [("no personalization (frozen LLM)", sys.argv[4]), ("BM25 retrieval, k=4", sys.argv[5]),
        ("PPlug without persona token (trained)", sys.argv[6]), ("PPlug", sys.argv[7])]
stats = json.load(open(stats_path))["splits"]["test"]
keys = ["MAE", "RMSE"] if task == "LaMP_3" else ["accuracy", "f1"]
lines = [f"# pplug demo: {task} ({'lower is better' if task == 'LaMP_3' else 'higher is better'})", "",
         "| method | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
for name, js in rows:
    s = json.loads(js)
    lines.append(f"| {name} | " + " | ".join(f"{s[k]:.3f}" for k in keys) + " |")
for ref in ("floor", "ceiling"):
    lines.append(f"| generator's {ref} | " + " | ".join(f"{stats[ref][k]:.3f}" for k in keys) + " |")
text = "\n".join(lines) + "\n"
open(f"{out}/results.md", "w").write(text)
print(text)
PY
echo "(written to $OUT/results.md)"
