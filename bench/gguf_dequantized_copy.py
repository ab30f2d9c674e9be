#!/usr/bin/python3
"""Copies a GGUF file with every tensor expanded to F32 by gguf-py's own dequantizers (metadata
kept): llama.cpp then computes in float with exactly the quantized file's weights, which
separates the weights' expansion from llama.cpp's 8-bit activation rounding in K-quant products
(tests/models/data/llama_cpp_families/README.md, kquant/*.dequantized.json).

    /usr/bin/python3 bench/gguf_dequantized_copy.py IN.gguf OUT.gguf   (GGUF_PY: llama.cpp's gguf-py)
"""
import os
import sys, numpy as np
sys.path.insert(0, os.environ.get("GGUF_PY", "/work/ref/llama.cpp/gguf-py"))
import gguf
from gguf import GGUFReader, GGUFWriter, GGUFValueType
src, dst = sys.argv[1], sys.argv[2]
r = GGUFReader(src)
w = GGUFWriter(dst, "llama")
for f in r.fields.values():
    if f.name.startswith("GGUF.") or f.name == "general.architecture": continue
    t = f.types[0]
    if t == GGUFValueType.ARRAY:
        sub = f.types[-1]
        if sub == GGUFValueType.STRING:
            vals = [bytes(f.parts[i]).decode() for i in f.data]
        else:
            vals = [f.parts[i].tolist()[0] for i in f.data]
        w.add_array(f.name, vals)
    elif t == GGUFValueType.STRING:
        w.add_string(f.name, bytes(f.parts[f.data[0]]).decode())
    else:
        w.add_key_value(f.name, f.parts[f.data[0]].tolist()[0], t)
for t in r.tensors:
    d = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
    w.add_tensor(t.name, d.reshape([int(x) for x in reversed(t.shape)]) if d.ndim == 1 and len(t.shape) > 1 else d)
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
