#!/usr/bin/python3
"""Writes a tiny random decoder of one Llama-family architecture twice, with the same weights:
as an HF folder (config.json + model.safetensors, in the family's own HF layout) and as a
llama.cpp GGUF laid out as llama.cpp's convert_hf_to_gguf.py lays it out (facts of that
converter, restated here: q/k rows permuted for its `llama` architecture, llama3 RoPE scaling as
a `rope_freqs` tensor, Gemma norm weights stored as 1 + w, Phi-3's fused projections kept).
Neither file is written by pplug, so pplug reading both and llama.cpp computing from the GGUF
check pplug's readers and its decoder against llama.cpp (tests/models/llama_cpp_families_test.cpp,
fixture in tests/models/data/llama_cpp_families, made with bench/decoder_llama_cpp_dump.cpp).

    GGUF_PY=/work/ref/llama.cpp/gguf-py python3 bench/decoder_llama_cpp_fixture.py \\
        --family gemma --out DIR [--seed S]

Needs numpy and llama.cpp's gguf-py.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.environ.get("GGUF_PY", "/work/ref/llama.cpp/gguf-py"))
import gguf  # noqa: E402

FAMILIES = ("llama", "llama31", "mistral", "qwen2", "gemma", "phi3", "llama-wide")


def config_of(family):
    c = {"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
         "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 256,
         "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False,
         "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu"}
    arch = {"llama": "LlamaForCausalLM", "llama31": "LlamaForCausalLM", "llama-wide": "LlamaForCausalLM",
            "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM",
            "gemma": "GemmaForCausalLM", "phi3": "Phi3ForCausalLM"}[family]
    c["architectures"] = [arch]
    c["model_type"] = "llama" if family in ("llama31", "llama-wide") else family
    if family == "llama-wide":  # rows of 256 values: whole K-quant blocks, for llama-quantize
        c.update(hidden_size=256, intermediate_size=256, num_hidden_layers=1)
    if family == "llama31":  # Llama 3.1's published scaling; theta 500000 puts the 8 frequencies
        c["rope_theta"] = 500000.0  # of a 16-wide head in all three bands
        c["rope_scaling"] = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
    if family == "mistral":
        c["sliding_window"] = 128
    if family == "qwen2":
        c["rope_theta"] = 1000000.0
        c["tie_word_embeddings"] = True
    if family == "gemma":
        c["head_dim"] = 32  # heads x head_dim (64) != hidden_size (32), as Gemma 7B has
        c["hidden_act"] = "gelu_pytorch_tanh"
        c["hidden_activation"] = "gelu_pytorch_tanh"
        c["tie_word_embeddings"] = True
        c["rms_norm_eps"] = 1e-6
    if family == "phi3":
        c["num_key_value_heads"] = 2
        c["sliding_window"] = 255
        c["rope_scaling"] = None
        c["original_max_position_embeddings"] = 256
    return c


def vocab():
    """A SentencePiece-style (llama) vocabulary: controls, the newline byte (llama.cpp looks it
    up), some words. The tests feed ids, so what the pieces spell does not matter."""
    tokens, scores, types = ["<unk>", "<s>", "</s>", "<0x0A>"], [0.0, 0.0, 0.0, 0.0], [2, 3, 3, 6]
    for i, w in enumerate("the a cat dog sat on mat and ran to park big small red blue".split()):
        tokens.append("\u2581" + w), scores.append(-1.0 - i), types.append(1)
    while len(tokens) < 64:
        tokens.append(f"\u2581w{len(tokens)}"), scores.append(-100.0), types.append(1)
    return tokens, scores, types


def weights(c, rng):
    d, ff, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    H, KV = c["num_attention_heads"], c["num_key_value_heads"]
    hd = c.get("head_dim") or d // H
    n = lambda *shape, s=0.15: (rng.standard_normal(shape) * s).astype(np.float32)  # noqa: E731
    # Norm weights as each family's HF file holds them: Gemma multiplies by 1 + w.
    norm = (lambda: n(d, s=0.3)) if c["model_type"] == "gemma" else (lambda: 1 + n(d, s=0.3))
    # A tied head reads the residual stream back through the embedding, so a large embedding
    # makes every step predict its own input token: smaller rows keep greedy runs varied
    # (Gemma's are multiplied by sqrt(hidden_size) on the way in).
    embed_std = 1.0 if not c["tie_word_embeddings"] else 0.08 if c["model_type"] == "gemma" else 0.25
    w = {"model.embed_tokens.weight": n(V, d, s=embed_std)}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm()
        q, k, v = n(H * hd, d), n(KV * hd, d), n(KV * hd, d)
        if c["model_type"] == "phi3":
            w[p + "self_attn.qkv_proj.weight"] = np.concatenate([q, k, v])
        else:
            w[p + "self_attn.q_proj.weight"], w[p + "self_attn.k_proj.weight"] = q, k
            w[p + "self_attn.v_proj.weight"] = v
        if c["model_type"] == "qwen2":
            for m, rows in (("q", H * hd), ("k", KV * hd), ("v", KV * hd)):
                w[p + f"self_attn.{m}_proj.bias"] = n(rows, s=0.5)
        w[p + "self_attn.o_proj.weight"] = n(d, H * hd)
        w[p + "post_attention_layernorm.weight"] = norm()
        gate, up = n(ff, d), n(ff, d)
        if c["model_type"] == "phi3":
            w[p + "mlp.gate_up_proj.weight"] = np.concatenate([gate, up])
        else:
            w[p + "mlp.gate_proj.weight"], w[p + "mlp.up_proj.weight"] = gate, up
        w[p + "mlp.down_proj.weight"] = n(d, ff)
    w["model.norm.weight"] = norm()
    if not c["tie_word_embeddings"]:
        w["lm_head.weight"] = n(V, d, s=1.0)
    return w


def permute(x, heads):
    """llama.cpp's converter for its `llama` architecture: HF's half-rotation rows of each head
    back to Meta's interleaved pairs."""
    return x.reshape(heads, 2, x.shape[0] // heads // 2, *x.shape[1:]).swapaxes(1, 2).reshape(x.shape)


def llama3_rope_factors(c):
    """convert_hf_to_gguf.py's LlamaModel rope_freqs for rope_type llama3 (float32 freqs)."""
    r, hd = c["rope_scaling"], c["hidden_size"] // c["num_attention_heads"]
    freqs = 1.0 / (np.float32(c["rope_theta"]) ** (np.arange(0, hd, 2, dtype=np.float32) / hd))
    old = r["original_max_position_embeddings"]
    low_w, high_w = old / r["low_freq_factor"], old / r["high_freq_factor"]
    out = []
    for f in freqs.astype(np.float32):
        wavelen = 2 * math.pi / f
        if wavelen < high_w:
            out.append(1.0)
        elif wavelen > low_w:
            out.append(r["factor"])
        else:
            smooth = (old / wavelen - r["low_freq_factor"]) / (r["high_freq_factor"] - r["low_freq_factor"])
            out.append(1 / ((1 - smooth) / r["factor"] + smooth))
    return np.array(out, dtype=np.float32)


GGUF_LAYER = {"input_layernorm.weight": "attn_norm.weight",
              "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
              "self_attn.v_proj.weight": "attn_v.weight", "self_attn.q_proj.bias": "attn_q.bias",
              "self_attn.k_proj.bias": "attn_k.bias", "self_attn.v_proj.bias": "attn_v.bias",
              "self_attn.qkv_proj.weight": "attn_qkv.weight",
              "self_attn.o_proj.weight": "attn_output.weight",
              "post_attention_layernorm.weight": "ffn_norm.weight",
              "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
              "mlp.gate_up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight"}


def gguf_tensors(c, w):
    arch = gguf_arch(c)
    H, KV = c["num_attention_heads"], c["num_key_value_heads"]
    out = {}
    for name, t in w.items():
        if name == "model.embed_tokens.weight":
            g = "token_embd.weight"
        elif name == "model.norm.weight":
            g = "output_norm.weight"
        elif name == "lm_head.weight":
            g = "output.weight"
        else:
            i, rest = name[len("model.layers."):].split(".", 1)
            g = f"blk.{i}.{GGUF_LAYER[rest]}"
        if arch == "llama" and g.endswith(("attn_q.weight", "attn_q.bias")):
            t = permute(t, H)
        if arch == "llama" and g.endswith(("attn_k.weight", "attn_k.bias")):
            t = permute(t, KV)
        if c["model_type"] == "gemma" and name.endswith("norm.weight"):
            t = t + 1  # GemmaModel.modify_tensors
        out[g] = np.ascontiguousarray(t, dtype=np.float32)
    if c.get("rope_scaling") and c["rope_scaling"].get("rope_type") == "llama3":
        out["rope_freqs.weight"] = llama3_rope_factors(c)
    return out


def gguf_arch(c):
    return "llama" if c["model_type"] in ("llama", "mistral") else c["model_type"]


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, t in tensors.items():
        b = np.ascontiguousarray(t, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_gguf(path, c, tensors, tokens, scores, types):
    arch = gguf_arch(c)
    H = c["num_attention_heads"]
    hd = c.get("head_dim") or c["hidden_size"] // H
    g = gguf.GGUFWriter(path, arch)
    g.add_context_length(c["max_position_embeddings"])
    g.add_embedding_length(c["hidden_size"])
    g.add_feed_forward_length(c["intermediate_size"])
    g.add_block_count(c["num_hidden_layers"])
    g.add_head_count(H)
    g.add_head_count_kv(c["num_key_value_heads"])
    g.add_layer_norm_rms_eps(c["rms_norm_eps"])
    g.add_rope_freq_base(c["rope_theta"])
    g.add_rope_dimension_count(hd)
    if "head_dim" in c:
        g.add_key_length(hd)
        g.add_value_length(hd)
    if arch == "phi3":
        g.add_rope_scaling_orig_ctx_len(c["original_max_position_embeddings"])
        g.add_sliding_window(c["sliding_window"])
    g.add_file_type(0)
    g.add_tokenizer_model("llama")
    g.add_tokenizer_pre("default")
    g.add_token_list(tokens)
    g.add_token_scores(scores)
    g.add_token_types(types)
    g.add_bos_token_id(1)
    g.add_eos_token_id(2)
    g.add_unk_token_id(0)
    g.add_add_bos_token(True)
    g.add_add_eos_token(False)
    for name, t in tensors.items():
        g.add_tensor(name, t)
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", required=True, choices=FAMILIES)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    tokens, scores, types = vocab()
    c = config_of(args.family)
    c["vocab_size"] = len(tokens)
    w = weights(c, np.random.default_rng(args.seed))
    os.makedirs(os.path.join(args.out, "hf"), exist_ok=True)
    with open(os.path.join(args.out, "hf", "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    write_safetensors(os.path.join(args.out, "hf", "model.safetensors"), w)
    write_gguf(os.path.join(args.out, "model.gguf"), c, gguf_tensors(c, w), tokens, scores, types)
    print(os.path.join(args.out, "model.gguf"))


if __name__ == "__main__":
    main()
