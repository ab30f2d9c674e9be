"""Turns scripts/results.sh's scores.jsonl into markdown tables (mean and spread over seeds)."""
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
out = sys.argv[2]
for kind in dict.fromkeys(r["kind"] for r in rows):
    stats = json.load(open(f"{out}/data_{kind}/stats.json"))["splits"]["test"]
    keys = [k for k in ("accuracy", "f1", "MAE", "RMSE", "rouge-1", "rouge-L") if k in stats["floor"]]
    print(f"### {kind} ({stats.get('questions', '?')} test questions)\n")
    print("| method | seeds | " + " | ".join(keys) + " |")
    print("|---|---|" + "---|" * len(keys))
    for method in dict.fromkeys(r["method"] for r in rows if r["kind"] == kind):
        runs = [r for r in rows if r["kind"] == kind and r["method"] == method]
        cells = []
        for k in keys:
            values = [r["scores"][k] for r in runs]
            spread = f" ± {statistics.stdev(values):.3f}" if len(values) > 1 else ""
            cells.append(f"{statistics.mean(values):.3f}{spread}")
        print(f"| {method} | {len(runs)} | " + " | ".join(cells) + " |")
    for ref in ("floor", "ceiling"):
        print(f"| generator {ref} | - | " + " | ".join(f"{stats[ref][k]:.3f}" for k in keys) + " |")
    print()
