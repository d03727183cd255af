"""python3 -m farmer_torch.convert_tarflow <ckpt.pth> --out X.safetensors [--num-classes C]
        [--image-size H] [--channels C] [--patch-size p] [--head-dim h] [--noise-std s]
        [--dataset name] [--f16]

Converts the state dict of an apple/ml-tarflow `Model` (nvp mode) to a workbench checkpoint with a
Gaussian prior (spec section 7; the mapping is in docs/twin.md). Width, blocks, layers per block
and the MLP ratio come from the tensors. What they cannot fix comes from the options:
d = C p^2 does not say which of C and p it is, and the head size is not stored (ml-tarflow's Model
always uses 64, the default here). An option that contradicts the tensors is refused, and so is
whatever the spec cannot express (nvp off, a `var` prior that is not all ones), each with one line.
--noise-std s marks a model trained on Gaussian-noised data (its sampler's Tweedie step uses s);
without it the checkpoint is taken as uniformly dequantized.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import sys
from collections import OrderedDict

import torch

from . import __version__
from .checkpoint import CheckpointError, load_model, save_checkpoint

ML_TARFLOW_HEAD_DIM = 64
BLOCK_KEY = re.compile(r"blocks\.(\d+)\.(.+)")
LAYER_KEY = re.compile(r"attn_blocks\.(\d+)\.(.+)")
# ml-tarflow's names inside one attention block -> the spec's names inside layers.{j}
LAYER_NAMES = {
    "attention.norm": "attn_norm", "attention.qkv": "attn.qkv", "attention.proj": "attn.out",
    "mlp.norm": "mlp_norm", "mlp.main.0": "mlp.fc1", "mlp.main.2": "mlp.fc2",
}
WRAPPER_PREFIXES = ("module.", "_orig_mod.")  # DistributedDataParallel, torch.compile


class ConversionError(ValueError):
    """One line saying what is wrong with the state dict or the options, and why."""


def load_state_dict(path: str) -> "OrderedDict[str, torch.Tensor]":
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:  # a torch without weights_only
            obj = torch.load(path, map_location="cpu")
    except FileNotFoundError:
        raise ConversionError(f"{path}: no such file") from None
    except Exception as e:  # torch raises many kinds for a file that is not its own
        raise ConversionError(f"{path}: not a PyTorch checkpoint ({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
    return state_dict_of(obj, path)


def state_dict_of(obj, path: str = "checkpoint") -> "OrderedDict[str, torch.Tensor]":
    """The name -> tensor mapping, with DDP/compile prefixes removed; anything else is refused."""
    if not isinstance(obj, dict):
        raise ConversionError(f"{path}: not a state dict (a {type(obj).__name__}, expected a mapping of names to tensors)")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise ConversionError(f"{path}: not a state dict ({len(bad)} entries are not tensors, e.g. {str(bad[0])[:80]!r})")
    out = OrderedDict()
    for k, v in obj.items():
        for p in WRAPPER_PREFIXES:
            if k.startswith(p):
                k = k[len(p):]
        out[k] = v
    return out


def _shape(t: torch.Tensor) -> list[int]:
    return list(t.shape)


def layout(sd: dict) -> dict:
    """Blocks, layers, widths from the tensors; refuses a malformed or unsupported state dict."""
    blocks: dict[int, dict[str, torch.Tensor]] = {}
    extra = []
    for k, v in sd.items():
        m = BLOCK_KEY.fullmatch(k)
        if m:
            blocks.setdefault(int(m.group(1)), {})[m.group(2)] = v
        elif k != "var":
            extra.append(k)
    if not blocks:
        raise ConversionError("malformed: no blocks.{k}.* tensors: not the state dict of an ml-tarflow Model")
    n = max(blocks) + 1
    missing_blocks = [k for k in range(n) if k not in blocks]
    if missing_blocks:
        raise ConversionError(f"malformed: block indices are not contiguous (no blocks.{missing_blocks[0]}.*)")
    b0 = blocks[0]
    for need in ("proj_in.weight", "pos_embed", "proj_out.weight"):
        if need not in b0:
            raise ConversionError(f"malformed: missing tensor blocks.0.{need}")
    W, d = _shape(b0["proj_in.weight"]) if b0["proj_in.weight"].dim() == 2 else (None, None)
    if W is None:
        raise ConversionError(f"malformed: blocks.0.proj_in.weight has shape {_shape(b0['proj_in.weight'])}, expected [width, d]")
    if b0["pos_embed"].dim() != 2:
        raise ConversionError(f"malformed: blocks.0.pos_embed has shape {_shape(b0['pos_embed'])}, expected [tokens, width]")
    N = b0["pos_embed"].shape[0]
    out_rows = b0["proj_out.weight"].shape[0]
    if out_rows == d:
        raise ConversionError("unsupported: nvp off (blocks.0.proj_out has d rows, a shift only): ml-tarflow's "
                              "volume-preserving mode learns the prior variance `var`, which the spec's N(0, I) prior cannot express")
    layers = sorted({int(m.group(1)) for m in (LAYER_KEY.match(k) for k in b0) if m})
    L = len(layers)
    if layers != list(range(L)):
        raise ConversionError("malformed: blocks.0.attn_blocks indices are not contiguous")
    hidden = b0["attn_blocks.0.mlp.main.0.weight"].shape[0] if L and "attn_blocks.0.mlp.main.0.weight" in b0 else 4 * W
    classes = b0["class_embed"].shape[0] if "class_embed" in b0 else 0
    expected = {"proj_in.weight": [W, d], "proj_in.bias": [W], "pos_embed": [N, W], "proj_out.weight": [2 * d, W],
                "proj_out.bias": [2 * d], "attn_mask": [N, N]}
    if classes:
        expected["class_embed"] = [classes, 1, W]
    for j in range(L):
        for src, shape in (("attention.norm.weight", [W]), ("attention.norm.bias", [W]), ("attention.qkv.weight", [3 * W, W]),
                           ("attention.qkv.bias", [3 * W]), ("attention.proj.weight", [W, W]), ("attention.proj.bias", [W]),
                           ("mlp.norm.weight", [W]), ("mlp.norm.bias", [W]), ("mlp.main.0.weight", [hidden, W]),
                           ("mlp.main.0.bias", [hidden]), ("mlp.main.2.weight", [W, hidden]), ("mlp.main.2.bias", [W])):
            expected[f"attn_blocks.{j}.{src}"] = shape
    for k in range(n):
        got = blocks[k]
        miss = [name for name in expected if name not in got]
        if miss:
            raise ConversionError(f"malformed: missing tensor blocks.{k}.{miss[0]}"
                                  + (f" (and {len(miss) - 1} more)" if len(miss) > 1 else ""))
        unexpected = [name for name in got if name not in expected]
        if unexpected:
            raise ConversionError(f"malformed: unexpected tensor blocks.{k}.{unexpected[0]} (not in an ml-tarflow Model of this layout)")
        for name, shape in expected.items():
            if _shape(got[name]) != shape:
                raise ConversionError(f"malformed: blocks.{k}.{name} has shape {_shape(got[name])}, expected {shape}")
            if not bool(torch.isfinite(got[name]).all()):
                raise ConversionError(f"malformed: blocks.{k}.{name} has NaN or Inf values")
        if not torch.equal(got["attn_mask"].float(), torch.ones(N, N).tril()):
            raise ConversionError(f"unsupported: blocks.{k}.attn_mask is not the causal mask (lower-triangular ones)")
    if extra:
        raise ConversionError(f"malformed: unexpected tensor {extra[0]} (not in an ml-tarflow Model)")
    if "var" not in sd:
        raise ConversionError("malformed: missing tensor var (the prior's variance buffer)")
    if _shape(sd["var"]) != [N, d]:
        raise ConversionError(f"malformed: var has shape {_shape(sd['var'])}, expected {[N, d]}")
    if not torch.equal(sd["var"].float(), torch.ones(N, d)):
        dev = float((sd["var"].float() - 1).abs().max())
        raise ConversionError(f"unsupported: var is not all ones (max |var - 1| = {dev:.3g}): a learned prior variance "
                              "(ml-tarflow's vp mode) is not the spec's N(0, I) Gaussian prior")
    return {"blocks": n, "layers": L, "width": W, "token_dim": d, "tokens": N, "hidden": hidden, "classes": classes}


def image_layout(lay: dict, image_size=None, channels=None, patch_size=None) -> tuple[int, int, int]:
    """(H, C, p) with N = (H/p)^2 and d = C p^2 (ml-tarflow's images are square); the options pick
    among the layouts the tensors allow, and one that contradicts them is refused."""
    N, d = lay["tokens"], lay["token_dim"]
    side = math.isqrt(N)
    if side * side != N:
        raise ConversionError(f"unsupported: {N} tokens is not a square number of patches (ml-tarflow's images are square)")
    fits = [(side * p, d // (p * p), p) for p in range(1, math.isqrt(d) + 1) if d % (p * p) == 0]
    for name, value, pos in (("--patch-size", patch_size, 2), ("--channels", channels, 1), ("--image-size", image_size, 0)):
        if value is None:
            continue
        if value < 1:
            raise ConversionError(f"{name} must be >= 1, got {value}")
        kept = [f for f in fits if f[pos] == value]
        if not kept:
            allowed = ", ".join(str(f[pos]) for f in fits)
            raise ConversionError(f"{name} {value} contradicts the tensors: {N} tokens of d = {d} (C p^2) allow {name} in {{{allowed}}}")
        fits = kept
    if len(fits) > 1:
        options = "; ".join(f"C = {c}, p = {p}, H = {h}" for h, c, p in fits)
        raise ConversionError(f"d = {d} = C p^2 fits several layouts ({options}): give --channels, --patch-size or --image-size")
    return fits[0]


def convert(sd: dict, image_size=None, channels=None, patch_size=None, head_dim=ML_TARFLOW_HEAD_DIM,
            num_classes=None, noise_std=None) -> tuple[dict, "OrderedDict[str, torch.Tensor]"]:
    """(config, tensors by spec name) of an ml-tarflow state dict."""
    lay = layout(sd)
    H, C, p = image_layout(lay, image_size, channels, patch_size)
    W = lay["width"]
    if head_dim < 1 or W % head_dim:
        raise ConversionError(f"--head-dim {head_dim} does not divide the width {W} (ml-tarflow's Model uses 64): give the head size it was trained with")
    if num_classes is not None and num_classes != lay["classes"]:
        have = f"class_embed has {lay['classes']} rows" if lay["classes"] else "there is no class_embed (an unconditional model)"
        raise ConversionError(f"--num-classes {num_classes} contradicts the tensors: {have}")
    if noise_std is not None and not noise_std > 0:
        raise ConversionError(f"--noise-std must be > 0, got {noise_std}")
    nc = lay["classes"]
    dq = {"kind": "uniform"} if noise_std is None else {"kind": "gaussian", "sigma_max": noise_std, "sigma_min": noise_std, "schedule": "fixed"}
    config = {
        "image": {"height": H, "width": H, "channels": C}, "patch_size": p, "num_classes": nc,
        "af": {"blocks": lay["blocks"], "layers_per_block": lay["layers"], "width": W, "head_dim": head_dim,
               "mlp_ratio": lay["hidden"] / W, "class_conditional": nc > 0, "soft_clip": 0},
        "prior": {"kind": "gaussian"}, "dequantization": dq, "label_dropout": 0.1 if nc else 0.0,
    }
    if config["af"]["mlp_ratio"] == int(config["af"]["mlp_ratio"]):
        config["af"]["mlp_ratio"] = int(config["af"]["mlp_ratio"])
    out = OrderedDict()
    for k in range(lay["blocks"]):
        src, dst = f"blocks.{k}.", f"af.blocks.{k}."
        for name in ("proj_in.weight", "proj_in.bias", "pos_embed", "proj_out.weight", "proj_out.bias"):
            out[dst + name] = sd[src + name]  # proj_out rows [0, d) = a (log-scale), [d, 2d) = b: the same halves
        if nc:
            out[dst + "class_embed"] = sd[src + "class_embed"][:, 0]  # [C, 1, W] -> [C, W]
        for j in range(lay["layers"]):
            for theirs, ours in LAYER_NAMES.items():
                for part in ("weight", "bias"):
                    out[f"{dst}layers.{j}.{ours}.{part}"] = sd[f"{src}attn_blocks.{j}.{theirs}.{part}"]
    return config, OrderedDict((k, v.detach().float().contiguous()) for k, v in out.items())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m farmer_torch.convert_tarflow", description=__doc__.split("\n\n")[1])
    ap.add_argument("checkpoint", help="an ml-tarflow Model state dict (.pth)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--num-classes", type=int)
    ap.add_argument("--image-size", type=int)
    ap.add_argument("--channels", type=int)
    ap.add_argument("--patch-size", type=int)
    ap.add_argument("--head-dim", type=int, default=ML_TARFLOW_HEAD_DIM)
    ap.add_argument("--noise-std", type=float, help="the Gaussian input noise it was trained with (gaussian dequantization)")
    ap.add_argument("--dataset", default="unknown", help="the card's dataset (a workbench dataset name, if it is one)")
    ap.add_argument("--f16", action="store_true", help="write F16 weights")
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if not a.out.endswith(".safetensors"):
            raise ConversionError("--out must end in .safetensors")
        sd = load_state_dict(a.checkpoint)
        config, tensors = convert(sd, a.image_size, a.channels, a.patch_size, a.head_dim, a.num_classes, a.noise_std)
        with open(a.checkpoint, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        card = {
            "dataset": a.dataset, "steps": 0, "time_s": 0, "seed": 0, "metrics": {},
            "weights": f"converted from the apple/ml-tarflow checkpoint {os.path.basename(a.checkpoint)}",
            "source": {"kind": "apple/ml-tarflow Model state dict", "file": os.path.basename(a.checkpoint), "sha256": sha,
                       "converter": "farmer_torch.convert_tarflow", "converter_version": __version__},
        }
        save_checkpoint(a.out, config, tensors, card, f16=a.f16)
        model, _ = load_model(a.out)  # the file must open as the spec's model
    except (ConversionError, CheckpointError) as e:
        print(f"farmer_torch.convert_tarflow: {e}", file=sys.stderr)
        return 1
    af = config["af"]
    print(f"{a.out}: TARFlow {af['blocks']} blocks x {af['layers_per_block']} layers, width {af['width']}, "
          f"{config['image']['height']}x{config['image']['width']}x{config['image']['channels']} in {config['patch_size']}x"
          f"{config['patch_size']} patches, {config['num_classes']} classes, "
          f"{sum(t.numel() for t in model.state_dict().values()):,} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
