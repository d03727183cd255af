"""Why the separation experiment's decodes diverge (docs/zoo-study.md §7): the scale of each block's
output latent on test images, and, with the redundant channels of one latent replaced by N(0, 1)
noise (the experiment at alpha = 1), the largest log-scale a each block's inverse computes and how
many images stay finite after it.

usage: PYTHONPATH=python /usr/bin/python3 python/studies/inverse_divergence.py <model.safetensors>
       [--images 16] [--seed 0]
"""
import argparse

import torch

from farmer_torch.checkpoint import load_model
from farmer_torch.data import load_dataset
from farmer_torch.model import patchify


def inverse_with_max_log_scale(block, z, labels):
    """block.inverse(z, labels), also returning the largest log-scale a its steps computed."""
    seen = []
    affine = block._affine

    def recording(o):
        a, b = affine(o)
        seen.append(float(a.nan_to_num(nan=float("-inf")).max()))
        return a, b

    block._affine = recording  # an instance attribute shadows the method for this one call
    try:
        x = block.inverse(z, labels)
    finally:
        del block._affine
    return x, max(seen)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    model, _ = load_model(a.model)
    model.eval()
    prior = model.config["prior"]
    d_i = prior["informative_dims"] if prior["kind"] == "farmer" else 0
    images, _ = load_dataset("mnist", "test")
    x = (torch.from_numpy(images[:256]).float() + 0.5) / 128 - 1  # bin centres
    g = torch.Generator().manual_seed(a.seed)
    with torch.no_grad():
        y = model.labels_for(None, x.shape[0], x.device)
        _, _, _, latents = model.af_forward(patchify(x, model.config["patch_size"]), y, keep_latents=True)
        print(f"{a.model}: d_I {d_i}; latents of 256 test images (null label)")
        for k, z in enumerate(latents, 1):
            r = z[..., d_i:]
            print(f"  after block {k}: redundant channels mean {r.mean():+.3f}, std {r.std():.3f}; all channels max |z| {z.abs().max():.1f}")
        n = a.images
        for depth in range(1, len(latents) + 1):
            z = latents[depth - 1][:n].clone()
            z[..., d_i:] = torch.randn(z[..., d_i:].shape, generator=g)
            print(f"  redundant channels after block {depth} replaced by N(0, 1), {n} images:")
            for k in reversed(range(depth)):
                z, a_max = inverse_with_max_log_scale(model.af.blocks[k], z, y[:n])
                finite = torch.isfinite(z).flatten(1).all(1)
                big = z[torch.isfinite(z)].abs().max() if finite.any() else float("nan")
                print(f"    inverse of block {k + 1}: max a {a_max:.1f}, finite images {int(finite.sum())}/{n}, max |x| {big:.3g}")


if __name__ == "__main__":
    main()
