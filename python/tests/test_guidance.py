"""Classifier-free guidance of the twin against closed forms (spec section 5, readings 3-4).

- naive CFG: per dimension the target N(mu_c, s_c)^(1+w) / N(mu_u, s_u)^w is the Gaussian of
  precision (1+w)/s_c^2 - w/s_u^2; where the rejection bound does not exist, the conditional draw;
- resampling CFG: with pools large enough, sampling-importance-resampling draws from the density
  prop. to s_c q_c(z) exp(T_s w D(z)) + s_u q_u(z) exp(T_s (w+1) D(z)) (q the proposals, D the
  scored log-ratio), which for knobs of 1 is p_c^(w+1) / p_u^w; checked on a grid (1-D mixtures)
  and in closed form (2-D Gaussians);
- the sampler's wiring: the first token and the redundant group of a tiny K = 1 FARMER drawn with
  guidance follow the Gaussian built from the model's own conditional and null-label heads.
"""
import math
import unittest

import numpy as np
import torch

from farmer_torch.guidance import ResamplingParams, naive_cfg, naive_cfg_scalar, resampling_cfg
from farmer_torch.model import Farmer, init_weights, split_gmm
from farmer_torch.nn import run_layers
from farmer_torch.sample import guidance_options, sample_latents

ONES = ResamplingParams(T_pi=1, T_sigma=1, s_c=1, s_u=1, T_pi_v=1, T_sigma_v=1, T_s=1)


def normal_cdf(x, mu, sd):
    return 0.5 * (1 + np.vectorize(math.erf)((x - mu) / (sd * math.sqrt(2))))


def ks(draws, cdf):
    """Kolmogorov-Smirnov distance of draws from a CDF (a function of sorted points)."""
    x = np.sort(np.asarray(draws, np.float64))
    n = len(x)
    F = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - F), np.max(F - np.arange(n) / n))


def gmm(logits, means, sigmas):
    """One mixture as a batch of one row: logits [K], means/sigmas [K][d]."""
    t = lambda v: torch.tensor(v, dtype=torch.float64)[None]
    return t(logits), t(means), t(sigmas)


def mix_pdf(x, logits, means, sigmas, logit_scale=1.0, sigma_scale=1.0):
    """1-D mixture density on a grid, written out directly."""
    w = np.exp(np.array(logits) * logit_scale)
    w /= w.sum()
    out = np.zeros_like(x)
    for wk, m, s in zip(w, np.array(means)[:, 0], np.array(sigmas)[:, 0] * sigma_scale):
        out += wk * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    return out


