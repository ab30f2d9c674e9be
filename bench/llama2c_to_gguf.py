#!/usr/bin/python3
"""Convert a llama2.c version-0 checkpoint to a GGUF file (arch `llama`, F32 tensors).

Uses the gguf Python package of a llama.cpp checkout (--gguf-py=DIR, its gguf-py folder), to make
the same weights readable by llama.cpp for bench/vs_llama_cpp.sh.
Tokenizer metadata (tokenizer.ggml.*) is copied from a vocab-only GGUF
(default: ../shared/models/gguf-vocab/ggml-vocab-llama-spm.gguf, 32000 tokens).

llama2.c q/k weights are in Meta's interleaved-pair RoPE layout, which is what
llama.cpp's `llama` arch (LLAMA_ROPE_TYPE_NORM) expects: no permutation.
(convert_hf_to_gguf.py / convert_legacy_llama.py permute only HF q_proj/k_proj,
and llama.cpp's examples/convert-llama2c-to-ggml copies llama2.c tensors as is.)

usage: /usr/bin/python3 llama2c_to_gguf.py --gguf-py=DIR IN.bin OUT.gguf [--vocab VOCAB.gguf] [--name NAME]
"""
import argparse
import os
import struct
import sys

import numpy as np

GGUF_PY = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--gguf-py=")), None)
if GGUF_PY is None:
    raise SystemExit("usage: llama2c_to_gguf.py --gguf-py=LLAMA_CPP_DIR/gguf-py IN.bin OUT.gguf [--vocab V.gguf]")
sys.argv = [a for a in sys.argv if not a.startswith("--gguf-py=")]
sys.path.insert(0, GGUF_PY)
import gguf  # noqa: E402
from gguf import GGUFReader, GGUFWriter, GGUFValueType  # noqa: E402

DEFAULT_VOCAB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "models", "gguf-vocab", "ggml-vocab-llama-spm.gguf")
RMS_EPS = 1e-5
ROPE_THETA = 10000.0


def field_value(field):
    """Python value of a GGUFReader field (scalar, string, or array)."""
    types = field.types
    if types[0] == GGUFValueType.ARRAY:
        sub = types[-1]
        if sub == GGUFValueType.STRING:
            return [bytes(field.parts[i]) for i in field.data], sub
        return [field.parts[i].tolist()[0] for i in field.data], sub
    if types[0] == GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8"), types[0]
    return field.parts[field.data[0]].tolist()[0], types[0]


def copy_tokenizer(writer, vocab_path, expect_vocab):
    r = GGUFReader(vocab_path)
    n_tokens = None
    for key, field in r.fields.items():
        if not key.startswith("tokenizer."):
            continue
        val, vtype = field_value(field)
        if field.types[0] == GGUFValueType.ARRAY:
            if key == "tokenizer.ggml.tokens":
                n_tokens = len(val)
            # this gguf-py infers the array element type from the first element
            if GGUFValueType.get_type(val[0]) != vtype:
                raise SystemExit(f"{key}: cannot reproduce array type {vtype.name}")
            writer.add_key_value(key, val, GGUFValueType.ARRAY)
        else:
            writer.add_key_value(key, val, vtype)
    if n_tokens != expect_vocab:
        raise SystemExit(f"vocab size mismatch: {vocab_path} has {n_tokens} tokens, model has {expect_vocab}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--vocab", default=DEFAULT_VOCAB)
    ap.add_argument("--name", default=None)
    a = ap.parse_args()

    with open(a.input, "rb") as f:
        hdr = struct.unpack("<7i", f.read(28))
    dim, hidden, n_layers, n_heads, n_kv_heads, vocab_size, seq_len = hdr
    tied = vocab_size > 0
    vocab = abs(vocab_size)
    head_size = dim // n_heads
    kv_dim = n_kv_heads * head_size
    L = n_layers
    print(f"llama2.c: dim={dim} hidden={hidden} layers={L} heads={n_heads} kv_heads={n_kv_heads} "
          f"vocab={vocab} seq_len={seq_len} tied={tied}")

    mm = np.memmap(a.input, dtype="<f4", mode="r", offset=28)
    off = 0

    def take(*shape):
        nonlocal off
        n = int(np.prod(shape))
        arr = mm[off:off + n].reshape(shape)
        off += n
        return arr

    tok_emb = take(vocab, dim)
    rms_att = take(L, dim)
    wq = take(L, dim, dim)
    wk = take(L, kv_dim, dim)
    wv = take(L, kv_dim, dim)
    wo = take(L, dim, dim)
    rms_ffn = take(L, dim)
    w1 = take(L, hidden, dim)
    w2 = take(L, dim, hidden)
    w3 = take(L, hidden, dim)
    rms_final = take(dim)
    take(seq_len, head_size // 2)  # freq_cis_real (unused; llama.cpp computes RoPE)
    take(seq_len, head_size // 2)  # freq_cis_imag
    wcls = tok_emb if tied else take(vocab, dim)
    if off != mm.shape[0]:
        raise SystemExit(f"size mismatch: consumed {off} floats, file has {mm.shape[0]}")

    w = GGUFWriter(a.output, "llama")
    w.add_name(a.name or a.input.rsplit("/", 1)[-1])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_context_length(seq_len)
    w.add_embedding_length(dim)
    w.add_block_count(L)
    w.add_feed_forward_length(hidden)
    w.add_head_count(n_heads)
    w.add_head_count_kv(n_kv_heads)
    w.add_layer_norm_rms_eps(RMS_EPS)
    w.add_rope_freq_base(ROPE_THETA)
    w.add_rope_dimension_count(head_size)
    w.add_vocab_size(vocab)
    copy_tokenizer(w, a.vocab, vocab)

    def add(name, arr):
        w.add_tensor(name, np.ascontiguousarray(arr, dtype=np.float32))

    add("token_embd.weight", tok_emb)
    for i in range(L):
        add(f"blk.{i}.attn_norm.weight", rms_att[i])
        add(f"blk.{i}.attn_q.weight", wq[i])
        add(f"blk.{i}.attn_k.weight", wk[i])
        add(f"blk.{i}.attn_v.weight", wv[i])
        add(f"blk.{i}.attn_output.weight", wo[i])
        add(f"blk.{i}.ffn_norm.weight", rms_ffn[i])
        add(f"blk.{i}.ffn_gate.weight", w1[i])
        add(f"blk.{i}.ffn_down.weight", w2[i])
        add(f"blk.{i}.ffn_up.weight", w3[i])
    add("output_norm.weight", rms_final)
    add("output.weight", wcls)  # written explicitly even when tied

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
