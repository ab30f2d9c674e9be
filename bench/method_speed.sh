#!/usr/bin/env bash
# Training and inference speed of every method, per synthetic kind, on the frozen stories260K:
# one PPlug training run (seed 1) and one eval per method, each timed (wall time, peak RSS) by
# scripts/results.sh, then tabulated. Run it on a quiet machine; ~10 minutes on 2 cores.
# Usage: bench/method_speed.sh [OUT_DIR]   (default out/speed; needs build/bin/pplug)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-out/speed}"
PPLUG_KINDS="${PPLUG_KINDS:-rating tagging headline tweet}" PPLUG_SEEDS=1 PPLUG_VARIANTS=pplug \
  scripts/results.sh "$OUT" > "$OUT.log"
python3 bench/method_speed_table.py "$OUT"
