#!/usr/bin/python3
"""A step-exact PyTorch reference of `pplug train`, for speed comparisons in the same run.

Reads a dump written by bench/train_dump (the same flags as `pplug train`) and trains the same
plug-in on the same batches in the same order: the frozen Llama forward, the plug-in module,
the batch layout and loss, gradient accumulation, clipping and AdamW with pplug's learning-rate
schedule. Its per-step losses equal pplug's metrics.jsonl losses up to float32 rounding.

    /usr/bin/python3 bench/train_reference.py DUMP [--threads 1] [--out losses.json]

Prints one JSON line: losses per step, examples/s (the training loop only, as pplug's
examples_per_s), threads. Mirrors, file by file:
  src/models/llama/llama_forward.cpp  LlamaModel::forward (no cache)
  src/plug/plugin_module.cpp          PluginModuleImpl::forward
  src/train/trainer.cpp               batch_loss, learning_rate, train_plugin's step loop
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

KMASKED_SCORE = -1e30  # llama_forward.cpp kMaskedScore: finite, so padding queries stay finite


def read_safetensors(path):
    """name -> float tensor (the dump holds F32 and I64 only; no `safetensors` package needed)."""
    dtypes = {"F32": torch.float32, "I64": torch.int64, "F64": torch.float64}
    with open(path, "rb") as f:
        blob = f.read()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(blob[base + begin:base + end]), dtype=dtypes[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out


class Llama:
    """The frozen decoder: RMSNorm, HF half-rotation RoPE, GQA, SwiGLU; weights under HF names."""

    def __init__(self, weights, cfg):
        self.w = weights
        self.c = cfg
        # Fused q/k/v and gate/up matrices, as pplug keeps them: one GEMM each way, so the
        # gradients are summed in the same order (separate products round differently).
        for i in range(cfg["num_hidden_layers"]):
            p = "model.layers.%d." % i
            weights[p + "qkv"] = torch.cat([weights[p + "self_attn.%s_proj.weight" % n]
                                            for n in "qkv"], 0)
            weights[p + "gate_up"] = torch.cat([weights[p + "mlp.gate_proj.weight"],
                                                weights[p + "mlp.up_proj.weight"]], 0)
        # HF's rule: head_dim when given, else hidden_size / num_attention_heads.
        self.hd = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
        self.embed_tokens = weights["model.embed_tokens.weight"]
        self.lm_head = self.embed_tokens if cfg["tie_word_embeddings"] else weights["lm_head.weight"]
        # RoPE tables computed in float64, then rounded (llama_model.cpp).
        inv_freq = torch.pow(torch.tensor(cfg["rope_theta"], dtype=torch.float64),
                             -torch.arange(0, self.hd, 2, dtype=torch.float64) / self.hd)
        pos = torch.arange(cfg["max_position_embeddings"], dtype=torch.float64)
        angles = torch.outer(pos, inv_freq)
        full = torch.cat([angles, angles], 1)
        self.cos = full.cos().float()
        self.sin = full.sin().float()

    def rms_norm(self, x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["rms_norm_eps"]) * weight

    @staticmethod
    def rotate_half(x):
        half = x.size(-1) // 2
        return torch.cat([-x[..., half:], x[..., :half]], -1)

    def forward(self, x, mask):
        """x (B, T, d) input embeddings; mask (B, T) int64, 0 = left padding -> logits (B, T, V)."""
        B, T, _ = x.shape
        H, KV, hd = self.c["num_attention_heads"], self.c["num_key_value_heads"], self.hd
        G = H // KV
        positions = (torch.cumsum(mask, 1) - 1).clamp_min(0)  # real tokens only
        key_index = torch.arange(T).unsqueeze(0)
        query_slot = torch.arange(T).unsqueeze(1)
        allowed = (key_index <= query_slot).unsqueeze(0) & mask.unsqueeze(1).bool()
        mask_bias = torch.zeros(B, T, T).masked_fill(~allowed, KMASKED_SCORE).view(B, 1, 1, T, T)
        flat = positions.reshape(-1)
        cos = self.cos.index_select(0, flat).view(B, T, 1, hd)
        sin = self.sin.index_select(0, flat).view(B, T, 1, hd)
        scale = 1.0 / math.sqrt(hd)
        for i in range(self.c["num_hidden_layers"]):
            p = "model.layers.%d." % i
            w = self.w
            h = self.rms_norm(x, w[p + "input_layernorm.weight"])
            qkv = F.linear(h, w[p + "qkv"])
            q = qkv[..., :H * hd].view(B, T, H, hd)
            k = qkv[..., H * hd:(H + KV) * hd].view(B, T, KV, hd)
            v = qkv[..., (H + KV) * hd:].view(B, T, KV, hd)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
            # Query heads of one key/value head stacked along time, as pplug does.
            qg = q.reshape(B, KV, G * T, hd)
            scores = torch.matmul(qg, k.transpose(-1, -2)) * scale
            scores = (scores.view(B, KV, G, T, T) + mask_bias).view(B, KV, G * T, T)
            out = torch.matmul(torch.softmax(scores, -1), v)
            out = out.view(B, H, T, hd).transpose(1, 2).reshape(B, T, H * hd)
            x = x + F.linear(out, w[p + "self_attn.o_proj.weight"])
            h = self.rms_norm(x, w[p + "post_attention_layernorm.weight"])
            gate_up = F.linear(h, w[p + "gate_up"])
            hidden = self.c["intermediate_size"]
            act = F.silu(gate_up[..., :hidden]) * gate_up[..., hidden:]
            x = x + F.linear(act, w[p + "mlp.down_proj.weight"])
        return F.linear(self.rms_norm(x, self.w["model.norm.weight"]), self.lm_head)


class TwoLayerMlp(torch.nn.Module):
    def __init__(self, de, hidden, out):
        super().__init__()
        self.fc1 = torch.nn.Linear(de, hidden)
        self.fc2 = torch.nn.Linear(hidden, out)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class PluginModule(torch.nn.Module):
    """PluginModuleImpl with the same parameter names; weights are loaded from the dump."""

    def __init__(self, cfg):
        super().__init__()
        de, d, n_p = cfg["encoder_dim"], cfg["llm_dim"], cfg["num_persona_tokens"]
        self.cfg = cfg
        self.persona_proj = TwoLayerMlp(de, d, n_p * d)
        self.instruction_proj = TwoLayerMlp(de, d, d)
        self.instruction = torch.nn.Parameter(torch.zeros(de))
        self.input_adapter = torch.nn.Linear(de, de)
        self.log_gain = torch.nn.Parameter(torch.zeros(2))
        self.log_temperature = torch.nn.Parameter(torch.zeros(1))

    def normalize_tokens(self, x, kind):
        return x * (self.cfg["scale"] * self.log_gain[kind].exp() /
                    x.norm(2, -1, keepdim=True).clamp_min(1e-6))

    @staticmethod
    def standardize(scores, fmask):
        count = fmask.sum(1, keepdim=True).clamp_min(1.0)
        mean = (scores * fmask).sum(1, keepdim=True) / count
        centered = (scores - mean) * fmask
        std = (centered.pow(2).sum(1, keepdim=True) / count).sqrt()
        return centered / std.clamp_min(1e-4)

    def forward(self, keys, projections, mask, query):
        """keys (B, N, d_e), projections (B, N, n_p d), mask (B, N) bool, query (B, d_e)."""
        c = self.cfg
        B, d = query.size(0), c["llm_dim"]
        parts = []
        if c["use_instruction"]:
            inst = self.normalize_tokens(self.instruction_proj(self.instruction), 0)
            parts.append(inst.view(1, 1, d).expand(B, 1, d))
        if c["use_persona"]:
            fmask = mask.float()
            if c["aggregator"] == "mean":
                weights = fmask / fmask.sum(1, keepdim=True).clamp_min(1.0)
            else:
                q = query + self.input_adapter(query)
                q = q / q.norm(2, -1, keepdim=True).clamp_min(1e-12)
                sim = torch.bmm(keys, q.unsqueeze(-1)).squeeze(-1)
                if c["scores"] == "standardized":
                    sim = self.standardize(sim, fmask)
                visible = mask
                top_k = c["top_k"]
                if 0 < top_k < keys.size(1):
                    ranked = sim.masked_fill(~mask, -1e9)
                    kth = ranked.topk(top_k, 1)[0][:, top_k - 1:top_k]
                    visible = mask & (ranked >= kth)
                logits = (sim / self.log_temperature.exp()).masked_fill(~visible, -1e9)
                weights = torch.softmax(logits, 1) * visible.any(1, keepdim=True).float()
            n_p = c["num_persona_tokens"]
            persona = torch.bmm(weights.unsqueeze(1), projections).view(B, n_p, d)
            parts.append(self.normalize_tokens(persona, 1) *
                         (weights.sum(1) > 0).float().view(B, 1, 1))
        return torch.cat(parts, 1)


def learning_rate(o, step, total):
    warmup = math.ceil(o["warmup_ratio"] * total)
    if step < warmup:
        return o["lr"] * (step + 1) / warmup
    left = (total - step) / max(1, total - warmup)
    return o["lr"] * max(0.0, left)


class Reference:
    def __init__(self, dump_dir):
        with open(os.path.join(dump_dir, "dump.json")) as f:
            self.doc = json.load(f)
        with open(os.path.join(dump_dir, "config.json")) as f:  # HF's config.json
            llm_cfg = json.load(f)
        self.llm = Llama(read_safetensors(os.path.join(dump_dir, "llm.safetensors")), llm_cfg)
        data = read_safetensors(os.path.join(dump_dir, "data.safetensors"))
        self.item_vectors = data["item_vectors"]
        self.item_keys = data.get("item_keys")
        self.query_vectors = data["query_vectors"]
        self.module = PluginModule(self.doc["plugin"])
        initial = read_safetensors(os.path.join(dump_dir, "plugin.safetensors"))
        named = dict(self.module.named_parameters())
        if set(named) != set(initial):
            sys.exit("train_reference: plug-in parameters differ from the dump's: %s vs %s" %
                     (sorted(named), sorted(initial)))
        with torch.no_grad():
            for name, p in named.items():
                p.copy_(initial[name])
        trainable = set(self.doc["plugin"]["trainable"])
        for name, p in named.items():
            p.requires_grad_(name in trainable)
        # The optimizer's parameters in the order of the C++ module (the dump's order).
        self.params = [named[n] for n in self.doc["plugin"]["trainable"]]
        self.examples = self.doc["examples"]
        self.bos = self.doc["bos_id"]

    def batch_loss(self, batch):
        """trainer.cpp batch_loss: mean cross-entropy over the target tokens of a micro-batch."""
        B = len(batch)
        de = self.doc["plugin"]["encoder_dim"]
        d = self.llm.c["hidden_size"]
        n_items = max([1] + [len(ex["items"]) for ex in batch])
        item_index = torch.zeros(B, n_items, dtype=torch.long)
        item_mask = torch.zeros(B, n_items, dtype=torch.bool)
        for b, ex in enumerate(batch):
            if ex["items"]:
                item_index[b, :len(ex["items"])] = torch.tensor(ex["items"])
                item_mask[b, :len(ex["items"])] = True
        query_index = torch.tensor([ex["query"] for ex in batch], dtype=torch.long)
        if self.item_vectors.numel() > 0:
            items = self.item_vectors.index_select(0, item_index.view(-1)).view(B, n_items, de)
        else:
            items = torch.zeros(B, n_items, de)
        projections = self.module.persona_proj(items)
        if self.item_keys is not None:
            keys = self.item_keys.index_select(0, item_index.view(-1)).view(B, n_items, de)
        else:
            keys = items
        query = self.query_vectors.index_select(0, query_index)
        soft = self.module(keys, projections, item_mask, query)  # (B, S, d)
        n_soft = soft.size(1)

        # Left-padded rows [BOS][prompt[:split-1]][soft][prompt[split-1:]][target].
        lengths = [1 + n_soft + len(ex["prompt"]) + len(ex["target"]) for ex in batch]
        longest = max(lengths)
        mask = torch.zeros(B, longest, dtype=torch.long)
        labels = torch.full((B, longest), -100, dtype=torch.long)
        rows = []
        for b, ex in enumerate(batch):
            ids = [self.bos] + ex["prompt"] + ex["target"]
            tok = self.llm.embed_tokens.index_select(0, torch.tensor(ids, dtype=torch.long))
            pad = longest - lengths[b]
            split = ex["split"]
            rows.append(torch.cat([torch.zeros(pad, d), tok[:split], soft[b], tok[split:]], 0))
            mask[b, pad:] = 1
            first = pad + n_soft + len(ex["prompt"])
            labels[b, first:first + len(ex["target"])] = torch.tensor(ex["target"])
        logits = self.llm.forward(torch.stack(rows), mask)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100)

    def train(self):
        o = self.doc["optimizer"]
        optimizer = torch.optim.AdamW(self.params, lr=o["lr"], weight_decay=o["weight_decay"])
        n = len(self.examples)
        per_step = o["batch_size"] * o["grad_accum"]
        steps_per_epoch = (n + per_step - 1) // per_step
        total = steps_per_epoch * o["epochs"]
        self.module.train()
        losses, seen, global_step = [], 0, 0
        t0 = time.perf_counter()
        for epoch in range(o["epochs"]):
            order = self.doc["epoch_orders"][epoch]
            for s in range(steps_per_epoch):
                optimizer.zero_grad()
                step_loss = 0.0
                for a in range(o["grad_accum"]):
                    first = (s * o["grad_accum"] + a) * o["batch_size"]
                    batch = [self.examples[order[pos]]
                             for pos in range(first, min(first + o["batch_size"], n))]
                    if not batch:
                        continue
                    loss = self.batch_loss(batch) / o["grad_accum"]
                    loss.backward()
                    step_loss += loss.item()
                    seen += len(batch)
                if o["max_grad_norm"] > 0:
                    torch.nn.utils.clip_grad_norm_(self.params, o["max_grad_norm"])
                lr = learning_rate(o, global_step, total)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                optimizer.step()
                global_step += 1
                losses.append(step_loss)
        secs = time.perf_counter() - t0
        return losses, seen / secs if secs > 0 else 0.0, secs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dump", help="folder written by train_dump")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ref = Reference(args.dump)
    losses, eps, secs = ref.train()
    print(json.dumps({"steps": len(losses), "losses": losses, "examples_per_s": eps,
                      "seconds": secs, "threads": torch.get_num_threads(),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
