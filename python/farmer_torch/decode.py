"""python3 -m farmer_torch.decode <model> --latents z.npy [--labels i.npy] [--attn-temp a]
        [--start-block k] --out x.npy [--device cpu|cuda]

Latents Z [B, N, d] (float32 .npy) -> images in model space, float32 [B, H, W, C]: the KV-cached
AF inverse f_{n-1}^-1 ... f_0^-1 (spec section 3), or one parallel pass per block of a distilled
student (section 6). --start-block k decodes Z^k instead of Z^n. No clipping, no Tweedie step.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from .checkpoint import CheckpointError, load_model
from .forward import ForwardError, load_npy, read_labels


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m farmer_torch.decode", description=__doc__.split("\n\n")[1])
    ap.add_argument("model")
    ap.add_argument("--latents", required=True)
    ap.add_argument("--labels")
    ap.add_argument("--attn-temp", type=float, default=1.0)
    ap.add_argument("--start-block", type=int)
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        model, _ = load_model(a.model, a.device)
        model.eval()
        z = load_npy(a.latents, "latents")
        N, d = model.dims.tokens, model.dims.token_dim
        if z.dtype != np.float32 or z.ndim != 3 or z.shape[1:] != (N, d):
            raise ForwardError(f"{a.latents}: expected float32 [B, {N}, {d}], got {z.dtype} {list(z.shape)}")
        if not np.isfinite(z).all():
            raise ForwardError(f"{a.latents}: latents must be finite")
        n = model.config["af"]["blocks"]
        if a.start_block is not None and not 0 <= a.start_block <= n:
            raise ForwardError(f"--start-block must be in [0, {n}]")
        if not a.attn_temp > 0:
            raise ForwardError("--attn-temp must be > 0")
        y = read_labels(a.labels, len(z), model.config["num_classes"]) if a.labels else None
        x = model.decode(torch.from_numpy(z).to(a.device), None if y is None else torch.from_numpy(y).to(a.device),
                         start_block=a.start_block, temperature=a.attn_temp)
        np.save(a.out, x.float().cpu().numpy())
    except (ForwardError, CheckpointError, ValueError) as e:
        print(f"farmer_torch.decode: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
