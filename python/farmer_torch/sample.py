"""Sampling (docs/model.md, "Sampling"): informative tokens one by one through the AR prior with a
KV cache, N i.i.d. redundant vectors from G_R, the AF inverse, and the Tweedie step for
Gaussian-dequantized models.

Classifier-free guidance (naive or resampling, guidance.py) draws each token against the null
label. The draws use torch's generator, not the engine's: the same seed gives different samples
here and in the workbench, while the same latent gives the same image (tested).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch

from .checkpoint import CheckpointError, load_model
from .config import final_sigma
from .model import Farmer, split_gmm
from .guidance import TABLE6, ResamplingParams, naive_cfg, resampling_cfg
from .nn import make_caches, step_layers
from .png import encode_png, image_grid


def draw_gmm(logits, means, sigmas, T: float, s: float, g: torch.Generator) -> torch.Tensor:
    """Decoupled draw: k ~ Categorical(softmax(logits / T)), z = mu_k + s sigma_k eps.
    logits [R, K], means/sigmas [R, K, d] -> [R, d]."""
    probs = torch.softmax(logits.double() / T, -1)
    k = torch.multinomial(probs.cpu(), 1, generator=g).to(logits.device)[:, 0]
    rows = torch.arange(len(k), device=logits.device)
    eps = torch.randn(means.shape[0], means.shape[2], generator=g).to(means.device)
    return means[rows, k] + s * sigmas[rows, k] * eps


class ArDecoder:
    """Incremental AR decoding: `start(labels)` feeds the condition prefix, `feed(zI)` one token."""

    def __init__(self, model: Farmer, batch: int):
        self.ar, self.N = model.ar, model.dims.tokens
        dev = self.ar.cond_pos.device
        self.caches = make_caches(self.ar.layers, batch, self.ar.M + self.N, dev, self.ar.cond_pos.dtype)
        self.pos = self.ar.order(self.ar.pos_embed)
        self.fed = 0

    def _head(self, h, head):
        return head(self.ar.norm(h[:, -1])).float()

    def start(self, labels):
        h = step_layers(self.ar.layers, self.ar.prefix(labels), self.caches)
        return split_gmm(self._head(h, self.ar.head_info), self.ar.KI, self.ar.dI)

    def feed(self, zI):
        """zI [B, d_I] in AR order; returns G_{i+2}, or G_R after the last token."""
        i = self.fed
        self.fed += 1
        h = step_layers(self.ar.layers, (self.ar.proj_in(zI) + self.pos[i])[:, None], self.caches)
        if i == self.N - 1:
            return split_gmm(self._head(h, self.ar.head_red), self.ar.KR, self.ar.dR)
        return split_gmm(self._head(h, self.ar.head_info), self.ar.KI, self.ar.dI)


def _guided_tokens(cond, uncond, cfg: dict, g: torch.Generator, count: int = 1):
    """One guided draw per row ([R, d] when count = 1; else [R, count, d] from one pool per row)
    and the naive sampler's fallbacks."""
    if cfg["method"] == "resampling":
        out = resampling_cfg(cond, uncond, cfg["w"], cfg["params"], g, count=count, pool_scale=count)
        return (out[:, 0] if count == 1 else out), 0
    if count == 1:
        return naive_cfg(cond, uncond, cfg["w"], g)
    R = cond[0].shape[0]
    rep = lambda gmm: tuple(t.repeat_interleave(count, 0) for t in gmm)  # row r's mixture for each of its count draws
    out, fallbacks = naive_cfg(rep(cond), rep(uncond), cfg["w"], g)
    return out.reshape(R, count, -1), fallbacks


def guidance_options(w=None, method="resampling", params: ResamplingParams | None = None) -> dict | None:
    """The `cfg` argument of the samplers: None (unguided) when w is None or 0, as the engine."""
    if w is None or w == 0:
        return None
    if method not in ("naive", "resampling"):
        raise ValueError(f"cfg method must be naive or resampling, got {method!r}")
    return {"method": method, "w": float(w), "params": params or TABLE6}


