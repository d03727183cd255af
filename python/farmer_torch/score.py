"""The project's feature network (src/lib/metrics/classifier.ts) in torch, for scoring samples while
training: confidently classified share, class agreement, class coverage, FID (mnist-cnn features).

The zoo's reported numbers come from the engine's own `farmer eval`; this is the twin's quick look.
"""
from __future__ import annotations

import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from .safetensors_io import load_file

CONFIDENT = 0.9


def _models_dir() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "static", "models")


class FeatureNet:
    """conv 3x3 (C->32) + pool, conv (32->64) + pool, conv (64->128), fc 6272->128 ReLU, heads."""

    def __init__(self, dataset: str, device="cpu"):
        path = os.path.join(_models_dir(), f"features-{dataset}.safetensors")
        tensors, meta = load_file(path)
        self.value_channel = dataset == "colored-mnist"
        t = {k: torch.from_numpy(v.astype(np.float32)).to(device) for k, v in tensors.items()}
        # tfjs layouts: conv [kh, kw, in, out] -> torch [out, in, kh, kw]; dense [in, out]
        self.convs = [(t[f"conv{i}.weight"].permute(3, 2, 0, 1).contiguous(), t[f"conv{i}.bias"]) for i in (1, 2, 3)]
        self.fc = (t["fc.weight"], t["fc.bias"])
        self.digit = (t["head.digit.weight"], t["head.digit.bias"])

    @torch.no_grad()
    def features(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 [B, H, W, C] -> [B, 128]"""
        x = pixels.float() / 255
        if self.value_channel:
            x = torch.cat([x, x.amax(3, keepdim=True)], 3)
        x = x.permute(0, 3, 1, 2)
        for i, (w, b) in enumerate(self.convs):
            x = F.relu(F.conv2d(x, w, b, padding=1))
            if i < 2:
                x = F.max_pool2d(x, 2)
        flat = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # the NHWC flattening of the engine
        return F.relu(flat @ self.fc[0] + self.fc[1])

    @torch.no_grad()
    def probs(self, feats: torch.Tensor) -> torch.Tensor:
        return torch.softmax(feats @ self.digit[0] + self.digit[1], -1)


def fid(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance of two feature sets [n, f] (float64)."""
    from scipy import linalg

    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1 @ s2, disp=False)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real))


def readability(net: FeatureNet, pixels: torch.Tensor, labels: torch.Tensor | None = None) -> dict:
    """confident share (top probability >= 0.9), class agreement, and the classes of the confident ones."""
    feats = net.features(pixels)
    p = net.probs(feats)
    top, cls = p.max(-1)
    conf = top >= CONFIDENT
    out = {"confident": float(conf.float().mean()), "features": feats.cpu().numpy().astype(np.float64)}
    counts = torch.bincount(cls[conf], minlength=10).tolist()
    out["confident_classes"] = counts
    if labels is not None and bool((labels >= 0).all()):
        out["agreement"] = float((cls == labels).float().mean())
    return out


def test_features(net: FeatureNet, dataset: str, n: int = 10000) -> np.ndarray:
    from .data import load_dataset

    images, _ = load_dataset(dataset, "test")
    feats = [net.features(torch.from_numpy(images[i:i + 1000])) for i in range(0, min(n, len(images)), 1000)]
    return torch.cat(feats).cpu().numpy().astype(np.float64)


def dump(obj) -> str:
    return json.dumps({k: v for k, v in obj.items() if k != "features"})
