#!/usr/bin/python3
"""Writes a tiny random T5 (FlanT5 layout: gated-GELU, untied head) as a llama.cpp GGUF with a
small unigram vocabulary, and as an HF folder (config.json + model.safetensors) with the same
weights, for checking pplug's T5 against llama.cpp (bench/t5_llama_cpp_parity.sh).

Needs llama.cpp's gguf-py (GGUF_PY, default /work/ref/llama.cpp/gguf-py) and numpy; run with
Debian's /usr/bin/python3. Nothing here is committed output: the files go to --out.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.environ.get("GGUF_PY", "/work/ref/llama.cpp/gguf-py"))
import gguf  # noqa: E402

WORDS = ("the a cat dog sat on mat and ran to park big small red blue green house tree sun "
         "moon star sky sea fish bird song play happy sad day night home").split()


def vocab(size=0):
    tokens, scores, types = ["<pad>", "</s>", "<unk>"], [0.0, 0.0, 0.0], [3, 3, 2]
    for w in WORDS:
        tokens.append("\u2581" + w), scores.append(-2.0), types.append(1)
    for c in "abcdefghijklmnopqrstuvwxyz":
        if c not in WORDS:  # a piece listed twice breaks llama.cpp's vocabulary
            tokens.append("\u2581" + c), scores.append(-8.0), types.append(1)
        tokens.append(c), scores.append(-9.0), types.append(1)
    tokens.append("\u2581"), scores.append(-10.0), types.append(1)
    # Padding pieces up to `size` (a FlanT5-sized vocabulary for speed runs): never produced by
    # the tokenizer for the prompts here (low scores), but rows of the embedding and the head.
    while len(tokens) < size:
        tokens.append(f"\u2581pad{len(tokens)}"), scores.append(-30.0), types.append(1)
    return tokens, scores, types


def weights(cfg, rng):
    d, inner, ff, V = cfg["d_model"], cfg["num_heads"] * cfg["d_kv"], cfg["d_ff"], cfg["vocab_size"]
    nb, H = cfg["relative_attention_num_buckets"], cfg["num_heads"]
    n = lambda *shape, s=0.05: (rng.standard_normal(shape) * s).astype(np.float32)  # noqa: E731
    w = {"shared.weight": n(V, d, s=1.0), "lm_head.weight": n(V, d, s=1.0)}
    for stack, layers in (("encoder", cfg["num_layers"]), ("decoder", cfg["num_decoder_layers"])):
        for i in range(layers):
            p = f"{stack}.block.{i}.layer."
            kinds = [("0.", "SelfAttention")] + ([("1.", "EncDecAttention")] if stack == "decoder" else [])
            for idx, kind in kinds:
                w[p + idx + "layer_norm.weight"] = (1 + n(d, s=0.1)).astype(np.float32)
                for m in "qkv":
                    w[p + idx + f"{kind}.{m}.weight"] = n(inner, d)
                w[p + idx + f"{kind}.o.weight"] = n(d, inner)
            if i == 0:
                w[p + "0.SelfAttention.relative_attention_bias.weight"] = n(nb, H, s=1.0)
            f = p + ("2." if stack == "decoder" else "1.")
            w[f + "layer_norm.weight"] = (1 + n(d, s=0.1)).astype(np.float32)
            w[f + "DenseReluDense.wi_0.weight"] = n(ff, d)
            w[f + "DenseReluDense.wi_1.weight"] = n(ff, d)
            w[f + "DenseReluDense.wo.weight"] = n(d, ff)
        w[f"{stack}.final_layer_norm.weight"] = (1 + n(d, s=0.1)).astype(np.float32)
    return w


def gguf_name(hf):
    import re
    rules = [
        (r"^shared\.weight$", "token_embd.weight"),
        (r"^lm_head\.weight$", "output.weight"),
        (r"^(en|de)coder\.final_layer_norm\.weight$", r"\1c.output_norm.weight"),
        (r"^(en|de)coder\.block\.(\d+)\.layer\.0\.layer_norm\.weight$", r"\1c.blk.\2.attn_norm.weight"),
        (r"^(en|de)coder\.block\.(\d+)\.layer\.0\.SelfAttention\.([qkvo])\.weight$", r"\1c.blk.\2.attn_\3.weight"),
        (r"^(en|de)coder\.block\.(\d+)\.layer\.0\.SelfAttention\.relative_attention_bias\.weight$",
         r"\1c.blk.\2.attn_rel_b.weight"),
        (r"^encoder\.block\.(\d+)\.layer\.1\.layer_norm\.weight$", r"enc.blk.\1.ffn_norm.weight"),
        (r"^decoder\.block\.(\d+)\.layer\.1\.layer_norm\.weight$", r"dec.blk.\1.cross_attn_norm.weight"),
        (r"^decoder\.block\.(\d+)\.layer\.1\.EncDecAttention\.([qkvo])\.weight$", r"dec.blk.\1.cross_attn_\2.weight"),
        (r"^decoder\.block\.(\d+)\.layer\.2\.layer_norm\.weight$", r"dec.blk.\1.ffn_norm.weight"),
        (r"^(en|de)coder\.block\.(\d+)\.layer\.\d\.DenseReluDense\.wi_0\.weight$", r"\1c.blk.\2.ffn_gate.weight"),
        (r"^(en|de)coder\.block\.(\d+)\.layer\.\d\.DenseReluDense\.wi_1\.weight$", r"\1c.blk.\2.ffn_up.weight"),
        (r"^(en|de)coder\.block\.(\d+)\.layer\.\d\.DenseReluDense\.wo\.weight$", r"\1c.blk.\2.ffn_down.weight"),
    ]
    for pattern, repl in rules:
        if re.match(pattern, hf):
            return re.sub(pattern, repl, hf)
    raise KeyError(hf)


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    # FlanT5-base for speed runs: --d-model 768 --layers 12 --heads 12 --d-kv 64 --d-ff 2048
    # --vocab 32128 (the defaults make the small parity models).
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-kv", type=int, default=16)
    ap.add_argument("--d-ff", type=int, default=0, help="0 = 2 d_model")
    ap.add_argument("--vocab", type=int, default=0, help="0 = the small word vocabulary")
    args = ap.parse_args()
    tokens, scores, types = vocab(args.vocab)
    cfg = {"model_type": "t5", "architectures": ["T5ForConditionalGeneration"],
           "d_model": args.d_model, "d_kv": args.d_kv, "d_ff": args.d_ff or 2 * args.d_model,
           "num_layers": args.layers, "num_decoder_layers": args.layers, "num_heads": args.heads,
           "vocab_size": len(tokens),
           "relative_attention_num_buckets": 32, "relative_attention_max_distance": 128,
           "layer_norm_epsilon": 1e-6, "feed_forward_proj": "gated-gelu",
           "tie_word_embeddings": False, "pad_token_id": 0, "eos_token_id": 1,
           "decoder_start_token_id": 0}
    w = weights(cfg, np.random.default_rng(args.seed))
    os.makedirs(os.path.join(args.out, "hf"), exist_ok=True)
    with open(os.path.join(args.out, "hf", "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(args.out, "hf", "model.safetensors"), w)

    g = gguf.GGUFWriter(os.path.join(args.out, "t5.gguf"), "t5")
    g.add_context_length(512)
    g.add_embedding_length(cfg["d_model"])
    g.add_feed_forward_length(cfg["d_ff"])
    g.add_block_count(cfg["num_layers"])
    g.add_head_count(cfg["num_heads"])
    g.add_key_length(cfg["d_kv"])
    g.add_value_length(cfg["d_kv"])
    g.add_layer_norm_eps(cfg["layer_norm_epsilon"])
    g.add_relative_attn_buckets_count(cfg["relative_attention_num_buckets"])
    g.add_layer_norm_rms_eps(cfg["layer_norm_epsilon"])
    g.add_decoder_start_token_id(cfg["decoder_start_token_id"])
    g.add_file_type(0)
    g.add_tokenizer_model("t5")
    g.add_tokenizer_pre("default")
    g.add_token_list(tokens)
    g.add_token_scores(scores)
    g.add_token_types(types)
    g.add_add_space_prefix(True)
    g.add_remove_extra_whitespaces(True)
    g.add_eos_token_id(1)
    g.add_unk_token_id(2)
    g.add_pad_token_id(0)
    g.add_add_bos_token(False)
    g.add_add_eos_token(True)
    for name, t in w.items():
        g.add_tensor(gguf_name(name), t)
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()
    print(os.path.join(args.out, "t5.gguf"))


if __name__ == "__main__":
    main()
