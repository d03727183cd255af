"""Pre-LN Transformer layers with the spec's parameter names (docs/model.md, "Transformer").

`attn_norm`, `attn.qkv`, `attn.out`, `mlp_norm`, `mlp.fc1`, `mlp.fc2`: exact GELU, LayerNorm
eps 1e-5 with biased variance, causal masking with a large finite constant (never -inf).
Runs on PyTorch 1.13 and 2.x; on 2.x full-sequence attention uses the fused kernel.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

MASK_VALUE = -1e9
_SDPA = hasattr(F, "scaled_dot_product_attention")


class Attention(nn.Module):
    def __init__(self, width: int, head_dim: int):
        super().__init__()
        self.heads = width // head_dim
        self.head_dim = head_dim
        self.qkv = nn.Linear(width, 3 * width)  # rows [Q | K | V], each split into contiguous heads
        self.out = nn.Linear(width, width)

    def _split(self, h: torch.Tensor):
        B, T, W = h.shape
        q, k, v = self.qkv(h).split(W, dim=-1)
        shape = (B, T, self.heads, self.head_dim)
        return (t.reshape(shape).transpose(1, 2) for t in (q, k, v))  # [B, H, T, hd] each

    def forward(self, h: torch.Tensor, causal: bool, temperature: float = 1.0) -> torch.Tensor:
        B, T, W = h.shape
        q, k, v = self._split(h)
        scale = 1.0 / (math.sqrt(self.head_dim) * temperature)
        if _SDPA and temperature == 1.0:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        else:
            logits = (q @ k.transpose(-1, -2)) * scale  # [B, H, T, T]
            if causal:
                mask = torch.ones(T, T, dtype=torch.bool, device=h.device).triu(1)
                logits = logits.masked_fill(mask, MASK_VALUE)
            o = logits.softmax(-1) @ v
        return self.out(o.transpose(1, 2).reshape(B, T, W))

    def step(self, h: torch.Tensor, cache: "KVCache", temperature: float = 1.0) -> torch.Tensor:
        """New tokens h [B, Tn, W] against everything cached before them (causal), appending their keys."""
        B, Tn, W = h.shape
        q, k, v = self._split(h)
        start = cache.length
        cache.append(k, v)
        keys, values = cache.keys[:, :, : cache.length], cache.values[:, :, : cache.length]
        logits = (q @ keys.transpose(-1, -2)) / (math.sqrt(self.head_dim) * temperature)  # [B, H, Tn, L]
        if Tn > 1:
            pos = torch.arange(Tn, device=h.device)[:, None] + start
            logits = logits.masked_fill(torch.arange(cache.length, device=h.device)[None, :] > pos, MASK_VALUE)
        o = logits.softmax(-1) @ values
        return self.out(o.transpose(1, 2).reshape(B, Tn, W))


class KVCache:
    """Keys and values of one attention layer for up to `capacity` positions."""

    def __init__(self, batch: int, heads: int, head_dim: int, capacity: int, device, dtype):
        self.keys = torch.zeros(batch, heads, capacity, head_dim, device=device, dtype=dtype)
        self.values = torch.zeros_like(self.keys)
        self.length = 0

    def append(self, k: torch.Tensor, v: torch.Tensor) -> None:
        n = k.shape[2]
        if self.length + n > self.keys.shape[2]:
            raise RuntimeError(f"KV cache overflow: {self.length + n} > {self.keys.shape[2]}")
        self.keys[:, :, self.length:self.length + n] = k
        self.values[:, :, self.length:self.length + n] = v
        self.length += n


class Mlp(nn.Module):
    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(h)))  # exact GELU 0.5 u (1 + erf(u / sqrt 2))


class Layer(nn.Module):
    """h = h + Attn(LN1(h)); h = h + MLP(LN2(h))"""

    def __init__(self, width: int, head_dim: int, mlp_ratio: float):
        super().__init__()
        self.attn_norm = nn.LayerNorm(width, eps=1e-5)
        self.attn = Attention(width, head_dim)
        self.mlp_norm = nn.LayerNorm(width, eps=1e-5)
        self.mlp = Mlp(width, int(round(mlp_ratio * width)))

    def forward(self, h, causal: bool, temperature: float = 1.0):
        h = h + self.attn(self.attn_norm(h), causal, temperature)
        return h + self.mlp(self.mlp_norm(h))

    def step(self, h, cache: KVCache, temperature: float = 1.0):
        h = h + self.attn.step(self.attn_norm(h), cache, temperature)
        return h + self.mlp(self.mlp_norm(h))


def make_layers(layers: int, width: int, head_dim: int, mlp_ratio: float) -> nn.ModuleList:
    """`layers.{j}` of one Transformer (an AF block's or the AR prior's)."""
    return nn.ModuleList(Layer(width, head_dim, mlp_ratio) for _ in range(layers))


def run_layers(layers: nn.ModuleList, h, causal: bool = True, temperature: float = 1.0):
    for layer in layers:
        h = layer(h, causal, temperature)
    return h


def make_caches(layers: nn.ModuleList, batch: int, capacity: int, device, dtype) -> list[KVCache]:
    return [KVCache(batch, l.attn.heads, l.attn.head_dim, capacity, device, dtype) for l in layers]


def step_layers(layers: nn.ModuleList, h, caches: list[KVCache], temperature: float = 1.0):
    for layer, cache in zip(layers, caches):
        h = layer.step(h, cache, temperature)
    return h
