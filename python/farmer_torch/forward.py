"""python3 -m farmer_torch.forward <model> (--images u8.npy | --inputs f32.npy) [--labels i.npy]
        [--seed S] [--latents out.npy] [--batch B] [--device cpu|cuda] [--json]

The twin's `farmer forward` (spec section 8), with the same inputs and the same JSON: per image
logdet (total, per block), log_prior, log_px, nll_per_dim (nats) and bpd. --images are uint8
[B, H, W, C] (or [B, H, W] for one channel), dequantized uniformly with the engine's own generator
(rng.Rng, seed S), so both see the same inputs; --inputs are model-space float32, used as they are.
--labels: int32/int64 [B], -1 the null label. --latents writes Z as float32 [B, N, d].
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch

from .checkpoint import CheckpointError, load_model
from .rng import Rng


class ForwardError(ValueError):
    pass


def dequantize_uniform(pixels: np.ndarray, seed: int) -> np.ndarray:
    """x = (x_int + u)/128 - 1 with u from Rng(seed) in the order of the pixels (the engine's)."""
    rng = Rng(seed)
    u = np.fromiter((rng.uniform() for _ in range(pixels.size)), np.float64, pixels.size)
    return ((pixels.reshape(-1).astype(np.float64) + u) / 128 - 1).astype(np.float32).reshape(pixels.shape)


def load_npy(path: str, what: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ForwardError(f"{path}: cannot read {what} ({e})") from None


def read_inputs(a, model) -> np.ndarray:
    im = model.config["image"]
    H, W, C = im["height"], im["width"], im["channels"]
    path = a.images or a.inputs
    arr = load_npy(path, "images" if a.images else "inputs")
    if arr.ndim == 3 and C == 1:
        arr = arr[..., None]
    if arr.ndim != 4 or tuple(arr.shape[1:]) != (H, W, C):
        raise ForwardError(f"{path}: expected shape [B, {H}, {W}, {C}], got {list(arr.shape)}")
    if a.images:
        if arr.dtype != np.uint8:
            raise ForwardError(f"{path}: --images must be uint8, got {arr.dtype}; use --inputs for float32")
        return dequantize_uniform(arr, a.seed)
    if arr.dtype != np.float32:
        raise ForwardError(f"{path}: --inputs must be float32, got {arr.dtype}")
    if not np.isfinite(arr).all():
        raise ForwardError(f"{path}: inputs must be finite")
    return arr


def read_labels(path: str, B: int, num_classes: int) -> np.ndarray:
    y = load_npy(path, "labels")
    if y.dtype not in (np.int32, np.int64):
        raise ForwardError(f"{path}: labels must be int32 or int64, got {y.dtype}")
    if y.shape != (B,):
        raise ForwardError(f"{path}: expected shape [{B}], got {list(y.shape)}")
    if num_classes == 0:
        raise ForwardError(f"{path}: labels given to an unconditional model (num_classes = 0)")
    return y.astype(np.int64)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m farmer_torch.forward", description=__doc__.split("\n\n")[1])
    ap.add_argument("model")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--images")
    src.add_argument("--inputs")
    ap.add_argument("--labels")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--latents")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if a.batch < 1:
            raise ForwardError("--batch must be >= 1")
        model, _ = load_model(a.model, a.device)
        model.eval()
        if model.student:
            raise ForwardError("a distilled student only maps latents to images; it has no likelihood (use its teacher for forward passes)")
        x = read_inputs(a, model)
        y = read_labels(a.labels, len(x), model.config["num_classes"]) if a.labels else None
        rows, latents = [], []
        with torch.no_grad():
            for s in range(0, len(x), a.batch):
                xb = torch.from_numpy(x[s:s + a.batch]).to(a.device)
                yb = torch.from_numpy(y[s:s + a.batch]).to(a.device) if y is not None else None
                out = model(xb, yb)
                latents.append(out["z"].float().cpu().numpy())
                per_block = out["logdet_per_block"].cpu().tolist()
                for i in range(len(xb)):
                    rows.append({k: float(out[k][i]) for k in ("logdet_total",)} | {"logdet_per_block": per_block[i]}
                                | {k: float(out[k][i]) for k in ("log_prior", "log_px", "nll_per_dim", "bpd")})
        if a.latents:
            np.save(a.latents, np.concatenate(latents).astype(np.float32))
    except (ForwardError, CheckpointError, ValueError) as e:
        print(f"farmer_torch.forward: {e}", file=sys.stderr)
        return 1
    if a.json:
        print(json.dumps({"images": rows}))
        return 0
    print("image   logdet      log_prior   log_px      nll/dim   bpd")
    for i, r in enumerate(rows):
        print(f"{i:<7} {r['logdet_total']:10.3f} {r['log_prior']:11.3f} {r['log_px']:11.3f} {r['nll_per_dim']:9.4f} {r['bpd']:7.4f}")
    print(f"mean bpd {np.mean([r['bpd'] for r in rows]):.4f} over {len(rows)} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
