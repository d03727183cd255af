"""python3 -m farmer_torch.evaluate <model.safetensors> --dataset mnist [--n 500] [--bpd 1000] [--T --s ...]

The twin's quick look at a model: test BPD (uniform dequantization) and, on n samples (labels
cycling 0..9 for a conditional model, or --null for the null label), the share the project's
feature network reads confidently, class agreement, the classes read, and FID against the test
split (mnist-cnn features). One JSON line on stdout. The zoo's numbers come from `farmer eval`.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np
import torch

from .checkpoint import CheckpointError, load_model
from .data import load_dataset
from .sample import guidance_options, sample, to_pixels
from .score import FeatureNet, fid, readability, test_features


def test_bpd(model, dataset: str, n: int, seed: int = 0, batch: int = 250) -> float:
    images, labels = load_dataset(dataset, "test")
    g = torch.Generator().manual_seed(seed)
    total = 0.0
    with torch.no_grad():
        for i in range(0, n, batch):
            px = torch.from_numpy(images[i:i + batch]).float()
            x = (px + torch.rand(px.shape, generator=g)) / 128 - 1
            y = torch.from_numpy(labels[i:i + batch]) if model.config["num_classes"] else None
            total += float(model(x, y)["bpd"].sum())
    return total / n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m farmer_torch.evaluate", description=__doc__.split("\n\n")[1])
    ap.add_argument("model")
    ap.add_argument("--dataset", required=True, choices=["mnist", "colored-mnist"])
    ap.add_argument("--n", type=int, default=500, help="samples to score (0 = none)")
    ap.add_argument("--bpd", type=int, default=0, help="test images for BPD (0 = skip)")
    ap.add_argument("--T", type=float, default=1.0)
    ap.add_argument("--s", type=float, default=1.0)
    ap.add_argument("--T-red", type=float)
    ap.add_argument("--s-red", type=float)
    ap.add_argument("--no-denoise", action="store_true")
    ap.add_argument("--null", action="store_true", help="draw a conditional model's samples with the null label")
    ap.add_argument("--cfg", type=float, help="guidance weight w (conditional models; 0 or absent = unguided)")
    ap.add_argument("--cfg-method", default="resampling", choices=["naive", "resampling"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int)
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    try:
        model, card = load_model(a.model)
    except CheckpointError as e:
        print(f"farmer_torch.evaluate: {e}", file=sys.stderr)
        return 1
    model.eval()
    out = {"model": a.model, "steps": card.get("steps"), "seed": a.seed}
    t0 = time.time()
    if a.bpd:
        out["bpd_test"] = test_bpd(model, a.dataset, a.bpd)
    if a.n:
        C = model.config["num_classes"]
        labels = torch.full((a.n,), -1, dtype=torch.long) if a.null or C == 0 else torch.arange(a.n) % C
        xs = []
        for i in range(0, a.n, a.batch):
            x, _ = sample(model, labels[i:i + a.batch], seed=a.seed * 100003 + i, T=a.T, s=a.s, T_red=a.T_red,
                          s_red=a.s_red, denoise=False if a.no_denoise else None,
                          cfg=None if a.null else guidance_options(a.cfg, a.cfg_method))
            xs.append(x)
        x = torch.cat(xs)
        finite = torch.isfinite(x.reshape(a.n, -1)).all(1)
        px = to_pixels(x[finite], model.config["dequantization"]["kind"])
        net = FeatureNet(a.dataset)
        r = readability(net, px, labels[finite] if (C and not a.null) else None)
        out.update({k: v for k, v in r.items() if k != "features"})
        out["non_finite"] = int((~finite).sum())
        out["fid_cnn"] = fid(r["features"], test_features(net, a.dataset))
        denoised = model.config["dequantization"]["kind"] == "gaussian" and not a.no_denoise
        out["sampling"] = {"T": a.T, "s": a.s, "T_red": a.T_red, "s_red": a.s_red, "denoise": denoised, "null": a.null,
                          "cfg": a.cfg, "cfg_method": a.cfg_method if a.cfg else None}
    out["time_s"] = round(time.time() - t0, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
