#!/usr/bin/env bash
# pplug against llama.cpp on the same weights, measured in the same run (alternating), batch 1.
#
#   bench/vs_llama_cpp.sh LLAMA_CPP_BUILD_BIN MODEL.bin [TYPES]
#
# LLAMA_CPP_BUILD_BIN: the bin/ folder of a llama.cpp build made outside this repo (llama-bench,
#   llama-quantize). MODEL.bin: a llama2.c checkpoint (`pplug random-model ...`); its GGUF copies
#   MODEL-TYPE.gguf must exist beside it: `pplug convert --model MODEL.bin --out MODEL-TYPE.gguf
#   --dtype TYPE` makes each (byte-identical to llama-quantize --pure), and `llama-quantize
#   MODEL-f32.gguf MODEL-q4_0.gguf Q4_0` makes llama.cpp's default Q4_0 mix (Q6_K head).
# TYPES: default "f32 bf16 f16 q8_0 q4_0"; a type TYPE-SUFFIX (e.g. q4_0-pure, a file quantized
#   with llama-quantize --pure, which keeps the output head in Q4_0 too) runs pplug at TYPE. Environment: THREADS ("1 2"), PP (64), TG (64),
#   REPS (3), PPLUG (build/bin/pplug), PPLUG_KERNELS (caps pplug's kernels, e.g. avx2), and
#   OMP_WAIT_POLICY (default active), applied to both engines: both use libgomp, whose default
#   spins (llama.cpp), while the pplug launcher defaults to passive (docs/benchmarks.md).
# The AVX2 path on an AVX-512 machine: cap the libraries pplug calls as well as its kernels,
#   PPLUG_KERNELS=avx2 DNNL_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 OPENBLAS_CORETYPE=Haswell,
#   against a llama.cpp built with -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=OFF.
# Prints one JSON line per (type, threads) with both engines' prefill and decode tok/s and the
# ratios pplug / llama.cpp; ROUNDS (2) repeats the whole alternation, each round a line.
set -euo pipefail
BIN=${1:?usage: vs_llama_cpp.sh LLAMA_CPP_BUILD_BIN MODEL.bin [TYPES]}
MODEL=${2:?usage: vs_llama_cpp.sh LLAMA_CPP_BUILD_BIN MODEL.bin [TYPES]}
TYPES=${3:-"f32 bf16 f16 q8_0 q4_0"}
THREADS=${THREADS:-"1 2"}
PP=${PP:-64} TG=${TG:-64} REPS=${REPS:-3} ROUNDS=${ROUNDS:-2}
PPLUG=${PPLUG:-"$(dirname "$0")/../build/bin/pplug"}
PREFIX=${MODEL%.bin}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-active}

for round in $(seq 1 "$ROUNDS"); do
  for type in $TYPES; do
    gguf="$PREFIX-$type.gguf"
    [ -f "$gguf" ] || { echo "missing $gguf (see the header of this script)" >&2; exit 1; }
    for t in $THREADS; do
      ours=$("$PPLUG" bench --model "$MODEL" --dtype "${type%%-*}" --threads "$t" \
        --prompt-tokens "$PP" --new-tokens "$TG" --repeats "$REPS")
      theirs=$("$BIN/llama-bench" -m "$gguf" -p "$PP" -n "$TG" -t "$t" -r "$REPS" -o json 2>/dev/null)
      /usr/bin/python3 - "$ours" "$theirs" "$type" "$t" "$round" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
# Best of the repetitions on both sides (pplug bench reports its best run).
ll = {("pp" if r["n_prompt"] > 0 else "tg"): max(r.get("samples_ts") or [r["avg_ts"]])
      for r in theirs}
print(json.dumps({
    "type": sys.argv[3], "threads": int(sys.argv[4]), "round": int(sys.argv[5]),
    "kernels": ours.get("kernels"), "omp_wait_policy": ours.get("omp_wait_policy"),
    "pplug_prefill": round(ours["prefill_tok_s"], 1), "llama_cpp_prefill": round(ll["pp"], 1),
    "prefill_ratio": round(ours["prefill_tok_s"] / ll["pp"], 3),
    "pplug_decode": round(ours["decode_tok_s"], 1), "llama_cpp_decode": round(ll["tg"], 1),
    "decode_ratio": round(ours["decode_tok_s"] / ll["tg"], 3)}))
PY
    done
  done
done
