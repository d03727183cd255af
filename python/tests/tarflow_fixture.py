"""An ml-tarflow `Model` state dict built from its documented names and shapes (docs/twin.md,
"TARFlow checkpoints"), and an independent float64 numpy forward of that layout, written from the
math: NCHW images cut into channel-major patches, block k reversing the tokens when k is odd,
causal pre-LN attention blocks (`attention.norm/qkv/proj`, `mlp.norm/main.0/main.2`), the output
shifted by one token, z = (x - b) exp(-a) with a the first half, logdet_k = -sum(a).

`python3 python/tests/tarflow_fixture.py <dir>` writes the fixture for the engine's test:
model.pth, inputs.npy (NHWC float32), labels.npy, reference.json and reference_latents.npy.
"""
from __future__ import annotations

import json
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch

ERF = np.vectorize(math.erf)


def tarflow_state_dict(C=3, H=8, p=2, W=32, blocks=3, layers=2, classes=4, expansion=3, seed=0, nvp=True):
    """Random weights under ml-tarflow's names: blocks.{k}.{proj_in, pos_embed, class_embed [C, 1, W],
    attn_blocks.{j}.attention.{norm, qkv, proj}, attn_blocks.{j}.mlp.{norm, main.0, main.2},
    proj_out, attn_mask}, and var [N, d] (all ones in nvp mode)."""
    g = torch.Generator().manual_seed(seed)
    rnd = lambda *shape, s=1.0: torch.randn(*shape, generator=g) * s
    N, d = (H // p) ** 2, C * p * p
    sd = OrderedDict()
    for k in range(blocks):
        b = f"blocks.{k}."
        sd[b + "proj_in.weight"] = rnd(W, d, s=0.3)
        sd[b + "proj_in.bias"] = rnd(W, s=0.1)
        sd[b + "pos_embed"] = rnd(N, W, s=0.5)
        if classes:
            sd[b + "class_embed"] = rnd(classes, 1, W, s=0.5)
        for j in range(layers):
            a = f"{b}attn_blocks.{j}."
            sd[a + "attention.norm.weight"] = 1 + rnd(W, s=0.1)
            sd[a + "attention.norm.bias"] = rnd(W, s=0.1)
            sd[a + "attention.qkv.weight"] = rnd(3 * W, W, s=0.3)
            sd[a + "attention.qkv.bias"] = rnd(3 * W, s=0.1)
            sd[a + "attention.proj.weight"] = rnd(W, W, s=0.2)
            sd[a + "attention.proj.bias"] = rnd(W, s=0.1)
            sd[a + "mlp.norm.weight"] = 1 + rnd(W, s=0.1)
            sd[a + "mlp.norm.bias"] = rnd(W, s=0.1)
            sd[a + "mlp.main.0.weight"] = rnd(expansion * W, W, s=0.2)
            sd[a + "mlp.main.0.bias"] = rnd(expansion * W, s=0.1)
            sd[a + "mlp.main.2.weight"] = rnd(W, expansion * W, s=0.1)
            sd[a + "mlp.main.2.bias"] = rnd(W, s=0.1)
        sd[b + "proj_out.weight"] = rnd(2 * d if nvp else d, W, s=0.015)
        sd[b + "proj_out.bias"] = rnd(2 * d if nvp else d, s=0.05)
        sd[b + "attn_mask"] = torch.ones(N, N).tril()
    sd["var"] = torch.ones(N, d)
    return sd


def _ln(x, w, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * w + b


def _attention(h, sd, a, head_dim):
    B, T, W = h.shape
    heads = W // head_dim
    qkv = (h @ sd[a + "qkv.weight"].T + sd[a + "qkv.bias"]).reshape(B, T, 3 * heads, head_dim)
    q, k, v = qkv[:, :, :heads], qkv[:, :, heads:2 * heads], qkv[:, :, 2 * heads:]
    logits = np.einsum("bthe,bshe->bhts", q, k) / math.sqrt(head_dim)
    logits = np.where(np.tril(np.ones((T, T), bool)), logits, -np.inf)
    att = np.exp(logits - logits.max(-1, keepdims=True))
    att /= att.sum(-1, keepdims=True)
    out = np.einsum("bhts,bshe->bthe", att, v).reshape(B, T, W)
    return out @ sd[a + "proj.weight"].T + sd[a + "proj.bias"]


def _mlp(h, sd, a):
    u = h @ sd[a + "main.0.weight"].T + sd[a + "main.0.bias"]
    return (0.5 * u * (1 + ERF(u / math.sqrt(2)))) @ sd[a + "main.2.weight"].T + sd[a + "main.2.bias"]


def reference_forward(state: dict, x_nchw: np.ndarray, y, p: int, head_dim: int):
    """(latent Z [B, N, d], logdet per block [B, n]) of the layout, in float64."""
    sd = {k: v.double().numpy() for k, v in state.items()}
    B, C, H, W_img = x_nchw.shape
    x = x_nchw.astype(np.float64).reshape(B, C, H // p, p, W_img // p, p).transpose(0, 2, 4, 1, 3, 5)
    x = x.reshape(B, (H // p) * (W_img // p), C * p * p)  # token (i, j) raster; c p^2 + r p + s inside
    N, d = x.shape[1:]
    blocks = sorted({int(k.split(".")[1]) for k in sd if k.startswith("blocks.")})
    logdets = []
    for k in blocks:
        b = f"blocks.{k}."
        order = np.arange(N)[::-1] if k % 2 else np.arange(N)
        xt = x[:, order]
        h = xt @ sd[b + "proj_in.weight"].T + sd[b + "proj_in.bias"] + sd[b + "pos_embed"][order]
        if b + "class_embed" in sd:
            table = sd[b + "class_embed"][:, 0]
            h = h + np.stack([table.mean(0) if yi < 0 else table[yi] for yi in y])[:, None]
        j = 0
        while f"{b}attn_blocks.{j}.attention.qkv.weight" in sd:
            a = f"{b}attn_blocks.{j}."
            h = h + _attention(_ln(h, sd[a + "attention.norm.weight"], sd[a + "attention.norm.bias"]), sd, a + "attention.", head_dim)
            h = h + _mlp(_ln(h, sd[a + "mlp.norm.weight"], sd[a + "mlp.norm.bias"]), sd, a + "mlp.")
            j += 1
        o = h @ sd[b + "proj_out.weight"].T + sd[b + "proj_out.bias"]
        o = np.concatenate([np.zeros_like(o[:, :1]), o[:, :-1]], 1)
        log_scale, shift = o[..., :d], o[..., d:]
        zt = (xt - shift) * np.exp(-log_scale)
        x = np.empty_like(zt)
        x[:, order] = zt
        logdets.append(-log_scale.sum((1, 2)))
    return x, np.stack(logdets, 1)


def write_fixture(out_dir: str) -> dict:
    """The engine's test inputs: a class-conditional 3-channel state dict and its reference forward."""
    os.makedirs(out_dir, exist_ok=True)
    C, H, p, head_dim = 3, 8, 2, 8
    sd = tarflow_state_dict(C=C, H=H, p=p, W=32, blocks=3, layers=2, classes=4, seed=1)
    torch.save(sd, os.path.join(out_dir, "model.pth"))
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((5, C, H, H)) * 0.5).astype(np.float32)
    y = np.array([0, 3, -1, 1, 2], np.int32)
    z, logdet = reference_forward(sd, x, y, p, head_dim)
    np.save(os.path.join(out_dir, "inputs.npy"), np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
    np.save(os.path.join(out_dir, "labels.npy"), y)
    np.save(os.path.join(out_dir, "reference_latents.npy"), z.astype(np.float32))
    ref = {"channels": C, "patch_size": p, "image_size": H, "head_dim": head_dim, "num_classes": 4,
           "logdet_per_block": logdet.tolist(), "logdet_total": logdet.sum(1).tolist()}
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(ref, f)
    return ref


if __name__ == "__main__":
    write_fixture(sys.argv[1])