@torch.no_grad()
def sample_latents(model: Farmer, labels: torch.Tensor, g: torch.Generator, T=1.0, s=1.0, T_red=None, s_red=None,
                   cfg: dict | None = None, stats: dict | None = None):
    """Z [n, N, d] from the prior (decoupled T, s; (T_R, s_R) default to (T, s)). With `cfg`
    (see guidance_options) every token is drawn with classifier-free guidance against the null
    label, the conditional and unconditional rows fed the same token (T and s are then unused,
    as in the engine); stats["cfg_fallbacks"] counts naive CFG's fallbacks."""
    n = len(labels)
    dims = model.dims
    dev = next(model.parameters()).device
    if stats is not None:
        stats["cfg_fallbacks"] = 0
    if model.ar is None:
        return s * torch.randn(n, dims.tokens, dims.token_dim, generator=g).to(dev)
    if cfg is not None and bool((labels < 0).any()):
        raise ValueError("classifier-free guidance needs a class label for every sample")
    T_red = T if T_red is None else T_red
    s_red = s if s_red is None else s_red
    rows = 2 * n if cfg is not None else n  # guided: conditional rows, then the same samples unconditional
    dec = ArDecoder(model, rows)
    z = torch.empty(n, dims.tokens, dims.token_dim, device=dev)
    gmm = dec.start(torch.cat([labels, torch.full_like(labels, -1)]) if cfg is not None else labels)
    halves = lambda mix: (tuple(t[:n] for t in mix), tuple(t[n:] for t in mix))
    fallbacks = 0
    zI = []
    for i in range(dims.tokens):
        if cfg is None:
            tok = draw_gmm(*gmm, T, s, g)
        else:
            drawn, fb = _guided_tokens(*halves(gmm), cfg, g)
            tok, fallbacks = drawn.to(device=dev, dtype=torch.float32), fallbacks + fb
        zI.append(tok)
        gmm = dec.feed(tok if cfg is None else torch.cat([tok, tok]))
    z[..., : dims.informative] = model.ar.order(torch.stack(zI, 1))
    if cfg is None:  # G_R: [n, K_R], [n, K_R, d_R]; N i.i.d. vectors per sample
        rep = lambda t: t[:, None].expand(n, dims.tokens, *t.shape[1:]).reshape(n * dims.tokens, *t.shape[1:])
        red = draw_gmm(*(rep(t) for t in gmm), T_red, s_red, g)
    else:  # one pool of N s_c + N s_u candidates per sample, N draws with replacement (reading 4)
        red, fb = _guided_tokens(*halves(gmm), cfg, g, count=dims.tokens)
        red, fallbacks = red.to(device=dev, dtype=torch.float32), fallbacks + fb
    z[..., dims.informative:] = red.reshape(n, dims.tokens, dims.redundant)
    if stats is not None:
        stats["cfg_fallbacks"] = fallbacks
    return z


def tweedie(model: Farmer, x: torch.Tensor, labels, sigma: float) -> torch.Tensor:
    """TARFlow's score step x + sigma^2 grad_x log p(x), sigma the final training noise level."""
    with torch.enable_grad():
        xi = x.detach().requires_grad_(True)
        log_px = model(xi, labels)["log_px"].sum()
        (grad,) = torch.autograd.grad(log_px, xi)
    return (x + sigma * sigma * grad).detach()


@torch.no_grad()
def sample(model: Farmer, labels, seed: int = 0, T=1.0, s=1.0, T_red=None, s_red=None, denoise=None,
           attn_temp=1.0, teacher: Farmer | None = None, cfg: dict | None = None,
           stats: dict | None = None):
    """Images [n, H, W, C] in model space (not clipped) and their latents. `denoise` defaults to on
    for a Gaussian-dequantized model; a student needs its `teacher` for the Tweedie step. `cfg`:
    see guidance_options; `stats` receives "cfg_fallbacks"."""
    g = torch.Generator().manual_seed(seed)
    dev = next(model.parameters()).device
    labels = torch.as_tensor(labels, dtype=torch.long, device=dev)
    z = sample_latents(model, labels, g, T, s, T_red, s_red, cfg=cfg, stats=stats)
    x = model.decode(z, labels, temperature=attn_temp)
    dq = model.config["dequantization"]
    if denoise is None:
        denoise = dq["kind"] == "gaussian"
    if denoise:
        if dq["kind"] != "gaussian":
            raise ValueError("denoising needs a gaussian-dequantized model")
        scorer = teacher if model.student else model
        if scorer is None:
            raise ValueError("a student's Tweedie step needs its teacher's likelihood")
        x = tweedie(scorer, x, labels, final_sigma(dq))
    return x, z


def to_pixels(x: torch.Tensor, dq_kind: str) -> torch.Tensor:
    """Model space -> uint8: floor((x + 1) 128) for uniform models, round((x + 1) 127.5) for gaussian
    (halves upwards, as the engine's Math.round; torch.round would round them to even)."""
    v = torch.floor((x + 1) * 128) if dq_kind == "uniform" else torch.floor((x + 1) * 127.5 + 0.5)
    v = torch.nan_to_num(v, nan=0.0, posinf=0.0, neginf=0.0)
    return v.clamp(0, 255).to(torch.uint8)


