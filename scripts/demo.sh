#!/usr/bin/env bash
# The main job: set-up, then generate text from the real stories260K model
# (or PPLUG_MODEL / the first argument).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
MODEL="${1:-${PPLUG_MODEL:-../shared/models/stories260K}}"
build/bin/pplug generate --model "$MODEL" --prompt "Once upon a time" --max-new-tokens 64
