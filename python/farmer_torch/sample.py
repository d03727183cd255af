"""Sampling (docs/model.md, "Sampling"): informative tokens one by one through the AR prior with a
KV cache, N i.i.d. redundant vectors from G_R, the AF inverse, and the Tweedie step for
Gaussian-dequantized models.

The draws use torch's generator, not the engine's: the same seed gives different samples here
and in the workbench, while the same latent gives the same image (tested).
"""
from __future__ import annotations

import torch

from .config import final_sigma
from .model import Farmer, split_gmm
from .nn import make_caches, step_layers


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


@torch.no_grad()
def sample_latents(model: Farmer, labels: torch.Tensor, g: torch.Generator, T=1.0, s=1.0, T_red=None, s_red=None):
    """Z [n, N, d] from the prior (decoupled T, s; (T_R, s_R) default to (T, s))."""
    n = len(labels)
    dims = model.dims
    dev = next(model.parameters()).device
    if model.ar is None:
        return s * torch.randn(n, dims.tokens, dims.token_dim, generator=g).to(dev)
    T_red = T if T_red is None else T_red
    s_red = s if s_red is None else s_red
    dec = ArDecoder(model, n)
    z = torch.empty(n, dims.tokens, dims.token_dim, device=dev)
    gmm = dec.start(labels)
    zI = []
    for i in range(dims.tokens):
        tok = draw_gmm(*gmm, T, s, g)
        zI.append(tok)
        gmm = dec.feed(tok)
    z[..., : dims.informative] = model.ar.order(torch.stack(zI, 1))
    logits, means, sigmas = gmm  # G_R: [n, K_R], [n, K_R, d_R]
    K = logits.shape[-1]
    rep = lambda t: t[:, None].expand(n, dims.tokens, *t.shape[1:]).reshape(n * dims.tokens, *t.shape[1:])
    red = draw_gmm(rep(logits), rep(means), rep(sigmas), T_red, s_red, g)
    z[..., dims.informative:] = red.reshape(n, dims.tokens, dims.redundant)
    assert K == model.ar.KR
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
           attn_temp=1.0, teacher: Farmer | None = None):
    """Images [n, H, W, C] in model space (not clipped) and their latents. `denoise` defaults to on
    for a Gaussian-dequantized model; a student needs its `teacher` for the Tweedie step."""
    g = torch.Generator().manual_seed(seed)
    dev = next(model.parameters()).device
    labels = torch.as_tensor(labels, dtype=torch.long, device=dev)
    z = sample_latents(model, labels, g, T, s, T_red, s_red)
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
    """Model space -> uint8: floor((x + 1) 128) for uniform models, round((x + 1) 127.5) for gaussian."""
    v = torch.floor((x + 1) * 128) if dq_kind == "uniform" else torch.round((x + 1) * 127.5)
    v = torch.nan_to_num(v, nan=0.0, posinf=0.0, neginf=0.0)
    return v.clamp(0, 255).to(torch.uint8)