USAGE = """python3 -m farmer_torch.sample <model> --n N --out x.npy|x.png [--class y | --null]
        [--T t --s s --T-red t --s-red s] [--cfg w --cfg-method naive|resampling
        --cfg-params T_pi=1,T_sigma=0.9,s_c=5,s_u=5,T_pi_v=0.2,T_sigma_v=0.9,T_s=1.1]
        [--attn-temp a] [--denoise | --no-denoise] [--teacher model] [--seed S] [--batch B]
        [--device cpu|cuda] [--json]

Decoupled sampling (mixture temperature T divides the logits, Gaussian scale s multiplies sigma),
naive or resampling classifier-free guidance against the null label (with --cfg, T and s are not
used; Algorithm 1's knobs are), the KV-cached AF inverse (one pass for a distilled student) and
the Tweedie step for Gaussian-dequantized models (on by default; a student needs --teacher).
A card's `sampling` settings are the defaults; every option given overrides them. Conditional
models cycle the labels 0, 1, ..., C-1 unless --class or --null. The chunk of samples starting
at sample i uses seed S + i (torch's generator: not the engine's draws). .npy: uint8 [N, H, W, C]
as `farmer sample` writes; .png: a grid. Samples with NaN/Inf are listed, written as 0."""


def parse_cfg_params(text: str | None) -> dict:
    """`T_pi=1,T_sigma=0.9,...` -> {knob: value}; unknown knobs and non-positive values are refused."""
    out = {}
    if not text:
        return out
    known = TABLE6.as_dict()
    for part in text.split(","):
        key, _, value = part.partition("=")
        if key not in known:
            raise ValueError(f'--cfg-params: unknown knob "{key}" (known: {", ".join(known)})')
        try:
            v = float(value)
        except ValueError:
            v = float("nan")
        integer = key in ("s_c", "s_u")
        if not v > 0 or v == float("inf") or (integer and v != int(v)):
            raise ValueError(f'--cfg-params: {key} must be a positive {"integer" if integer else "number"}, got "{value}"')
        out[key] = int(v) if integer else v
    return out


def _parse(argv):
    ap = argparse.ArgumentParser(prog="python3 -m farmer_torch.sample", usage=USAGE.split("\n\n")[0],
                                 description=USAGE.split("\n\n")[1])
    ap.add_argument("model")
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--out", required=True)
    who = ap.add_mutually_exclusive_group()
    who.add_argument("--class", type=int, dest="cls")
    who.add_argument("--null", action="store_true", help="a conditional model's samples with the null label")
    for name in ("T", "s", "T-red", "s-red", "attn-temp"):
        ap.add_argument(f"--{name}", type=float, dest=name.replace("-", "_"))
    ap.add_argument("--cfg", type=float)
    ap.add_argument("--cfg-method", choices=["naive", "resampling"])
    ap.add_argument("--cfg-params")
    dn = ap.add_mutually_exclusive_group()
    dn.add_argument("--denoise", action="store_true", default=None)
    dn.add_argument("--no-denoise", action="store_false", dest="denoise")
    ap.add_argument("--teacher", help="the teacher of a student, for the Tweedie step")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int)
    ap.add_argument("--json", action="store_true")
    return ap.parse_args(argv)


def settings(a, card: dict) -> dict:
    """The sampling settings: the card's `sampling` (spec section 5), each overridden by an option given."""
    rec = card.get("sampling") if isinstance(card.get("sampling"), dict) else {}
    pick = lambda opt, key, default: opt if opt is not None else rec.get(key, default)
    T, s = pick(a.T, "T", 1.0), pick(a.s, "s", 1.0)
    out = {"T": T, "s": s, "T_red": pick(a.T_red, "T_R", T), "s_red": pick(a.s_red, "s_R", s),
           "attn_temp": a.attn_temp if a.attn_temp is not None else 1.0, "denoise": pick(a.denoise, "denoise", None),
           "cfg": pick(a.cfg, "cfg", None), "cfg_method": pick(a.cfg_method, "cfg_method", "resampling")}
    for name in ("T", "s", "T_red", "s_red", "attn_temp"):
        if not out[name] > 0:
            raise ValueError(f"--{name.replace('_', '-')} must be > 0, got {out[name]}")
    return out


