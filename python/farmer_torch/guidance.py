"""Classifier-free guidance for GMM tokens (spec section 5, readings 3-4), as the engine does it
(src/lib/farmer/guidance.ts), batched over rows and drawn with a torch generator:

- naive CFG (JetFormer/GIVT): one component k from the conditional weights, then per dimension an
  exact rejection sampler for N(mu_c, s_c)^(1+w) / N(mu_u, s_u)^w;
- resampling CFG (Algorithm 1, Eq. 15): sampling-importance-resampling from s_c conditional and
  s_u unconditional candidates.

A mixture here is a tuple (logits [R, K], means [R, K, d], sigmas [R, K, d]), one row per token.
The arithmetic is float64 on the CPU, like the engine's.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import torch

LOG_2PI = math.log(2 * math.pi)
MAX_TRIES = 1000


@dataclass(frozen=True)
class ResamplingParams:
    """Algorithm 1's knobs; the defaults are the paper's Table 6 preset."""

    T_pi: float = 1.0  # multiplies the proposal logits
    T_sigma: float = 0.9  # multiplies the proposal sigma
    s_c: int = 5  # conditional candidates per token
    s_u: int = 5  # unconditional candidates per token
    T_pi_v: float = 0.2  # multiplies the logits when scoring
    T_sigma_v: float = 0.9  # multiplies sigma when scoring
    T_s: float = 1.1  # multiplies the resampling log-weights

    def with_overrides(self, **knobs) -> "ResamplingParams":
        return replace(self, **knobs)

    def as_dict(self) -> dict:
        return asdict(self)


TABLE6 = ResamplingParams()
TABLE6_W = 2.5


def _cpu64(gmm):
    return tuple(t.detach().to("cpu", torch.float64) for t in gmm)


def _categorical(log_w: torch.Tensor, count: int, g: torch.Generator) -> torch.Tensor:
    """[R, n] log-weights -> [R, count] indices drawn with replacement; a row of no finite weight
    draws uniformly (the engine's categorical then returns the last index; neither arises from a finite GMM)."""
    log_w = torch.nan_to_num(log_w, nan=-math.inf)
    dead = ~torch.isfinite(log_w).any(-1, keepdim=True)
    log_w = torch.where(dead, torch.zeros_like(log_w), log_w)
    probs = torch.softmax(log_w, -1)
    return torch.multinomial(probs, count, replacement=True, generator=g)


def draw_component(logits: torch.Tensor, logit_scale: float, g: torch.Generator) -> torch.Tensor:
    """k ~ Categorical(softmax(logits * logit_scale)): [R, K] -> [R]"""
    return _categorical(logits * logit_scale, 1, g)[:, 0]


def log_density(gmm, z: torch.Tensor, logit_scale: float = 1.0, sigma_scale: float = 1.0) -> torch.Tensor:
    """log G(z) with the logits times `logit_scale` and sigma times `sigma_scale` (Algorithm 1's
    scoring temperatures). gmm rows [R, ...], z [R, n, d] -> [R, n]."""
    logits, means, sigmas = gmm
    sig = sigmas * sigma_scale  # [R, K, d]
    u = (z[:, :, None, :] - means[:, None]) / sig[:, None]  # [R, n, K, d]
    per = (-0.5 * u * u - torch.log(sig)[:, None] - 0.5 * LOG_2PI).sum(-1)  # [R, n, K]
    log_w = torch.log_softmax(logits * logit_scale, -1)[:, None]  # [R, 1, K]
    return torch.logsumexp(log_w + per, -1)


def draw_scaled(gmm, count: int, logit_scale: float, sigma_scale: float, g: torch.Generator) -> torch.Tensor:
    """`count` draws per row from the mixture with logits * logit_scale and sigma * sigma_scale: [R, count, d]"""
    logits, means, sigmas = gmm
    R, K, d = means.shape
    k = _categorical(logits * logit_scale, count, g)  # [R, count]
    rows = torch.arange(R)[:, None]
    eps = torch.randn(R, count, d, generator=g, dtype=torch.float64)
    return means[rows, k] + sigma_scale * sigmas[rows, k] * eps


def resampling_cfg(cond, uncond, w: float, p: ResamplingParams, g: torch.Generator, count: int = 1,
                   pool_scale: int = 1) -> torch.Tensor:
    """Eq. 15 by sampling-importance-resampling. Per row, a pool of pool_scale*s_c candidates from
    the conditional mixture (logits * T_pi, sigma * T_sigma) and pool_scale*s_u from the
    unconditional one; Delta = log p_c - log p_u under (T_pi_v, T_sigma_v); log-weights T_s*w*Delta
    for conditional candidates and T_s*(w+1)*Delta for unconditional ones; `count` draws with
    replacement. count = pool_scale = 1 is one token; the redundant group uses count = pool_scale = N.
    Returns [R, count, d] (float64, CPU)."""
    cond, uncond = _cpu64(cond), _cpu64(uncond)
    nc, nu = p.s_c * pool_scale, p.s_u * pool_scale
    pool = torch.cat([draw_scaled(cond, nc, p.T_pi, p.T_sigma, g), draw_scaled(uncond, nu, p.T_pi, p.T_sigma, g)], 1)
    delta = log_density(cond, pool, p.T_pi_v, p.T_sigma_v) - log_density(uncond, pool, p.T_pi_v, p.T_sigma_v)  # [R, n]
    mult = torch.cat([torch.full((nc,), float(w)), torch.full((nu,), float(w) + 1)]).to(torch.float64)
    picks = _categorical(p.T_s * mult * delta, count, g)  # [R, count]
    return pool[torch.arange(pool.shape[0])[:, None], picks]


def _log_normal(x, mu, sigma):
    u = (x - mu) / sigma
    return -0.5 * u * u - torch.log(sigma) - 0.5 * LOG_2PI


def _log_ratio(x, mu_c, s_c, mu_u, s_u, s_q, w: float):
    """log of target / proposal, target N(mu_c, s_c)^(1+w) / N(mu_u, s_u)^w, proposal N(mu_c, s_q)."""
    return (1 + w) * _log_normal(x, mu_c, s_c) - w * _log_normal(x, mu_u, s_u) - _log_normal(x, mu_c, s_q)


def naive_cfg_scalar(mu_c, s_c, mu_u, s_u, w: float, g: torch.Generator, max_tries: int = MAX_TRIES):
    """Elementwise (float64 tensors of one shape): rejection-sample prop. to
    N(mu_c, s_c)^(1+w) / N(mu_u, s_u)^w from the proposal N(mu_c, 2 max(s_c, s_u)), at most
    `max_tries` tries, else the conditional draw. The log-ratio target/proposal is a quadratic
    A x^2 + B x + c; when A < 0 its maximum bounds the acceptance probability exactly, otherwise
    the ratio is unbounded and the conditional draw is used. Returns (values, accepted mask)."""
    s_q = 2 * torch.maximum(s_c, s_u)
    A = -(1 + w) / (2 * s_c * s_c) + w / (2 * s_u * s_u) + 1 / (2 * s_q * s_q)
    B = (1 + w) * mu_c / (s_c * s_c) - w * mu_u / (s_u * s_u) - mu_c / (s_q * s_q)
    bounded = A < 0
    peak = torch.where(bounded, -B / (2 * torch.where(bounded, A, -torch.ones_like(A))), mu_c)
    bound = _log_ratio(peak, mu_c, s_c, mu_u, s_u, s_q, w)
    out = torch.zeros_like(mu_c)
    pending = bounded.clone()
    for _ in range(max_tries):
        idx = pending.nonzero(as_tuple=True)
        n = idx[0].numel()
        if n == 0:
            break
        x = mu_c[idx] + s_q[idx] * torch.randn(n, generator=g, dtype=torch.float64)
        u = torch.rand(n, generator=g, dtype=torch.float64)
        ok = torch.log(u) < _log_ratio(x, mu_c[idx], s_c[idx], mu_u[idx], s_u[idx], s_q[idx], w) - bound[idx]
        keep = tuple(i[ok] for i in idx)
        out[keep] = x[ok]
        pending[keep] = False
    accepted = bounded & ~pending
    fallback = ~accepted
    n = int(fallback.sum())
    if n:
        out[fallback] = mu_c[fallback] + s_c[fallback] * torch.randn(n, generator=g, dtype=torch.float64)
    return out, accepted


def naive_cfg(cond, uncond, w: float, g: torch.Generator):
    """Naive CFG for a token per row: one component k from the conditional weights (T = 1), then
    each dimension with k's parameters of both mixtures (reading 3). Returns ([R, d] float64, the
    number of dimension draws that fell back to the conditional sample)."""
    cond, uncond = _cpu64(cond), _cpu64(uncond)
    k = draw_component(cond[0], 1.0, g)
    rows = torch.arange(len(k))
    pick = lambda t: t[rows, k]  # [R, d]
    out, accepted = naive_cfg_scalar(pick(cond[1]), pick(cond[2]), pick(uncond[1]), pick(uncond[2]), w, g)
    return out, int((~accepted).sum())
