"""Tabulates bench/method_speed.sh: training examples/s, wall time and peak memory per kind, and
eval wall time, per-question time and peak memory per method (from OUT/timings.jsonl, the
training summaries in OUT/run_*.log and the question counts in OUT/data_*/stats.json)."""
import json
import sys

out = sys.argv[1]
timings = [json.loads(line) for line in open(f"{out}/timings.jsonl") if line.strip()]
questions = {}


def test_questions(kind):
    if kind not in questions:
        stats = json.load(open(f"{out}/data_{kind}/stats.json"))
        questions[kind] = stats["splits"]["test"]["questions"]
    return questions[kind]


print("### Training (6 epochs, batch 8, 1 thread)\n")
print("| kind | variant | examples/s | wall s | peak RSS MB |")
print("|---|---|---|---|---|")
for t in timings:
    if not t["run"].startswith("train_"):
        continue
    _, kind, variant, seed = t["run"].split("_")
    log = f"{out}/run_{kind}_{variant}_{seed}.log"
    summary = json.loads([line for line in open(log) if line.startswith("{")][-1])
    print(f"| {kind} | {variant} | {summary['examples_per_s']:.1f} | {t['wall_s']:.1f} | {t['peak_rss_mb']} |")

print("\n### Inference (test split, 1 thread; wall time includes loading and user embedding)\n")
print("| kind | method | questions | wall s | ms / question | peak RSS MB |")
print("|---|---|---|---|---|---|")
for t in timings:
    if not t["run"].startswith("eval_"):
        continue
    _, kind, method, _ = t["run"].split("_")
    n = test_questions(kind)
    print(f"| {kind} | {method} | {n} | {t['wall_s']:.2f} | {1000 * t['wall_s'] / n:.1f} | "
          f"{t['peak_rss_mb']} |")
