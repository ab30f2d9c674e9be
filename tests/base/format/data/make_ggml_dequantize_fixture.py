#!/usr/bin/env python3
"""Writes ggml_dequantize_fixture.json beside this script: for each block type pplug expands
(format/ggml_dequantize.h), a few blocks of pseudo-random bytes whose f16 scales are set to
chosen finite values, and what llama.cpp's Python package (gguf-py, gguf.quants.dequantize)
expands them to. The test (tests/base/format/ggml_dequantize_test.cpp) requires bitwise equality.

Run from the repository root, with numpy and llama.cpp's gguf-py:
  PYTHONPATH=/work/ref/llama.cpp/gguf-py /usr/bin/python3 \\
      tests/base/format/data/make_ggml_dequantize_fixture.py
"""
import json
import os
import random
import subprocess

import numpy as np
from gguf import quants
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T

# type -> (blocks, byte offsets of the block's f16 scales, the values set there, per block).
# The values cover normal, negative and subnormal halves (6e-8 and 3e-6 are below f16's smallest
# normal, 6.1e-5) and a zero min.
CASES = [
    (T.Q4_1, 2, (0, 2), [(0.25, -1.5), (3e-6, 0.1)]),
    (T.Q5_0, 2, (0,), [(0.0625,), (-3.25,)]),
    (T.Q5_1, 2, (0, 2), [(0.0123, -0.2), (-0.5, 0.0)]),
    (T.Q2_K, 1, (80, 82), [(0.031, 0.0071)]),
    (T.Q3_K, 1, (108,), [(-0.0042,)]),
    (T.Q4_K, 1, (0, 2), [(0.0123, 0.00456)]),
    (T.Q5_K, 1, (0, 2), [(-0.75, 6e-8)]),
    (T.Q6_K, 1, (208,), [(0.002,)]),
]


def llama_cpp_commit():
    root = os.path.dirname(os.path.dirname(os.path.abspath(quants.__file__)))
    try:
        return subprocess.check_output(["git", "-C", root, "rev-parse", "HEAD"], text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    rng = random.Random(20240611)
    entries = []
    for qtype, blocks, offsets, halves in CASES:
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        raw = bytearray()
        for b in range(blocks):
            block = bytearray(rng.randbytes(type_size))
            for offset, value in zip(offsets, halves[b]):
                block[offset:offset + 2] = np.array([value], dtype="<f2").tobytes()
            raw += block
        data = np.frombuffer(bytes(raw), dtype=np.uint8).reshape(1, -1)
        out = quants.dequantize(data, qtype).astype("<f4").reshape(-1)
        assert out.size == blocks * block_size and np.all(np.isfinite(out))
        entries.append({
            "type": int(qtype),
            "name": qtype.name,
            "n": int(out.size),
            "bytes": bytes(raw).hex(),
            "expected_f32_le": out.tobytes().hex(),
        })
    fixture = {
        "about": "Blocks of pseudo-random bytes (f16 scales set to chosen values) and their "
                 "float32 expansion by llama.cpp's gguf-py (gguf.quants.dequantize); written by "
                 "make_ggml_dequantize_fixture.py. bytes: the blocks, hex; expected_f32_le: the "
                 "n float32 values, little-endian, hex.",
        "llama_cpp_commit": llama_cpp_commit(),
        "types": entries,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ggml_dequantize_fixture.json")
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