def main(argv=None) -> int:
    a = _parse(sys.argv[1:] if argv is None else argv)
    try:
        if a.threads:
            torch.set_num_threads(a.threads)
        if a.n < 1 or a.batch < 1:
            raise ValueError("--n and --batch must be >= 1")
        png = a.out.endswith(".png")
        if not png and not a.out.endswith(".npy"):
            raise ValueError("--out must end in .npy or .png")
        if a.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("--device cuda: no CUDA device is available")
        model, card = load_model(a.model, a.device)
        model.eval()
        o = settings(a, card)
        params = TABLE6.with_overrides(**parse_cfg_params(a.cfg_params))
        if a.cfg_params and (o["cfg"] is None or o["cfg_method"] != "resampling"):
            raise ValueError("--cfg-params needs --cfg w with --cfg-method resampling")
        C = model.config["num_classes"]
        if a.cls is not None and not 0 <= a.cls < C:
            raise ValueError("this model is unconditional: --class is not allowed" if C == 0 else f"--class must be in [0, {C - 1}]")
        if a.null or C == 0:
            labels, label_text = torch.full((a.n,), -1, dtype=torch.long), "null"
        elif a.cls is not None:
            labels, label_text = torch.full((a.n,), a.cls, dtype=torch.long), a.cls
        else:
            labels, label_text = torch.arange(a.n) % C, "cycle"
        cfg = guidance_options(o["cfg"], o["cfg_method"], params)
        if cfg is not None and (C == 0 or a.null):
            raise ValueError("--cfg needs class labels (a conditional model, without --null)")
        if cfg is not None and model.ar is None:
            raise ValueError("--cfg needs a FARMER prior (a Gaussian prior has no mixtures to guide)")
        teacher = None
        if a.teacher:
            teacher, _ = load_model(a.teacher, a.device)
            teacher.eval()
        gaussian = model.config["dequantization"]["kind"] == "gaussian"
        denoise = o["denoise"] if o["denoise"] is not None else gaussian and (not model.student or teacher is not None)
        if denoise and not gaussian:
            raise ValueError("--denoise needs a gaussian-dequantized model")
        if denoise and model.student and teacher is None:
            raise ValueError("the Tweedie step of a student needs its teacher's likelihood: pass --teacher, or --no-denoise")
    except (ValueError, CheckpointError) as e:
        print(f"farmer_torch.sample: {e}", file=sys.stderr)
        return 1

    im = model.config["image"]
    pixels = np.zeros((a.n, im["height"], im["width"], im["channels"]), np.uint8)
    non_finite, fallbacks = [], 0
    t0 = time.time()
    for start in range(0, a.n, a.batch):
        stats = {}
        x, _ = sample(model, labels[start:start + a.batch], seed=a.seed + start, T=o["T"], s=o["s"], T_red=o["T_red"],
                      s_red=o["s_red"], denoise=denoise, attn_temp=o["attn_temp"], teacher=teacher, cfg=cfg, stats=stats)
        fallbacks += stats["cfg_fallbacks"]
        finite = torch.isfinite(x.reshape(x.shape[0], -1)).all(1).cpu()
        non_finite += [start + i for i in (~finite).nonzero()[:, 0].tolist()]
        pixels[start:start + len(x)] = to_pixels(x, model.config["dequantization"]["kind"]).cpu().numpy()
        if not a.json and a.n > a.batch:
            print(f"sample: {min(a.n, start + a.batch)}/{a.n}", file=sys.stderr, flush=True)
    seconds = time.time() - t0
    try:
        if png:
            with open(a.out, "wb") as f:
                f.write(encode_png(image_grid(pixels)))
        else:
            np.save(a.out, pixels)
    except OSError as e:
        print(f"farmer_torch.sample: cannot write {a.out} ({e.strerror})", file=sys.stderr)
        return 1
    if a.json:
        print(json.dumps({
            "out": a.out, "n": a.n, "seed": a.seed, "device": a.device, "labels": label_text,
            "T": o["T"], "s": o["s"], "T_red": o["T_red"], "s_red": o["s_red"], "attn_temp": o["attn_temp"],
            "denoise": bool(denoise), "cfg": cfg["w"] if cfg else None, "cfg_method": cfg["method"] if cfg else None,
            "cfg_params": cfg["params"].as_dict() if cfg and cfg["method"] == "resampling" else None,
            "non_finite": non_finite, "cfg_fallbacks": fallbacks, "seconds": seconds,
        }))
    else:
        print(f"{a.n} samples -> {a.out} ({seconds:.1f} s on {a.device}, seed {a.seed})")
        if non_finite:
            print(f"warning: {len(non_finite)} sample(s) contain NaN or Inf (written as 0): {non_finite}", file=sys.stderr)
        if fallbacks:
            print(f"naive CFG: {fallbacks} dimension draws fell back to the conditional sample", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
