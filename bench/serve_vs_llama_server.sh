#!/usr/bin/env bash
# `pplug serve` against llama.cpp's llama-server on the same GGUF weights, same run, same load:
# C concurrent clients (closed loop, bench/serve_load.py), greedy completions of TOKENS tokens.
#
#   bench/serve_vs_llama_server.sh LLAMA_CPP_BUILD_BIN MODEL.gguf
#
# LLAMA_CPP_BUILD_BIN: the bin/ folder of a llama.cpp build made outside this repo, with
#   llama-server (cmake -DLLAMA_BUILD_SERVER=ON). MODEL.gguf: e.g. the 15M shape,
#   `pplug random-model --shape 15M ...` then `pplug convert --out m15-f32.gguf`.
# Environment: CLIENTS ("1 4 16 64"), REQUESTS per client (4), TOKENS (64), THREADS (2),
#   USERS (64, histories of 8 items, for the personalized runs), PPLUG (build/bin/pplug),
#   PORT (18080), OMP_WAIT_POLICY (active, for both: docs/benchmarks.md).
# Both servers get as many decode slots as there are clients (--max-batch / --parallel), so
# each concurrency level measures batching, not queueing. Prints one JSON line per run:
# pplug plain, pplug personalized (every request names a user), llama-server plain.
set -euo pipefail
BIN=${1:?usage: serve_vs_llama_server.sh LLAMA_CPP_BUILD_BIN MODEL.gguf}
MODEL=${2:?usage: serve_vs_llama_server.sh LLAMA_CPP_BUILD_BIN MODEL.gguf}
HERE=$(cd "$(dirname "$0")" && pwd)
PPLUG=${PPLUG:-"$HERE/../build/bin/pplug"}
CLIENTS=${CLIENTS:-"1 4 16 64"} REQUESTS=${REQUESTS:-4} TOKENS=${TOKENS:-64}
THREADS=${THREADS:-2} USERS=${USERS:-64} PORT=${PORT:-18080}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-active}
WORK=$(mktemp -d /tmp/serve_bench.XXXXXX)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_healthy() {  # bounded: 120 s
  for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$PORT/health" > /dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died" >&2; return 1; }
    sleep 0.5
  done
  echo "server not healthy after 120 s" >&2
  return 1
}
stop_server() {
  kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
load() {  # label clients [extra args]
  local label=$1 clients=$2
  shift 2
  python3 "$HERE/serve_load.py" "http://127.0.0.1:$PORT" --clients "$clients" \
    --requests "$REQUESTS" --max-tokens "$TOKENS" --label "$label" "$@"
}

"$PPLUG" plugin-init --model "$MODEL" --task LaMP_7 --out "$WORK/plug" > /dev/null
for c in $CLIENTS; do
  "$PPLUG" serve --model "$MODEL" --plugin "$WORK/plug" --store "$WORK/store" --port "$PORT" \
    --max-batch "$c" --max-queue 1024 --threads "$THREADS" > "$WORK/pplug.log" 2>&1 &
  SERVER_PID=$!
  wait_healthy
  if [ ! -f "$WORK/users_done" ]; then
    for u in $(seq 0 $((USERS - 1))); do
      items=""
      for i in 1 2 3 4 5 6 7 8; do
        items="$items{\"id\":\"h$i\",\"text\":\"user $u wrote tweet $i about their day at the park\"},"
      done
      curl -sf -X PUT "http://127.0.0.1:$PORT/v1/users/u$u/history" \
        -H 'Content-Type: application/json' -d "[${items%,}]" > /dev/null
    done
    touch "$WORK/users_done"
  fi
  load pplug-plain "$c"
  load pplug-personalized "$c" --users "$USERS"
  stop_server

  "$BIN/llama-server" -m "$MODEL" --parallel "$c" -c $((c * 256)) -t "$THREADS" \
    --port "$PORT" --host 127.0.0.1 > "$WORK/llama.log" 2>&1 &
  SERVER_PID=$!
  wait_healthy
  load llama-server-plain "$c" --extra '{"cache_prompt": false}'
  stop_server
done
