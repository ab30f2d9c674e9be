#!/usr/bin/env bash
# Data-parallel training speed on this machine: `pplug train --nproc 2 --threads 1` (two ranks,
# half the batch each) against one process with `--threads 2` and the whole batch, the same
# steps, alternating for a few rounds because the machine is noisy. Prints one JSON line per run
# and a summary per kind: training examples/s (from the first step on, as `pplug train` reports
# it), wall time of the whole command, and the peak memory of the largest process.
#
#   bench/data_parallel.sh [OUT_DIR]
#
# Environment: PPLUG_KINDS (default "rating tagging"), PPLUG_ROUNDS (default 3), PPLUG_EPOCHS
# (default 2), PPLUG_BATCH (global batch, default 8), PPLUG_BIN (default build/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-out/data_parallel}"
KINDS="${PPLUG_KINDS:-rating tagging}"
ROUNDS="${PPLUG_ROUNDS:-3}"
EPOCHS="${PPLUG_EPOCHS:-2}"
BATCH="${PPLUG_BATCH:-8}"
BIN="${PPLUG_BIN:-build/bin}"
MODEL="${PPLUG_MODEL:-../shared/models/stories260K}"
mkdir -p "$OUT"
RESULTS="$OUT/runs.jsonl"
: > "$RESULTS"

# run KIND MODE ROUND FLAGS...: one training, its figures appended to runs.jsonl.
run() {
  local kind="$1" mode="$2" round="$3" task stats summary
  shift 3
  case "$kind" in rating) task=LaMP_3 ;; *) task=LaMP_2 ;; esac
  local data="$OUT/data_$kind" dir="$OUT/${kind}_${mode}_$round"
  rm -rf "$dir"
  stats=$(mktemp)
  /usr/bin/time -f '%e %M' -o "$stats" "$BIN/pplug" train --model "$MODEL" --task "$task" \
    --train-questions "$data/train_questions.json" --train-outputs "$data/train_outputs.json" \
    --epochs "$EPOCHS" --seed 1 --no-progress --out "$dir" "$@" > "$dir.json" 2> "$dir.log"
  read -r wall rss < "$stats"
  rm -f "$stats"
  summary=$(tail -n 1 "$dir.json")
  python3 -c "import json,sys; s=json.loads(sys.argv[1]); print(json.dumps({'kind':sys.argv[2],'mode':sys.argv[3],'round':int(sys.argv[4]),'examples_per_s':s['examples_per_s'],'wall_s':float(sys.argv[5]),'peak_rss_mb':int(sys.argv[6])//1024,'steps':s['steps']}))" \
    "$summary" "$kind" "$mode" "$round" "$wall" "$rss" | tee -a "$RESULTS"
}

for kind in $KINDS; do
  [ -f "$OUT/data_$kind/stats.json" ] || "$BIN/pplug" synth --kind "$kind" --users 200 --seed 1 --out "$OUT/data_$kind" > /dev/null
  for round in $(seq 1 "$ROUNDS"); do
    run "$kind" one-process "$round" --threads 2 --batch-size "$BATCH"
    run "$kind" nproc2 "$round" --nproc 2 --threads 1 --batch-size $((BATCH / 2))
  done
done
python3 - "$RESULTS" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
for kind in dict.fromkeys(r["kind"] for r in runs):
    def med(mode, key):
        return statistics.median(r[key] for r in runs if r["kind"] == kind and r["mode"] == mode)
    one, two = med("one-process", "examples_per_s"), med("nproc2", "examples_per_s")
    print(json.dumps({"kind": kind, "one_process_examples_per_s": round(one, 1),
                      "nproc2_examples_per_s": round(two, 1), "ratio": round(two / one, 2),
                      "one_process_wall_s": med("one-process", "wall_s"),
                      "nproc2_wall_s": med("nproc2", "wall_s"),
                      "one_process_peak_mb": med("one-process", "peak_rss_mb"),
                      "nproc2_peak_mb_per_process": med("nproc2", "peak_rss_mb")}))
PY
