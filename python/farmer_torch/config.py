"""The model configuration (spec section 7): validation and derived sizes."""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass


class ConfigError(ValueError):
    pass


def _need(obj: dict, key: str, path: str):
    if not isinstance(obj, dict):
        raise ConfigError(f"config: {path} must be an object")
    if key not in obj:
        raise ConfigError(f"config: {path}.{key} is missing")
    return obj[key]


def _int(obj: dict, key: str, path: str, lo: int = 0, hi: int = 1 << 20) -> int:
    v = _need(obj, key, path)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v:
        raise ConfigError(f"config: {path}.{key} must be an integer, got {v!r}")
    if not lo <= v <= hi:
        raise ConfigError(f"config: {path}.{key} must be in [{lo}, {hi}], got {v}")
    return int(v)


def _num(obj: dict, key: str, path: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    v = _need(obj, key, path)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ConfigError(f"config: {path}.{key} must be a finite number, got {v!r}")
    if not lo <= v <= hi:
        raise ConfigError(f"config: {path}.{key} must be in [{lo}, {hi}], got {v}")
    return float(v)


def _bool(obj: dict, key: str, path: str) -> bool:
    v = _need(obj, key, path)
    if not isinstance(v, bool):
        raise ConfigError(f"config: {path}.{key} must be true or false, got {v!r}")
    return v


def _transformer(o: dict, path: str) -> None:
    width = _int(o, "width", path, 1, 1 << 16)
    head_dim = _int(o, "head_dim", path, 1, 1 << 16)
    ratio = _num(o, "mlp_ratio", path, 1e-9, 64)
    if width % head_dim:
        raise ConfigError(f"config: {path}.width {width} is not a multiple of head_dim {head_dim}")
    if ratio * width != int(ratio * width):
        raise ConfigError(f"config: {path}.mlp_ratio*width = {ratio * width} is not an integer")


def check_config(cfg: dict) -> dict:
    """Validates a config dict (the fields the engine requires); returns it unchanged."""
    image = _need(cfg, "image", "config")
    h = _int(image, "height", "image", 1, 4096)
    w = _int(image, "width", "image", 1, 4096)
    _int(image, "channels", "image", 1, 64)
    p = _int(cfg, "patch_size", "config", 1, 256)
    if h % p or w % p:
        raise ConfigError(f"config: image {h}x{w} is not divisible by patch_size {p}")
    nc = _int(cfg, "num_classes", "config", 0, 1 << 16)
    af = _need(cfg, "af", "config")
    _int(af, "blocks", "af", 1, 1024)
    _int(af, "layers_per_block", "af", 0, 1024)
    _transformer(af, "af")
    if _bool(af, "class_conditional", "af") and nc < 1:
        raise ConfigError("config: af.class_conditional needs num_classes >= 1")
    _num(af, "soft_clip", "af", 0)
    prior = _need(cfg, "prior", "config")
    kind = _need(prior, "kind", "prior")
    d = image["channels"] * p * p
    if kind == "farmer":
        dI = _int(prior, "informative_dims", "prior", 1)
        if dI >= d:
            raise ConfigError(f"config: prior.informative_dims {dI} must be < d = {d}")
        _int(prior, "cond_repeat", "prior", 1, 4096)
        _bool(prior, "final_permute", "prior")
        _int(prior, "mixtures_informative", "prior", 1, 1 << 14)
        _int(prior, "mixtures_redundant", "prior", 1, 1 << 14)
        ar = _need(prior, "ar", "prior")
        _int(ar, "layers", "prior.ar", 0, 1024)
        _transformer(ar, "prior.ar")
    elif kind != "gaussian":
        raise ConfigError(f'config: prior.kind must be "gaussian" or "farmer", got {kind!r}')
    dq = _need(cfg, "dequantization", "config")
    dk = _need(dq, "kind", "dequantization")
    if dk == "gaussian":
        for key in ("sigma_max", "sigma_min"):
            if key in dq:
                _num(dq, key, "dequantization", 0)
        if dq.get("schedule", "cosine") not in ("cosine", "fixed"):
            raise ConfigError(f'config: dequantization.schedule must be "cosine" or "fixed", got {dq["schedule"]!r}')
    elif dk != "uniform":
        raise ConfigError(f'config: dequantization.kind must be "uniform" or "gaussian", got {dk!r}')
    _num(cfg, "label_dropout", "config", 0, 1)
    return cfg


@dataclass(frozen=True)
class Dims:
    tokens: int  # N
    token_dim: int  # d = C p^2
    pixels: int  # H W C
    informative: int  # d_I (= d for a gaussian prior)
    redundant: int  # d_R = d - d_I


def dims_of(cfg: dict) -> Dims:
    im = cfg["image"]
    p = cfg["patch_size"]
    n = (im["height"] // p) * (im["width"] // p)
    d = im["channels"] * p * p
    dI = cfg["prior"]["informative_dims"] if cfg["prior"]["kind"] == "farmer" else d
    return Dims(n, d, im["height"] * im["width"] * im["channels"], dI, d - dI)


def gaussian_sigma(dq: dict, t: float) -> float:
    """sigma(t) of the gaussian dequantization at training progress t in [0, 1] (spec section 1)."""
    smax = dq.get("sigma_max", 0.1)
    smin = dq.get("sigma_min", 0.005)
    if dq.get("schedule", "cosine") == "fixed":
        return smax
    t = min(1.0, max(0.0, t))
    return smin + (smax - smin) * (1 + math.cos(math.pi * t)) / 2


def final_sigma(dq: dict) -> float:
    """The sigma at the end of training: the one the Tweedie step uses."""
    return gaussian_sigma(dq, 1.0)


def student_config(cfg: dict) -> dict:
    out = copy.deepcopy(cfg)
    out["student"] = True
    return out
