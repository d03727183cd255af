"""FARMER as a torch.nn.Module whose state_dict() keys and shapes are the spec's tensor names.

    af.blocks.{k}.*   the autoregressive flow (Eqs. 8-10), data -> latent
    ar.*              the AR Transformer prior with GMM heads (section 3.3, Eq. 14)

Forward returns every term the engine reports (logdet per block and per token, log prior split
into informative and redundant parts, log p(x), NLL per dim, BPD). See docs/model.md.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import Dims, check_config, dims_of
from .nn import make_caches, make_layers, run_layers, step_layers

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
SIGMA_FLOOR = 1e-6
NULL_LABEL = -1


def patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    """[B, H, W, C] -> [B, N, d], raster tokens, channel-major inside a token (c p^2 + r p + s)."""
    B, H, W, C = x.shape
    t = x.reshape(B, H // p, p, W // p, p, C).permute(0, 1, 3, 5, 2, 4)  # [B, h, w, C, r, s]
    return t.reshape(B, (H // p) * (W // p), C * p * p)


def unpatchify(z: torch.Tensor, p: int, H: int, W: int, C: int) -> torch.Tensor:
    B = z.shape[0]
    t = z.reshape(B, H // p, W // p, C, p, p).permute(0, 1, 4, 2, 5, 3)  # [B, h, r, w, s, C]
    return t.reshape(B, H, W, C)


def square_plus(r: torch.Tensor) -> torch.Tensor:
    """(r + sqrt(r^2 + 4))/2, as 2/(sqrt(r^2 + 4) - r) for r < 0; each branch sees only its sign."""
    pos, neg = F.relu(r), torch.clamp(r, max=0)
    return (pos + torch.sqrt(pos * pos + 4)) / 2 * (2 / (torch.sqrt(neg * neg + 4) - neg))


def split_gmm(out: torch.Tensor, K: int, d: int):
    """Head output [..., K(1 + 2d)] laid out [logits K | means K d | raw K d], component-major."""
    lead = out.shape[:-1]
    logits, means, raw = out.split([K, K * d, K * d], dim=-1)
    sigmas = torch.clamp(square_plus(raw), min=SIGMA_FLOOR)
    return logits, means.reshape(*lead, K, d), sigmas.reshape(*lead, K, d)


def gmm_log_density(logits, means, sigmas, z):
    """log G(z) = logsumexp_k [log_softmax(logits)_k + sum_j log N(z_j; mu_kj, sigma_kj)]; z [..., d] -> [...]."""
    u = (z.unsqueeze(-2) - means) / sigmas
    per = (-0.5 * u * u - torch.log(sigmas) - HALF_LOG_2PI).sum(-1)
    return torch.logsumexp(F.log_softmax(logits, -1) + per, -1)


def null_row_onehot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """[B, C+1]: the null label is row C (the AR's learned null embedding)."""
    idx = torch.where(labels < 0, torch.full_like(labels, num_classes), labels)
    return F.one_hot(idx, num_classes + 1).float()


def class_mixture(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """[B, C]: one-hot rows; the null label is the mean of the class rows (class-conditional AF)."""
    w = F.one_hot(labels.clamp(min=0), num_classes).float()
    return torch.where((labels < 0)[:, None], torch.full_like(w, 1 / num_classes), w)


class AfBlock(nn.Module):
    """f_k: z~ = (x~ - b) * exp(-a) in block k's token order (identity for even k, flipped for odd)."""

    def __init__(self, cfg: dict, k: int, dims: Dims):
        super().__init__()
        af = cfg["af"]
        W, d, N = af["width"], dims.token_dim, dims.tokens
        self.d, self.flip, self.soft_clip = d, k % 2 == 1, af["soft_clip"]
        self.num_classes = cfg["num_classes"]
        self.proj_in = nn.Linear(d, W)
        self.pos_embed = nn.Parameter(torch.zeros(N, W))
        self.class_embed = nn.Parameter(torch.zeros(cfg["num_classes"], W)) if af["class_conditional"] else None
        self.layers = make_layers(af["layers_per_block"], W, af["head_dim"], af["mlp_ratio"])
        self.proj_out = nn.Linear(W, 2 * d)  # rows [0, d) = a (log-scale), [d, 2d) = b (shift)

    def permute(self, x: torch.Tensor, dim: int = -2) -> torch.Tensor:
        """pi_k along the token axis (dim -2 of [B, N, d] and of [N, W]; pass dim=1 for [B, N])."""
        return x.flip(dim) if self.flip else x

    def _embed(self, xt, labels, pos):
        h = self.proj_in(xt) + pos
        if self.class_embed is not None:
            h = h + (class_mixture(labels, self.num_classes) @ self.class_embed)[:, None]
        return h

    def _affine(self, o: torch.Tensor):
        o = o.float()
        if self.soft_clip > 0:
            o = self.soft_clip * torch.tanh(o / self.soft_clip)
        return o[..., : self.d], o[..., self.d:]

    def affine(self, xt, labels, causal=True, temperature=1.0):
        """Shifted (a, b) [B, N, d] each from permuted tokens x~: token i depends on tokens < i only."""
        h = run_layers(self.layers, self._embed(xt, labels, self.permute(self.pos_embed)), causal, temperature)
        a, b = self._affine(self.proj_out(h))
        shift = lambda t: F.pad(t[:, :-1], (0, 0, 1, 0))  # o'_0 = 0, o'_i = o_{i-1}
        return shift(a), shift(b)

    def forward(self, x, labels):
        """Eqs. 8-10: returns Z^{k+1} [B, N, d] and -sum_j a_ij per token in raster order [B, N]."""
        xt = self.permute(x)
        a, b = self.affine(xt, labels)
        zt = (xt - b) * torch.exp(-a)
        return self.permute(zt), self.permute(-a.sum(-1), dim=1)

    @torch.no_grad()
    def inverse(self, z, labels, temperature=1.0):
        """Sequential with a KV cache: x~_0 = z~_0; x~_{i+1} = z~_{i+1} exp(a) + b from tokens <= i."""
        zt = self.permute(z)
        B, N, d = zt.shape
        pos = self.permute(self.pos_embed)
        caches = make_caches(self.layers, B, N, zt.device, self.proj_in.weight.dtype)
        out = [zt[:, :1]]
        for i in range(N - 1):
            h = step_layers(self.layers, self._embed(out[i], labels, pos[i:i + 1]), caches, temperature)
            a, b = self._affine(self.proj_out(h))
            out.append(zt[:, i + 1:i + 2] * torch.exp(a) + b)
        return self.permute(torch.cat(out, 1))

    def student(self, z, labels):
        """g_k of the one-step student (Algorithm 2): bidirectional, one parallel pass, x~ = z~ exp(a) + b."""
        zt = self.permute(z)
        a, b = self.affine(zt, labels, causal=False)
        return self.permute(zt * torch.exp(a) + b)


class ArPrior(nn.Module):
    """The AR Transformer over [c_0 ... c_{M-1}, u_1 ... u_N] with GMM heads (spec section 4)."""

    def __init__(self, cfg: dict, dims: Dims):
        super().__init__()
        p = cfg["prior"]
        ar = p["ar"]
        A, N = ar["width"], dims.tokens
        self.num_classes, self.M = cfg["num_classes"], p["cond_repeat"]
        self.dI, self.dR = dims.informative, dims.redundant
        self.KI, self.KR = p["mixtures_informative"], p["mixtures_redundant"]
        self.flip = p["final_permute"] and cfg["af"]["blocks"] % 2 == 1  # rho continues the AF's alternation
        self.cond_embed = nn.Parameter(torch.zeros(cfg["num_classes"] + 1, A))
        self.cond_pos = nn.Parameter(torch.zeros(self.M, A))
        self.proj_in = nn.Linear(self.dI, A)
        self.pos_embed = nn.Parameter(torch.zeros(N, A))
        self.layers = make_layers(ar["layers"], A, ar["head_dim"], ar["mlp_ratio"])
        self.norm = nn.LayerNorm(A, eps=1e-5)
        self.head_info = nn.Linear(A, self.KI * (1 + 2 * self.dI))
        self.head_red = nn.Linear(A, self.KR * (1 + 2 * self.dR))

    def order(self, x, dim: int = -2):
        """rho along the token axis (dim -2 of [B, N, .] and [N, A]; dim=1 for [B, N])."""
        return x.flip(dim) if self.flip else x

    def prefix(self, labels):
        """c_m = cond_embed[y] + cond_pos[m]: [B, M, A]"""
        return (null_row_onehot(labels, self.num_classes) @ self.cond_embed)[:, None] + self.cond_pos

    def log_prob(self, z, labels):
        """Per token in raster order [B, N] each: log G_i(zI_i) and log G_R(zR_i)."""
        B, N, _ = z.shape
        zI, zR = z[..., : self.dI], z[..., self.dI:]
        zIo = self.order(zI)  # AR order rho
        u = self.proj_in(zIo) + self.order(self.pos_embed)
        h = self.norm(run_layers(self.layers, torch.cat([self.prefix(labels), u], 1))).float()  # [B, M+N, A]
        # the output at position M-1+i predicts G_{i+1}; the last one (at u_N) predicts G_R
        gi = split_gmm(self.head_info(h[:, self.M - 1:self.M - 1 + N]).float(), self.KI, self.dI)
        gr = split_gmm(self.head_red(h[:, self.M + N - 1:]).float(), self.KR, self.dR)
        info = self.order(gmm_log_density(*gi, zIo), dim=1)
        red = gmm_log_density(*gr, zR)  # G_R broadcasts over the N tokens
        return info, red


class Farmer(nn.Module):
    """The whole model: log p(x) = log p(Z) + sum_k logdet_k (Eq. 14)."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.config = check_config(cfg)
        self.dims = dims_of(cfg)
        self.af = nn.Module()
        self.af.blocks = nn.ModuleList(AfBlock(cfg, k, self.dims) for k in range(cfg["af"]["blocks"]))
        self.ar = ArPrior(cfg, self.dims) if cfg["prior"]["kind"] == "farmer" else None

    @property
    def student(self) -> bool:
        return bool(self.config.get("student", False))

    def labels_for(self, labels, B: int, device) -> torch.Tensor:
        C = self.config["num_classes"]
        if labels is None:
            return torch.full((B,), NULL_LABEL, dtype=torch.long, device=device)
        labels = torch.as_tensor(labels, dtype=torch.long, device=device)
        if labels.shape != (B,):
            raise ValueError(f"labels: expected {B} labels, got shape {tuple(labels.shape)}")
        if C == 0 and bool((labels != NULL_LABEL).any()):
            raise ValueError("labels given to an unconditional model (num_classes = 0)")
        if bool(((labels < NULL_LABEL) | (labels >= C)).any()):
            raise ValueError(f"labels outside [-1, {C - 1}]")
        return labels

    def check_images(self, x: torch.Tensor) -> None:
        if self.student:
            raise ValueError("a distilled student only maps latents to images; it has no likelihood")
        im = self.config["image"]
        want = (im["height"], im["width"], im["channels"])
        if x.dim() != 4 or tuple(x.shape[1:]) != want:
            raise ValueError(f"images: expected [B, {want[0]}, {want[1]}, {want[2]}], got {list(x.shape)}")

    def af_forward(self, x_tokens, labels, keep_latents=False):
        z, per_block, per_token, latents = x_tokens, [], [], []
        for block in self.af.blocks:
            z, ld = block(z, labels)
            per_token.append(ld)
            per_block.append(ld.sum(1))
            if keep_latents:
                latents.append(z)
        return z, torch.stack(per_block, 1), torch.stack(per_token, 1), latents

    def prior_terms(self, z, labels):
        if self.ar is None:
            red = (-0.5 * z * z - HALF_LOG_2PI).sum(-1)
            return torch.zeros_like(red), red
        return self.ar.log_prob(z, labels)

    def forward(self, x, labels=None, keep_latents=False) -> dict:
        """x: model-space images [B, H, W, C]. Returns the spec's per-image terms (nats except bpd)."""
        self.check_images(x)
        y = self.labels_for(labels, x.shape[0], x.device)
        z, per_block, per_token, latents = self.af_forward(patchify(x, self.config["patch_size"]), y, keep_latents)
        info, red = self.prior_terms(z, y)
        logdet = per_block.sum(1)
        log_prior = info.sum(1) + red.sum(1)
        log_px = log_prior + logdet
        nll = -log_px / self.dims.pixels
        return {
            "z": z, "latents": latents, "logdet_total": logdet, "logdet_per_block": per_block,
            "logdet_per_token": per_token, "log_prior": log_prior, "log_prior_informative": info,
            "log_prior_redundant": red, "log_px": log_px, "nll_per_dim": nll,
            "bpd": (nll + math.log(128)) / math.log(2),
        }

    def nll_per_dim(self, x, labels=None) -> torch.Tensor:
        return self.forward(x, labels)["nll_per_dim"]

    def loss(self, x, labels=None) -> torch.Tensor:
        """Eq. 14: the batch mean of -log p(x)/(N d)."""
        return self.nll_per_dim(x, labels).mean()

    @torch.no_grad()
    def decode(self, z, labels=None, start_block=None, temperature=1.0) -> torch.Tensor:
        """Z^{start} [B, N, d] -> images [B, H, W, C] in model space: the AF inverse, or the student's one pass."""
        y = self.labels_for(labels, z.shape[0], z.device)
        blocks = self.af.blocks[: len(self.af.blocks) if start_block is None else start_block]
        for block in reversed(blocks):
            z = block.student(z, y) if self.student else block.inverse(z, y, temperature)
        im = self.config["image"]
        return unpatchify(z, self.config["patch_size"], im["height"], im["width"], im["channels"])


def init_weights(model: Farmer, seed: int = 0) -> Farmer:
    """N(0, 0.02) weights and embeddings, zero biases, unit LayerNorms, zero proj_out (every block
    starts at the identity), GMM head biases whose component means differ (N(0, 0.5))."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1)
            elif "proj_out" in name or (name.endswith(".bias") and not name.startswith("ar.head_")):
                p.zero_()
            elif name.startswith("ar.head_") and name.endswith(".bias"):
                K = model.ar.KR if "head_red" in name else model.ar.KI
                d = model.ar.dR if "head_red" in name else model.ar.dI
                p.zero_()
                p[K:K + K * d] = torch.randn(K * d, generator=g) * 0.5
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)
    return model