def grid_cdf(grid, density):
    """CDF of a density tabulated on a fine grid (trapezoids), as a function for ks()."""
    c = np.concatenate([[0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
    c /= c[-1]
    return lambda x: np.interp(x, grid, c)


def gaussian_target(mu_c, s_c, mu_u, s_u, w):
    lam = (1 + w) / s_c**2 - w / s_u**2
    return ((1 + w) * mu_c / s_c**2 - w * mu_u / s_u**2) / lam, 1 / math.sqrt(lam)


class NaiveCfg(unittest.TestCase):
    def test_bounded_target_is_the_gaussian_of_the_closed_form(self):
        g = torch.Generator().manual_seed(1)
        n = 40000
        full = lambda v: torch.full((n,), v, dtype=torch.float64)
        mu_c, s_c, mu_u, s_u, w = 0.3, 0.5, -0.2, 0.8, 1.5
        x, accepted = naive_cfg_scalar(full(mu_c), full(s_c), full(mu_u), full(s_u), w, g)
        self.assertTrue(bool(accepted.all()))
        m, sd = gaussian_target(mu_c, s_c, mu_u, s_u, w)
        self.assertLess(ks(x.numpy(), lambda t: normal_cdf(t, m, sd)), 0.01)
        self.assertGreater(ks(x.numpy(), lambda t: normal_cdf(t, mu_c, s_c)), 0.05)  # guidance moved it

    def test_unbounded_ratio_falls_back_to_the_conditional_draw(self):
        g = torch.Generator().manual_seed(2)
        n = 20000
        full = lambda v: torch.full((n,), v, dtype=torch.float64)
        # (1+w)/s_c^2 - w/s_u^2 = 2 - 4 < 0: not normalisable; and 0 < lambda < 1/s_q^2: unbounded ratio
        for mu_c, s_c, mu_u, s_u, w in [(0.1, 1.0, 0.0, 0.5, 1.0), (0.2, 1.0, 0.0, 0.72, 1.0)]:
            x, accepted = naive_cfg_scalar(full(mu_c), full(s_c), full(mu_u), full(s_u), w, g)
            self.assertFalse(bool(accepted.any()))
            self.assertLess(ks(x.numpy(), lambda t: normal_cdf(t, mu_c, s_c)), 0.012)

    def test_token_uses_one_conditional_component_for_every_dimension(self):
        g = torch.Generator().manual_seed(3)
        n = 40000
        logits, means, sigmas = [0.4, -0.3], [[-1.0, 0.5], [1.2, -0.4]], [[0.4, 0.6], [0.5, 0.3]]
        u_means, u_sigmas = [[-0.5, 0.0], [0.5, 0.2]], [[0.9, 0.9], [0.8, 0.7]]
        w = 2.0
        rep = lambda t: t.expand(n, *t.shape[1:])
        cond = tuple(rep(t) for t in gmm(logits, means, sigmas))
        uncond = tuple(rep(t) for t in gmm([5.0, -5.0], u_means, u_sigmas))  # its weights must not matter
        x, fallbacks = naive_cfg(cond, uncond, w, g)
        self.assertEqual(fallbacks, 0)
        pi = np.exp(logits) / np.exp(logits).sum()
        targets = [[gaussian_target(means[k][j], sigmas[k][j], u_means[k][j], u_sigmas[k][j], w) for j in range(2)] for k in range(2)]
        marginal = lambda t: sum(pi[k] * normal_cdf(t, *targets[k][0]) for k in range(2))
        self.assertLess(ks(x[:, 0].numpy(), marginal), 0.01)
        # the two dimensions share k: P(x0 > 0, x1 > 0) is the mixture of products
        joint = sum(pi[k] * (1 - normal_cdf(0.0, *targets[k][0])) * (1 - normal_cdf(0.0, *targets[k][1])) for k in range(2))
        self.assertAlmostEqual(float(((x[:, 0] > 0) & (x[:, 1] > 0)).double().mean()), float(joint), delta=0.01)


class ResamplingCfg(unittest.TestCase):
    cond = ([0.2, -0.2], [[-1.0], [1.0]], [[0.5], [0.7]])
    uncond = ([0.0, 0.0], [[-0.5], [0.8]], [[1.2], [1.5]])

    def limit_density(self, grid, w, p: ResamplingParams):
        """s_c q_c exp(T_s w D) + s_u q_u exp(T_s (w+1) D) on the grid, D scored with (T_pi_v, T_sigma_v)."""
        qc = mix_pdf(grid, *self.cond, p.T_pi, p.T_sigma)
        qu = mix_pdf(grid, *self.uncond, p.T_pi, p.T_sigma)
        D = np.log(mix_pdf(grid, *self.cond, p.T_pi_v, p.T_sigma_v)) - np.log(mix_pdf(grid, *self.uncond, p.T_pi_v, p.T_sigma_v))
        return p.s_c * qc * np.exp(p.T_s * w * D) + p.s_u * qu * np.exp(p.T_s * (w + 1) * D)

    def draws(self, w, p, n, seed):
        g = torch.Generator().manual_seed(seed)
        out = resampling_cfg(gmm(*self.cond), gmm(*self.uncond), w, p, g, count=n, pool_scale=n)
        self.assertEqual(tuple(out.shape), (1, n, 1))
        return out[0, :, 0].numpy()

    def test_knobs_of_one_draw_from_pc_to_the_w_plus_1_over_pu_to_the_w(self):
        grid = np.linspace(-8, 8, 40001)
        w = 1.5
        target = mix_pdf(grid, *self.cond) ** (w + 1) / mix_pdf(grid, *self.uncond) ** w
        x = self.draws(w, ONES.with_overrides(s_c=5, s_u=5), 40000, 4)
        self.assertLess(ks(x, grid_cdf(grid, target)), 0.012)
        self.assertGreater(ks(x, grid_cdf(grid, mix_pdf(grid, *self.cond))), 0.05)

    def test_table6_knobs_follow_the_limit_of_their_pools(self):
        grid = np.linspace(-8, 8, 40001)
        p = ResamplingParams(T_pi=0.5, T_sigma=0.9, s_c=3, s_u=7, T_pi_v=0.2, T_sigma_v=0.9, T_s=1.1)
        x = self.draws(2.5, p, 40000, 5)
        self.assertLess(ks(x, grid_cdf(grid, self.limit_density(grid, 2.5, p))), 0.012)
        # and not the knobs-of-one target: the knobs do something
        ones = mix_pdf(grid, *self.cond) ** 3.5 / mix_pdf(grid, *self.uncond) ** 2.5
        self.assertGreater(ks(x, grid_cdf(grid, ones)), 0.03)

    def test_two_dimensional_gaussians_in_closed_form(self):
        g = torch.Generator().manual_seed(6)
        mu_c, s_c, mu_u, s_u, w = [0.5, -0.3], [0.6, 0.4], [0.0, 0.2], [1.0, 0.9], 3.0
        n = 30000
        x = resampling_cfg(gmm([0.0], [mu_c], [s_c]), gmm([0.0], [mu_u], [s_u]), w, ONES.with_overrides(s_c=4, s_u=4), g,
                           count=n, pool_scale=n)[0].numpy()
        for j in range(2):
            m, sd = gaussian_target(mu_c[j], s_c[j], mu_u[j], s_u[j], w)
            self.assertLess(ks(x[:, j], lambda t: normal_cdf(t, m, sd)), 0.012)
        self.assertLess(abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1]), 0.02)


def tiny_farmer(K=1):
    cfg = {
        "image": {"height": 4, "width": 4, "channels": 1}, "patch_size": 2, "num_classes": 3,
        "af": {"blocks": 1, "layers_per_block": 1, "width": 16, "head_dim": 8, "mlp_ratio": 2, "class_conditional": False, "soft_clip": 0},
        "prior": {"kind": "farmer", "informative_dims": 2, "cond_repeat": 2, "final_permute": True,
                  "mixtures_informative": K, "mixtures_redundant": K, "ar": {"layers": 1, "width": 16, "head_dim": 8, "mlp_ratio": 2}},
        "dequantization": {"kind": "uniform"}, "label_dropout": 0.1,
    }
    model = init_weights(Farmer(cfg), seed=2)
    with torch.no_grad():  # a head whose output depends on the label
        model.ar.cond_embed.mul_(40)
        model.ar.head_info.weight.mul_(20)
        model.ar.head_red.weight.mul_(20)
    return model.eval()


def heads(model, labels, zI=None):
    """From one full causal pass over [c_0 .. c_{M-1}, u_1 .. u_N] (spec section 4): G_1 of each
    row, or with the informative tokens zI [B, N, d_I] (raster order) its G_R."""
    ar = model.ar
    seq = ar.prefix(labels)
    if zI is not None:
        seq = torch.cat([seq, ar.proj_in(ar.order(zI)) + ar.order(ar.pos_embed)], 1)
    h = ar.norm(run_layers(ar.layers, seq))[:, -1]
    if zI is None:
        return tuple(t.detach().double() for t in split_gmm(ar.head_info(h), ar.KI, ar.dI))
    return tuple(t.detach().double() for t in split_gmm(ar.head_red(h), ar.KR, ar.dR))


def guided_pit(z, cond, uncond, w):
    """Probability integral transforms of draws z [B, T, d] under the exact per-row target of a
    K = 1 mixture pair: the Gaussian p_c^(w+1)/p_u^w where naive CFG's rejection bound exists,
    the conditional Gaussian where it does not (uniform on [0, 1] when z follows them)."""
    mc, sc, mu, su = cond[1][:, 0], cond[2][:, 0], uncond[1][:, 0], uncond[2][:, 0]  # [B, d]
    lam = (1 + w) / sc**2 - w / su**2
    bounded = lam > 1 / (2 * torch.maximum(sc, su)) ** 2
    safe = torch.where(bounded, lam, torch.ones_like(lam))
    m = torch.where(bounded, ((1 + w) * mc / sc**2 - w * mu / su**2) / safe, mc)
    sd = torch.where(bounded, safe.rsqrt(), sc)
    u = (z.double() - m[:, None]) / sd[:, None]
    return (0.5 * (1 + torch.erf(u / math.sqrt(2)))).flatten().numpy(), bounded


class GuidedSampler(unittest.TestCase):
    def test_tokens_follow_the_conditional_and_null_heads(self):
        """The first informative token and the redundant group of a K = 1 model drawn with
        guidance, against the exact targets built from full passes with the label and the null label."""
        model = tiny_farmer()
        n, w, y = 3000, 2.0, 2
        labels = torch.full((n,), y)
        g1 = heads(model, torch.tensor([y, -1]))
        first = model.dims.tokens - 1 if model.ar.flip else 0  # raster index of AR token 0 (rho flips for odd n)
        # resampling: s_u = 1, because the weights (p_c/p_u)^(w+1) of unconditional candidates are
        # heavy-tailed when p_u lies far from the target; the limit is the same p_c^(w+1)/p_u^w
        for method, params in [("naive", None), ("resampling", ONES.with_overrides(s_c=100, s_u=1))]:
            with self.subTest(method=method):
                stats = {}
                z = sample_latents(model, labels, torch.Generator().manual_seed(7), cfg=guidance_options(w, method, params), stats=stats)
                for j in range(model.ar.dI):
                    m, sd = gaussian_target(float(g1[1][0, 0, j]), float(g1[2][0, 0, j]), float(g1[1][1, 0, j]), float(g1[2][1, 0, j]), w)
                    self.assertLess(ks(z[:, first, j].numpy(), lambda t: normal_cdf(t, m, sd)), 0.03)
                    self.assertGreater(abs(m - float(g1[1][0, 0, j])), 0.2)  # guidance moves the token
                zI, zR = z[..., : model.ar.dI], z[..., model.ar.dI:]
                cond, uncond = heads(model, labels, zI), heads(model, torch.full((n,), -1), zI)
                pit, bounded = guided_pit(zR, cond, uncond, w)
                self.assertGreater(float(bounded.double().mean()), 0.5)
                self.assertLess(ks(pit, lambda t: t), 0.02)
                plain, _ = guided_pit(zR, cond, cond, 0.0)  # the unguided conditional G_R: rejected
                self.assertGreater(ks(plain, lambda t: t), 0.05)
                if method == "naive":
                    self.assertEqual(stats["cfg_fallbacks"], int((~bounded).sum()) * model.dims.tokens)

    def test_labels_are_required_for_guidance(self):
        model = tiny_farmer()
        with self.assertRaisesRegex(ValueError, "needs a class label"):
            sample_latents(model, torch.tensor([0, -1]), torch.Generator(), cfg=guidance_options(1.0))


if __name__ == "__main__":
    unittest.main()
